import Foundation
import XCTest

/// The Python of the ONNX tests (onnx, onnxruntime, numpy) and the programs they run.
enum ONNXTestSupport {
    /// The folder holding `Package.swift`, found upwards from this file.
    static let repositoryRoot: URL = {
        var directory = URL(fileURLWithPath: #filePath).deletingLastPathComponent()
        while directory.path != "/" {
            if FileManager.default.fileExists(atPath: directory.appendingPathComponent("Package.swift").path) {
                return directory
            }
            directory.deleteLastPathComponent()
        }
        return URL(fileURLWithPath: FileManager.default.currentDirectoryPath)
    }()

    static var scoreScript: String { repositoryRoot.appendingPathComponent("tools/onnx_score.py").path }

    /// `RANKER_ONNX_PYTHON`, else `.venv-onnx/bin/python` of the repository (`make onnx-venv`).
    /// Missing: a failure under `CI=true`, else a skip.
    static func python() throws -> String {
        let environment = ProcessInfo.processInfo.environment
        let path = environment["RANKER_ONNX_PYTHON"]
            ?? repositoryRoot.appendingPathComponent(".venv-onnx/bin/python").path
        if FileManager.default.isExecutableFile(atPath: path) { return path }
        let message = "\(path) does not exist: `make onnx-venv` (which `make test` runs) creates it"
        if environment["CI"] == "true" {
            XCTFail(message)
            throw ONNXTestFailure(message: message)
        }
        print("skipping: \(message)")
        throw XCTSkip(message)
    }

    /// `.build/release/<name>`, which `make test` builds. Missing: a failure under `CI=true`, else a skip.
    static func executable(_ name: String) throws -> String {
        let path = repositoryRoot.appendingPathComponent(".build/release/\(name)").path
        if FileManager.default.isExecutableFile(atPath: path) { return path }
        let message = "\(path) is not built; `make test` builds it (or: swift build -c release -Xswiftc -enable-testing --product \(name))"
        if ProcessInfo.processInfo.environment["CI"] == "true" {
            XCTFail(message)
            throw ONNXTestFailure(message: message)
        }
        print("skipping: \(message)")
        throw XCTSkip(message)
    }

    struct Outcome {
        var status: Int32
        var standardOutput: String
        var standardError: String
    }

    /// Runs `program arguments…`, output through files (no pipe can fill up).
    static func run(_ program: String, _ arguments: [String], in temporary: URL,
                    environment extra: [String: String] = [:]) throws -> Outcome {
        let id = UUID().uuidString
        let outURL = temporary.appendingPathComponent("stdout-\(id)")
        let errURL = temporary.appendingPathComponent("stderr-\(id)")
        _ = FileManager.default.createFile(atPath: outURL.path, contents: nil)
        _ = FileManager.default.createFile(atPath: errURL.path, contents: nil)
        let out = try FileHandle(forWritingTo: outURL)
        let err = try FileHandle(forWritingTo: errURL)
        let process = Process()
        process.executableURL = URL(fileURLWithPath: program)
        process.arguments = arguments
        process.environment = ProcessInfo.processInfo.environment.merging(extra) { $1 }
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

    /// Little-endian float32 values of a file.
    static func readFloats(_ url: URL) throws -> [Float] {
        let data = try Data(contentsOf: url)
        return data.withUnsafeBytes { raw in
            (0..<(data.count / 4)).map { Float(bitPattern: UInt32(littleEndian: raw.loadUnaligned(fromByteOffset: 4 * $0, as: UInt32.self))) }
        }
    }

    /// A predictions CSV (`ranker predict`, `onnx_score.py score-csv`): header and rows of numbers.
    static func readScores(_ url: URL) throws -> (header: [String], rows: [[Double]]) {
        let lines = String(decoding: try Data(contentsOf: url), as: UTF8.self).split(separator: "\n").map(String.init)
        let header = lines.first.map { $0.split(separator: ",").map(String.init) } ?? []
        let rows = try lines.dropFirst().enumerated().map { i, line in
            try line.split(separator: ",").map { cell -> Double in
                guard let value = Double(cell) else { throw ONNXTestFailure(message: "\(url.path):\(i + 2): \(cell) is not a number") }
                return value
            }
        }
        return (header, rows)
    }
}

struct ONNXTestFailure: Error, CustomStringConvertible {
    let message: String
    var description: String { message }
}
