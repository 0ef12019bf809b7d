import Foundation
import XCTest
@testable import Ranker

/// The strict line parser against values written out by hand from RFC 8259.
final class JSONValueTests: XCTestCase {
    private func parse(_ text: String) throws -> JSONValue { try JSONValue.parse(Array(text.utf8)) }

    func testParsesEveryKindOfValue() throws {
        XCTAssertEqual(try parse(" {\"a\": [1, -2.5, 3e2, 0.1E-1, null, true, false], \"b\": {}, \"c\": []} "),
                       .object(["a": .array([.number(1), .number(-2.5), .number(300), .number(0.01), .null, .bool(true), .bool(false)]),
                                "b": .object([:]), "c": .array([])]))
        XCTAssertEqual(try parse("\"tab\\t quote\\\" slash\\/ back\\\\ nl\\n \\u00e9 \\ud83d\\ude00 é\""),
                       .string("tab\t quote\" slash/ back\\ nl\n é 😀 é"))
        XCTAssertEqual(try parse("{\"k\": 1, \"k\": 2}"), .object(["k": .number(2)]), "last repeated key wins")
        XCTAssertEqual(try parse("-0"), .number(0))
        XCTAssertEqual(try parse("0.30000000000000004"), .number(0.30000000000000004), "correctly rounded")
        XCTAssertEqual(try parse("1e400"), .number(.infinity))
    }

    func testRejectsWhatJSONForbids() {
        for bad in ["", "{", "{\"a\": 1", "{\"a\" 1}", "{a: 1}", "[1,]", "[1 2]", "01", "1.", ".5", "-", "+1", "1e", "NaN",
                    "tru", "nul", "\"abc", "\"a\u{1}b\"", "\"\\x\"", "\"\\ud83d\"", "\"\\ude00\"", "\"\\u12\"", "1 2", "{} x"] {
            XCTAssertThrowsError(try parse(bad), bad)
        }
        XCTAssertThrowsError(try JSONValue.parse([0x22, 0xFF, 0x22]), "invalid UTF-8")
        XCTAssertThrowsError(try parse(String(repeating: "[", count: 100) + String(repeating: "]", count: 100)), "nesting limit")
        XCTAssertNoThrow(try parse(String(repeating: "[", count: 30) + String(repeating: "]", count: 30)))
    }

    func testParseErrorsSayWhere() {
        XCTAssertThrowsError(try parse("{\"a\": 1,, }")) { error in
            XCTAssertEqual((error as? JSONValue.ParseError)?.offset, 8)
        }
    }
}
