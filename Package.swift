// swift-tools-version:6.0
// Ranker: multitask ranking models trained on the CPU with hand-written backward
// passes; every matrix product on CBLAS (OpenBLAS), every small solve on LAPACKE.
import PackageDescription

let package = Package(
    name: "Ranker",
    platforms: [.macOS(.v13)],
    products: [
        .library(name: "Ranker", targets: ["Ranker"]),
        .library(name: "RankerReport", targets: ["RankerReport"]),
        .library(name: "RankerExperiments", targets: ["RankerExperiments"]),
        .library(name: "RankerDistributed", targets: ["RankerDistributed"]),
        .executable(name: "ranker", targets: ["ranker"]),
        // Test program of `make faults`: training with faults injected (faults/injector).
        .executable(name: "ranker-fault-inject", targets: ["ranker-fault-inject"]),
    ],
    dependencies: [
        .package(url: "https://github.com/apple/swift-argument-parser", from: "1.5.0"),
        // Counts heap allocations for `ranker bench` (linked into the executable only).
        .package(url: "https://github.com/ordo-one/malloc-interposer", from: "1.6.0"),
        // Protocol buffers for the ONNX export (the runtime only; the message code is generated once and committed).
        .package(url: "https://github.com/apple/swift-protobuf", from: "1.39.0"),
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
        // System library: Open MPI's mpi.h and libmpi (flags from `pkg-config ompi-c`).
        .systemLibrary(
            name: "CMPI",
            path: "Modules/CMPI",
            pkgConfig: "ompi-c",
            providers: [.apt(["libopenmpi-dev", "openmpi-bin"])]
        ),
        // C functions returning the MPI handles mpi.h defines as macros (MPI_COMM_WORLD, MPI_FLOAT, MPI_SUM, …).
        .target(
            name: "CMPIShim",
            dependencies: ["CMPI"],
            path: "Sources/CMPIShim"
        ),
        // The layers' elementwise and column-reduction loops in C, each compiled for AVX-512, AVX2 and
        // baseline x86-64, the widest the CPU has picked at load time (bitwise the same results on each),
        // and the choice of OpenBLAS kernels on a CPU OpenBLAS does not know (BLASKernelChoice).
        .target(
            name: "CRankerKernels",
            dependencies: ["CBLAS"],
            path: "Sources/CRankerKernels"
        ),
        // The core: linear algebra, layers, models, losses, metrics, optimizers,
        // balancers, data, the training loop, checkpoints, telemetry writing.
        .target(
            name: "Ranker",
            dependencies: ["CBLAS", "CZlib", "CRankerKernels"],
            path: "Sources/Ranker"
        ),
        // report.html from a run's telemetry (reads the core's telemetry records).
        .target(
            name: "RankerReport",
            dependencies: ["Ranker"],
            path: "Sources/RankerReport"
        ),
        // Data-parallel training over MPI: the communicator behind the core's DataParallelGroup.
        .target(
            name: "RankerDistributed",
            dependencies: ["Ranker", "CMPI", "CMPIShim"],
            path: "Sources/RankerDistributed"
        ),
        // Model, weighting and stability comparisons; benchmark workloads.
        .target(
            name: "RankerExperiments",
            dependencies: ["Ranker", "RankerReport"],
            path: "Sources/RankerExperiments"
        ),
        // ONNX export: the scoring graph of every model kind as an ONNX model (onnx.proto messages
        // generated once into third_party/onnx/, see third_party/onnx/README.md). Its own target so the core does not
        // depend on swift-protobuf; Swift 6 language mode.
        .target(
            name: "RankerONNX",
            dependencies: ["Ranker", .product(name: "SwiftProtobuf", package: "swift-protobuf")],
            path: "Sources/RankerONNX",
            exclude: ["third_party/onnx/README.md", "third_party/onnx/onnx.proto"],
            swiftSettings: [.swiftLanguageMode(.v6)]
        ),
        .executableTarget(
            name: "ranker",
            dependencies: [
                "Ranker",
                "RankerReport",
                "RankerExperiments",
                "RankerDistributed",
                "RankerONNX",
                .product(name: "ArgumentParser", package: "swift-argument-parser"),
                .product(name: "MallocInterposerSwift", package: "malloc-interposer"),
            ],
            path: "Sources/ranker"
        ),
        // Fault injection for faults/nan_step.py (issue 14): not part of `ranker`.
        .executableTarget(
            name: "ranker-fault-inject",
            dependencies: ["Ranker"],
            path: "faults/injector"
        ),
        .executableTarget(
            name: "mlp-demo",
            dependencies: ["Ranker"],
            path: "examples/mlp-demo"
        ),
        .executableTarget(
            name: "census-mmoe",
            dependencies: ["Ranker", "RankerExperiments", .product(name: "ArgumentParser", package: "swift-argument-parser")],
            path: "examples/census-mmoe",
            exclude: ["config.json"]
        ),
        .executableTarget(
            name: "aliccp-esmm",
            dependencies: ["Ranker", "RankerExperiments", .product(name: "ArgumentParser", package: "swift-argument-parser")],
            path: "examples/aliccp-esmm",
            exclude: ["config.json"]
        ),
        .executableTarget(
            name: "weighting",
            dependencies: ["Ranker", "RankerExperiments", .product(name: "ArgumentParser", package: "swift-argument-parser")],
            path: "examples/weighting",
            exclude: ["config.json"]
        ),
        .executableTarget(
            name: "stability",
            dependencies: ["Ranker", "RankerExperiments", "RankerDistributed", .product(name: "ArgumentParser", package: "swift-argument-parser")],
            path: "examples/stability",
            exclude: ["stability.json"]
        ),
        // `__lsan_is_turned_off` for the test executable only (make sanitize-asan; see the file).
        .target(
            name: "CTestProcessLeakCheck",
            path: "Tests/CTestProcessLeakCheck"
        ),
        // A constructor that puts the test process on the kernels the executables run on (BLASKernelChoice).
        .target(
            name: "CTestBLASKernels",
            dependencies: ["CRankerKernels"],
            path: "Tests/CTestBLASKernels"
        ),
        // What the test targets share: running the package's built executables (and python, mpirun).
        .target(
            name: "RankerTestSupport",
            path: "Tests/RankerTestSupport"
        ),
        .testTarget(
            name: "RankerTests",
            dependencies: ["Ranker", "RankerReport", "RankerExperiments", "RankerTestSupport", "CTestProcessLeakCheck",
                           "CTestBLASKernels", "CRankerKernels"],
            path: "Tests/RankerTests"
        ),
        // Extensions written outside the library (`import Ranker`, no @testable):
        // proof that a user can plug in a method without forking.
        .testTarget(
            name: "RankerExtensionTests",
            dependencies: ["Ranker"],
            path: "Tests/RankerExtensionTests"
        ),
        // The ONNX export against onnx's checker and onnxruntime (a Python venv `make test` creates).
        .testTarget(
            name: "RankerONNXTests",
            dependencies: ["Ranker", "RankerONNX", "RankerTestSupport"],
            path: "Tests/RankerONNXTests"
        ),
    ],
    swiftLanguageModes: [.v5]
)
