import XCTest
@testable import Ranker

/// Number parsing from bytes against the standard library's correctly
/// rounded `Double(String)` and hand-picked cases.
final class ByteNumberParsingTests: XCTestCase {
    func parse(_ text: String) -> Double? {
        let bytes = Array(text.utf8)
        return bytes.withUnsafeBufferPointer { ByteNumberParsing.parseDouble($0.baseAddress!, count: $0.count) }
    }

    func parseInt(_ text: String) -> Int64? {
        let bytes = Array(text.utf8)
        return bytes.withUnsafeBufferPointer { ByteNumberParsing.parseInt64($0.baseAddress!, count: $0.count) }
    }

    func testAcceptedForms() {
        XCTAssertEqual(parse("0"), 0)
        XCTAssertEqual(parse("-0")?.sign, .minus)
        XCTAssertEqual(parse("42"), 42)
        XCTAssertEqual(parse("+3.25"), 3.25)
        XCTAssertEqual(parse("-1.5e3"), -1500)
        XCTAssertEqual(parse("1."), 1)
        XCTAssertEqual(parse(".5"), 0.5)
        XCTAssertEqual(parse("2E-2"), 0.02)
        XCTAssertEqual(parse("0.33557800000000004"), 0.33557800000000004)
        XCTAssertEqual(parse("1e400"), .infinity)
        XCTAssertEqual(parse("1e-400"), 0)
        XCTAssertTrue(parse("nan")!.isNaN)
        XCTAssertTrue(parse("NaN")!.isNaN)
        XCTAssertEqual(parse("-inf"), -.infinity)
        XCTAssertEqual(parse("Infinity"), .infinity)
    }

    func testRejectedForms() {
        for text in ["", " ", "-", "+", ".", "e5", "1e", "1e+", "1.2.3", "1,5", " 1", "1 ", "0x10", "abc", "1-", ".nan",
                     "nanx", "in", "1_000", "--1"] {
            XCTAssertNil(parse(text), "\(text.debugDescription) should not parse")
        }
    }

    func testRandomDecimalsRoundLikeTheStandardLibrary() {
        var rng = RandomGenerator(seed: 5)
        for _ in 0..<20_000 {
            var text = rng.nextInt(below: 4) == 0 ? "-" : ""
            for _ in 0..<(1 + rng.nextInt(below: 20)) { text += String(rng.nextInt(below: 10)) }
            if rng.nextInt(below: 2) == 0 {
                text += "."
                for _ in 0..<rng.nextInt(below: 20) { text += String(rng.nextInt(below: 10)) }
            }
            if rng.nextInt(below: 3) == 0 { text += "e" + String(rng.nextInt(below: 80) - 40) }
            let expected = Double(text)!
            XCTAssertEqual(parse(text)?.bitPattern, expected.bitPattern, text)
        }
    }

    func testIntegers() {
        XCTAssertEqual(parseInt("0"), 0)
        XCTAssertEqual(parseInt("-17"), -17)
        XCTAssertEqual(parseInt("+5"), 5)
        XCTAssertEqual(parseInt("9223372036854775807"), .max)
        XCTAssertEqual(parseInt("-9223372036854775808"), .min)
        for text in ["", "-", "9223372036854775808", "1.0", "1e3", " 1", "x"] {
            XCTAssertNil(parseInt(text), text)
        }
    }

    func testFNV1aReferenceValues() {
        // Reference values of the published FNV-1a 64 test vectors / a Python implementation.
        XCTAssertEqual(FNV1a.hash(""), 0xcbf2_9ce4_8422_2325)
        XCTAssertEqual(FNV1a.hash("a"), 0xaf63_dc4c_8601_ec8c)
        XCTAssertEqual(FNV1a.hash("foobar"), 0x8594_4171_f739_67e8)
        let bytes = Array("red".utf8)
        XCTAssertEqual(bytes.withUnsafeBufferPointer { FNV1a.hash($0.baseAddress!, count: 3) }, 0x89e9_be19_60f4_c21c)
    }

    func testDaysSinceEpoch() {
        // Python: (date(y, m, d) - date(1970, 1, 1)).days
        XCTAssertEqual(DayParsing.daysSinceEpoch(yyyymmdd: 19700101), 0)
        XCTAssertEqual(DayParsing.daysSinceEpoch(yyyymmdd: 19691231), -1)
        XCTAssertEqual(DayParsing.daysSinceEpoch(yyyymmdd: 20000229), 11016)
        XCTAssertEqual(DayParsing.daysSinceEpoch(yyyymmdd: 20220430), 19112)
        XCTAssertEqual(DayParsing.daysSinceEpoch(yyyymmdd: 20220508), 19120)
        XCTAssertNil(DayParsing.daysSinceEpoch(yyyymmdd: 20210229))
        XCTAssertNil(DayParsing.daysSinceEpoch(yyyymmdd: 20221301))
        XCTAssertNil(DayParsing.daysSinceEpoch(yyyymmdd: 20220400))
    }
}
