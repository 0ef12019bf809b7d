import Foundation
import XCTest
@testable import Ranker

/// Inputs that used to exhaust memory or give misleading errors: a file
/// without line breaks, a header of millions of empty columns, a user id
/// beyond Int64, a kept column that does not exist, control bytes in a value.
final class InputLimitTests: XCTestCase {
    var directory: URL!

    override func setUpWithError() throws {
        directory = FileManager.default.temporaryDirectory.appendingPathComponent("input-limits-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: directory, withIntermediateDirectories: true)
    }

    override func tearDownWithError() throws {
        if let directory { try? FileManager.default.removeItem(at: directory) }
    }

    func write(_ name: String, _ bytes: [UInt8]) throws -> String {
        let url = directory.appendingPathComponent(name)
        try Data(bytes).write(to: url)
        return url.path
    }

    func schema(_ format: String = "{}", user: Bool = false) throws -> DataSchema {
        try DataSchema.decode(Data(("""
            {"format": \(format), "split": {"rule": "all_train"},
             "columns": [{"column": "y", "role": "label"}, {"column": "x", "role": "dense"}\(user ? #", {"column": "u", "role": "user"}"# : "")]}
            """).utf8), source: "s.json")
    }

    func loadError(_ schema: DataSchema, _ path: String) -> DataError? {
        do {
            _ = try CSVDatasetLoader.load(schema: schema, sources: [CSVSource(path: path)], chunkSize: 64)
            return nil
        } catch {
            return error as? DataError
        }
    }

    /// Before: the reader doubled its buffer without bound (`predict --input /dev/zero` aborted allocating 2 GiB).
    func testARecordLongerThanTheLimitIsAnErrorNamingFileLineAndLimit() throws {
        let path = try write("long.csv", Array("y,x\n1,2\n".utf8) + [UInt8](repeating: 0x30, count: 5000))
        let error = loadError(try schema(#"{"max_record_bytes": 1024}"#), path)
        XCTAssertEqual(error, DataError(file: path, line: 3, problem: .recordTooLarge(limit: 1024)))
        XCTAssertEqual(error?.description, "\(path):3: a record reaches 1024 bytes without ending (the limit: the schema's "
                       + "format.max_record_bytes, default 67108864); expected a CSV file with one record per line")
        // The default is 64 MiB, and a record below the limit reads as before.
        XCTAssertEqual(CSVFormat().maxRecordBytes, nil)
        XCTAssertEqual(CSVFormat.defaultMaxRecordBytes, 64 << 20)
        let fine = try write("fine.csv", Array("y,x\n1,2\n0,3\n".utf8))
        XCTAssertEqual(try CSVDatasetLoader.load(schema: try schema(#"{"max_record_bytes": 16}"#), sources: [CSVSource(path: fine)],
                                                 chunkSize: 16).count, 2)
    }

    /// Before: a 10 MB header of commas took 679 MB.
    func testTooManyColumnsIsAnError() throws {
        let path = try write("wide.csv", Array(("y,x" + String(repeating: ",", count: 300) + "\n").utf8))
        let error = loadError(try schema(#"{"max_columns": 100}"#), path)
        XCTAssertEqual(error, DataError(file: path, line: 1, problem: .tooManyFields(limit: 100)))
        XCTAssertEqual(error?.description, "\(path):1: a record has more than 100 fields (the limit: the schema's "
                       + "format.max_columns, default 100000)")
        XCTAssertEqual(CSVFormat.defaultMaxColumns, 100_000)
    }

    func testLimitsAreValidated() throws {
        XCTAssertThrowsError(try schema(#"{"max_record_bytes": 8}"#).validate()) { error in
            XCTAssertTrue("\(error)".hasSuffix("format.max_record_bytes: must be at least 16, got 8"), "\(error)")
        }
        XCTAssertThrowsError(try schema(#"{"max_columns": 0}"#).validate()) { error in
            XCTAssertTrue("\(error)".hasSuffix("format.max_columns: must be at least 1, got 0"), "\(error)")
        }
    }

    /// Before: `expected an integer, found "9223372036854775808"`.
    func testAUserIdBeyondInt64IsOutOfRange() throws {
        let path = try write("users.csv", Array("y,x,u\n1,2,9223372036854775808\n".utf8))
        let error = loadError(try schema(user: true), path)
        XCTAssertEqual(error?.description, "\(path):2: column 3 (u): the integer 9223372036854775808 is out of range; "
                       + "expected -9223372036854775808 to 9223372036854775807")
        let fine = try write("users-ok.csv", Array("y,x,u\n1,2,9223372036854775807\n0,1,-9223372036854775808\n".utf8))
        XCTAssertEqual(try CSVDatasetLoader.load(schema: try schema(user: true), path: fine).users, [.max, .min])
        let word = try write("users-word.csv", Array("y,x,u\n1,2,12a\n".utf8))
        XCTAssertEqual(loadError(try schema(user: true), word)?.problem, .unparsableInteger(found: "12a"))
    }

    /// Before: the NUL and escape bytes went into the message raw.
    func testControlBytesInValuesAreEscaped() throws {
        let path = try write("nul.csv", Array("y,x\n1,2\u{0}\u{1B}[2J\n".utf8))
        let error = try XCTUnwrap(loadError(try schema(), path))
        XCTAssertEqual(error.description, "\(path):2: column 2 (x): expected a number, found \"2\\u{00}\\u{1B}[2J\"")
    }

    /// Before: `the schema names column "nonexist", which the header does not have` for `predict --keep nonexist`.
    func testAKeptColumnThatDoesNotExistListsTheColumns() throws {
        let train = try write("train.csv", Array("y,x\n1,2\n0,3\n".utf8))
        let encoding = try XCTUnwrap(DatasetEncoding(dataset: try CSVDatasetLoader.load(schema: try schema(), path: train)))
        XCTAssertThrowsError(try CSVDatasetLoader.load(encoding: encoding, path: train, labels: .ignored, keep: [.name("nonexist")])) { error in
            XCTAssertEqual("\(error)", "\(train):1: no column \"nonexist\" to keep; the columns are: y, x")
        }
    }
}
