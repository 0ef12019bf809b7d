import Foundation
import RankerTestSupport
import XCTest

/// The Python of the ONNX tests (onnx, onnxruntime, numpy) and the programs they run.
enum ONNXTestSupport {
    /// The folder holding `Package.swift`.
    static var repositoryRoot: URL { BuiltExecutable.repositoryRoot }

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

    /// Runs `program arguments…`, output through files (no pipe can fill up).
    static func run(_ program: String, _ arguments: [String], in temporary: URL,
                    environment extra: [String: String] = [:]) throws -> BuiltExecutable.Outcome {
        let url = URL(fileURLWithPath: program)
        return try BuiltExecutable(name: url.lastPathComponent, explicitURL: url)
            .run(arguments, environment: extra, temporary: temporary)
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
