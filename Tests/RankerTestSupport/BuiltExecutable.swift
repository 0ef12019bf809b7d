import Foundation
import XCTest

/// An executable of this package as a user runs it: `.build/release/<name>`,
/// which `make test` builds (the tests never build it). Output goes through
/// files, so no pipe can fill up. Shared by the test targets (RankerTests,
/// RankerONNXTests), which also use it to run other programs (python, mpirun).
public struct BuiltExecutable {
    public struct Outcome {
        public var status: Int32
        public var standardOutput: String
        public var standardError: String
    }

    /// The folder holding `Package.swift`, found upwards from this file.
    public static let repositoryRoot: URL = {
        var directory = URL(fileURLWithPath: #filePath).deletingLastPathComponent()
        while directory.path != "/" {
            if FileManager.default.fileExists(atPath: directory.appendingPathComponent("Package.swift").path) {
                return directory
            }
            directory.deleteLastPathComponent()
        }
        return URL(fileURLWithPath: FileManager.default.currentDirectoryPath)
    }()

    public let name: String
    /// Another program to run instead of `.build/release/<name>` (mpirun launching it).
    public var explicitURL: URL?
    public var url: URL { explicitURL ?? Self.buildDirectory.appendingPathComponent(name) }

    public init(name: String, explicitURL: URL? = nil) {
        self.name = name
        self.explicitURL = explicitURL
    }

    /// Where the executables are: `.build/release`, or `RANKER_BUILD_DIR`
    /// (`make sanitize` points it at the sanitized build, `.build-asan/release`,
    /// so that the programs the tests start run under the sanitizer too).
    public static var buildDirectory: URL {
        if let directory = ProcessInfo.processInfo.environment["RANKER_BUILD_DIR"], !directory.isEmpty {
            return URL(fileURLWithPath: directory, relativeTo: repositoryRoot).standardizedFileURL
        }
        return repositoryRoot.appendingPathComponent(".build/release")
    }

    /// Runs the executable with `arguments` in a fresh folder under
    /// `temporary`, with this process's environment plus `extra` and without
    /// the variables `removing`; skips the test when the executable is not built.
    public func run(_ arguments: [String], environment extra: [String: String] = [:], removing: [String] = [],
                    temporary: URL) throws -> Outcome {
        guard FileManager.default.isExecutableFile(atPath: url.path) else {
            print("skipping: \(url.path) is not built")
            throw XCTSkip("\(url.path) is not built; `make test` builds it "
                          + "(or: swift build -c release -Xswiftc -enable-testing --product \(name))")
        }
        let id = UUID().uuidString
        let outURL = temporary.appendingPathComponent("stdout-\(id)")
        let errURL = temporary.appendingPathComponent("stderr-\(id)")
        _ = FileManager.default.createFile(atPath: outURL.path, contents: nil)
        _ = FileManager.default.createFile(atPath: errURL.path, contents: nil)
        let out = try FileHandle(forWritingTo: outURL)
        let err = try FileHandle(forWritingTo: errURL)
        let process = Process()
        process.executableURL = url
        process.arguments = arguments
        var environment = ProcessInfo.processInfo.environment.merging(extra) { $1 }
        for name in removing { environment[name] = nil }
        process.environment = environment
        process.standardOutput = out
        process.standardError = err
        try process.run()
        process.waitUntilExit()
        try out.close()
        try err.close()
        return Outcome(status: process.terminationStatus,
                       standardOutput: String(decoding: try Data(contentsOf: outURL), as: UTF8.self),
                       standardError: String(decoding: try Data(contentsOf: errURL), as: UTF8.self))
    }
}
