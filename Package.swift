// swift-tools-version:6.0
// Ranker: multitask ranking models trained on the CPU with hand-written backward
// passes; every matrix product on CBLAS (OpenBLAS), every small solve on LAPACKE.
import PackageDescription

let package = Package(
    name: "Ranker",
    platforms: [.macOS(.v13)],
    products: [
        .library(name: "Ranker", targets: ["Ranker"]),
        .executable(name: "ranker", targets: ["ranker"]),
    ],
    dependencies: [
        .package(url: "https://github.com/apple/swift-argument-parser", from: "1.5.0"),
        // Counts heap allocations for `ranker bench` (linked into the executable only).
        .package(url: "https://github.com/ordo-one/malloc-interposer", from: "1.6.0"),
    ],
    targets: [
        // System library: cblas.h + lapacke.h, linking openblas and lapacke.
        .systemLibrary(
            name: "CBLAS",
            path: "Modules/CBLAS",
            pkgConfig: "openblas",
            providers: [.apt(["libopenblas-dev", "liblapacke-dev", "pkg-config"])]
        ),
        // System library: zlib, to stream gzip-compressed CSV files.
        .systemLibrary(
            name: "CZlib",
            path: "Modules/CZlib",
            providers: [.apt(["zlib1g-dev"])]
        ),
        .target(
            name: "Ranker",
            dependencies: ["CBLAS", "CZlib"],
            path: "Sources/Ranker"
        ),
        .executableTarget(
            name: "ranker",
            dependencies: [
                "Ranker",
                .product(name: "ArgumentParser", package: "swift-argument-parser"),
                .product(name: "MallocInterposerSwift", package: "malloc-interposer"),
            ],
            path: "Sources/ranker"
        ),
        .executableTarget(
            name: "mlp-demo",
            dependencies: ["Ranker"],
            path: "examples/mlp-demo"
        ),
        .executableTarget(
            name: "census-mmoe",
            dependencies: ["Ranker", .product(name: "ArgumentParser", package: "swift-argument-parser")],
            path: "examples/census-mmoe",
            exclude: ["config.json"]
        ),
        .executableTarget(
            name: "aliccp-esmm",
            dependencies: ["Ranker", .product(name: "ArgumentParser", package: "swift-argument-parser")],
            path: "examples/aliccp-esmm",
            exclude: ["config.json"]
        ),
        .executableTarget(
            name: "weighting",
            dependencies: ["Ranker", .product(name: "ArgumentParser", package: "swift-argument-parser")],
            path: "examples/weighting",
            exclude: ["config.json"]
        ),
        .executableTarget(
            name: "stability",
            dependencies: ["Ranker", .product(name: "ArgumentParser", package: "swift-argument-parser")],
            path: "examples/stability",
            exclude: ["stability.json"]
        ),
        .testTarget(
            name: "RankerTests",
            dependencies: ["Ranker"],
            path: "Tests/RankerTests"
        ),
    ],
    swiftLanguageModes: [.v5]
)
