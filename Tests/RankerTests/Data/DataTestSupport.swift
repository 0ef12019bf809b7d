import Foundation
import XCTest
@testable import Ranker

/// Helpers for data tests: temporary CSV files and the shared data folder.
enum DataTestSupport {
    /// Writes `text` (bytes exactly as given) to a fresh temporary file and returns its path.
    static func temporaryFile(_ text: String, name: String = "data.csv") -> String {
        temporaryFile(bytes: Array(text.utf8), name: name)
    }

    static func temporaryFile(bytes: [UInt8], name: String = "data.csv") -> String {
        let folder = FileManager.default.temporaryDirectory
            .appendingPathComponent("ranker-data-tests-\(ProcessInfo.processInfo.processIdentifier)-\(UUID().uuidString)")
        try! FileManager.default.createDirectory(at: folder, withIntermediateDirectories: true)
        let url = folder.appendingPathComponent(name)
        try! Data(bytes).write(to: url)
        return url.path
    }

    /// `relative` under the data roots, or an `XCTSkip` that says where it looked.
    static func sharedFile(_ relative: String, file: String = #filePath) throws -> String {
        do {
            return try DataLocation.locateData([relative], filePath: file)
        } catch let notFound as DataLocation.NotFound {
            print("skipping: \(notFound)")
            throw XCTSkip("\(relative) not found (set RANKER_DATA): \(notFound)")
        }
    }

    /// The first `count` lines of a file (plain or gzip), without their line breaks.
    static func firstLines(of path: String, count: Int) throws -> [String] {
        let source = try openByteSource(path: path)
        var bytes: [UInt8] = []
        var lineBreaks = 0
        let chunk = UnsafeMutablePointer<UInt8>.allocate(capacity: 1 << 16)
        defer { chunk.deallocate() }
        while lineBreaks < count {
            let n = try source.read(into: chunk, capacity: 1 << 16)
            if n == 0 { break }
            let read = UnsafeBufferPointer(start: chunk, count: n)
            lineBreaks += read.reduce(0) { $0 + ($1 == 0x0A ? 1 : 0) }
            bytes += read
        }
        return String(decoding: bytes, as: UTF8.self).split(separator: "\n", omittingEmptySubsequences: false)
            .prefix(count).map(String.init)
    }

    /// A shipped schema from `schemas/`.
    static func shippedSchema(_ name: String, file: String = #filePath) throws -> DataSchema {
        try DataLocation.shippedSchema(named: name, filePath: file)
    }

    /// Runs `body`, expecting a `DataError`, and returns it (fails the test otherwise).
    static func dataError(_ body: () throws -> Void, file: StaticString = #filePath, line: UInt = #line) -> DataError? {
        do {
            try body()
            XCTFail("expected a DataError, got success", file: file, line: line)
        } catch let error as DataError {
            return error
        } catch {
            XCTFail("expected a DataError, got \(type(of: error)): \(error)", file: file, line: line)
        }
        return nil
    }

    /// Runs `body`, expecting a `SchemaError`, and returns it.
    static func schemaError(_ body: () throws -> Void, file: StaticString = #filePath, line: UInt = #line) -> SchemaError? {
        do {
            try body()
            XCTFail("expected a SchemaError, got success", file: file, line: line)
        } catch let error as SchemaError {
            return error
        } catch {
            XCTFail("expected a SchemaError, got \(type(of: error)): \(error)", file: file, line: line)
        }
        return nil
    }
}
