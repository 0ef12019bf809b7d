import XCTest
@testable import RankerExperiments

/// `SeedList.parse`: the `--seeds` syntax of `census-mmoe` (ranges, lists,
/// both) and a clear error for everything else.
final class SeedListTests: XCTestCase {
    func testRangesListsAndBothInTheOrderWritten() throws {
        XCTAssertEqual(try SeedList.parse("0-4"), [0, 1, 2, 3, 4])
        XCTAssertEqual(try SeedList.parse("0,2,5"), [0, 2, 5])
        XCTAssertEqual(try SeedList.parse("7"), [7])
        XCTAssertEqual(try SeedList.parse("3-3"), [3])
        XCTAssertEqual(try SeedList.parse("5, 0-2 ,9"), [5, 0, 1, 2, 9])
        XCTAssertEqual(try SeedList.parse("18446744073709551615"), [UInt64.max])
    }

    /// Each malformed list names what is wrong with it.
    func testMalformedListsAreErrorsThatSayWhy() {
        let cases: [(text: String, says: String)] = [
            ("", "an empty item"),
            ("0,,2", "an empty item"),
            ("0-4,", "an empty item"),
            ("4-0", "runs backwards (write 0-4)"),
            ("a", "a is not a seed"),
            ("-1", "a range needs a seed on both sides"),
            ("0-", "a range needs a seed on both sides"),
            ("1.5", "1.5 is not a seed"),
            ("+3", "+3 is not a seed"),
            ("0-2-4", "neither a seed nor a range"),
            ("18446744073709551616", "is not a seed"),
            ("0-3,2", "seed 2 is listed twice"),
            ("1,1", "seed 1 is listed twice"),
            ("0-1000", "more than 1000 seeds"),
            ("0-18446744073709551615", "more than 1000 seeds"),
        ]
        for (text, says) in cases {
            XCTAssertThrowsError(try SeedList.parse(text), text) { error in
                let message = "\(error)"
                XCTAssertTrue(message.contains(says), "\(text): \(message)")
                XCTAssertTrue(message.contains("like 0-4 or 0,2,5"), "\(text): \(message)")
            }
        }
        XCTAssertEqual(try SeedList.parse("0-999").count, SeedList.maximumCount)
    }
}
