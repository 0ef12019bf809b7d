import Foundation
import XCTest
@testable import Ranker

/// What a configuration file with a mistake is told: the key path and what
/// was expected for a wrong value (not "not valid JSON"), the line and column
/// of a syntax error, a key written twice, control characters escaped.
final class ConfigurationErrorMessageTests: XCTestCase {
    func message(_ json: String) -> String {
        do {
            _ = try decodeConfiguration(RunConfiguration.self, data: Data(json.utf8), file: "run.json")
            return "accepted"
        } catch {
            return "\(error)"
        }
    }

    func run(training: String) -> String {
        #"{"data": {"source": "synthetic"}, "model": {"model": "mmoe"}, "training": "# + training + "}"
    }

    /// Before: `run.json: The given data was not valid JSON.` (or the decoder's own words) for each.
    func testWrongValuesNameTheKeyAndWhatWasExpected() {
        XCTAssertEqual(message(run(training: #"{"epochs": 1.5}"#)),
                       "run.json: training.epochs: expected an integer from -9223372036854775808 to 9223372036854775807, found 1.5")
        XCTAssertEqual(message(run(training: #"{"seed": -5}"#)),
                       "run.json: training.seed: expected an integer from 0 to 18446744073709551615, found -5")
        XCTAssertEqual(message(run(training: #"{"batch_size": 1e20}"#)),
                       "run.json: training.batch_size: expected an integer from -9223372036854775808 to 9223372036854775807, found 1e+20")
        XCTAssertEqual(message(run(training: #"{"epochs": "3"}"#)),
                       "run.json: training.epochs: expected an integer from -9223372036854775808 to 9223372036854775807, found \"3\"")
        XCTAssertEqual(message(#"{"data": {"source": "synthetic"}, "model": {"model": "mmoe", "gate_bias": 1}}"#),
                       "run.json: model.gate_bias: expected true or false, found 1")
    }

    /// Before: `The given data was not valid JSON.` with no position.
    func testSyntaxErrorsGiveLineAndColumn() {
        XCTAssertEqual(message("{\n  \"data\": {\"source\": \"synthetic\"},\n  \"model\": {\"model\": \"mmoe\",}\n}"),
                       "run.json: line 3, column 29 (model): expected a key in quotes, found \"}\"")
        XCTAssertEqual(message("{\"name\": \"a\"\n \"data\": 1}"),
                       "run.json: line 2, column 2: expected \",\" or \"}\" after a value, found \"\"\"")
        XCTAssertEqual(message("{\"name\": \"a"), "run.json: line 1, column 12 (name): a string is not closed before the end of the text")
        XCTAssertEqual(message("{\"name\": tru}"), "run.json: line 1, column 10 (name): expected true, found \"t\"")
    }

    /// Before: the first of two values was used silently.
    func testDuplicateKeysAreRejectedWithTheirPath() {
        XCTAssertEqual(message(#"{"data": {"source": "synthetic"}, "model": {"model": "mmoe"}, "training": {"epochs": 1, "epochs": 5}}"#),
                       "run.json: line 1, column 89 (training.epochs): the key \"epochs\" appears twice in one object; keep one")
        XCTAssertEqual(message(#"{"name": "a", "name": "b"}"#),
                       "run.json: line 1, column 15 (name): the key \"name\" appears twice in one object; keep one")
    }

    /// Schemas and encoding files are read with the same check (before: the
    /// first of two `role`s was used; a syntax error had no position).
    func testSchemaAndEncodingFilesRejectDuplicateKeysAndGiveSyntaxPositions() throws {
        XCTAssertThrowsError(try DataSchema.decode(Data(#"{"columns": [{"column": "y", "role": "label", "role": "dense"}]}"#.utf8),
                                                   source: "s.json")) { error in
            XCTAssertEqual("\(error)", #"s.json: columns[0].role: invalid JSON: line 1, column 47: the key "role" appears twice in one object; keep one"#)
        }
        XCTAssertThrowsError(try DataSchema.decode(Data("{\"columns\": [\n}".utf8), source: "s.json")) { error in
            XCTAssertEqual("\(error)", #"s.json: columns[0]: invalid JSON: line 2, column 1: expected a value (object, array, string, number, true, false or null), found "}""#)
        }
        let file = FileManager.default.temporaryDirectory.appendingPathComponent("encoding-\(UUID().uuidString).json")
        defer { try? FileManager.default.removeItem(at: file) }
        try Data(#"{"format": "ranker-encoding/1", "format": "x"}"#.utf8).write(to: file)
        XCTAssertThrowsError(try DatasetEncoding.load(path: file.path)) { error in
            XCTAssertEqual("\(error)", "\(file.path): line 1, column 33 (format): the key \"format\" appears twice in one object; keep one")
        }
    }

    /// Before: a NUL or escape character in a key was printed as it is.
    func testControlCharactersAreEscaped() {
        let text = message(#"{"data": {"source": "synthetic"}, "model": {"model": "mmoe", "a\u0000b\u001b[31m": 1}}"#)
        XCTAssertTrue(text.hasPrefix(#"run.json: model.a\u{00}b\u{1B}[31m: unknown key "a\u{00}b\u{1B}[31m" in model"#), text)
        XCTAssertFalse(text.unicodeScalars.contains { $0.value < 0x20 }, text)
        XCTAssertEqual(DiagnosticText.visible("a\tb\nc\u{7F}\u{85}é"), #"a\tb\nc\u{7F}\u{85}é"#)
    }
}
