import Foundation
import XCTest
@testable import Ranker

/// The byte-level CSV reader: quoting, line endings, trimming, gzip, chunk
/// boundaries — against hand-written expectations and randomly written documents.
final class CSVReaderTests: XCTestCase {
    /// All records of `path` as string fields, with the line of each.
    func records(_ path: String, separator: UInt8 = 44, quote: UInt8? = 34, trim: CSVFormat.Trim = .none,
                 chunkSize: Int = 4 << 20) throws -> [(line: Int, fields: [String])] {
        let reader = try CSVReader(path: path, separator: separator, quote: quote, trim: trim, chunkSize: chunkSize)
        var out: [(Int, [String])] = []
        while try reader.next() { out.append((reader.line, (0..<reader.fieldCount).map(reader.fieldString))) }
        return out
    }

    func fields(_ text: String, trim: CSVFormat.Trim = .none, chunkSize: Int = 4 << 20) throws -> [[String]] {
        try records(DataTestSupport.temporaryFile(text), trim: trim, chunkSize: chunkSize).map(\.fields)
    }

    func testPlainRecordsWithAndWithoutTrailingNewline() throws {
        XCTAssertEqual(try fields("a,b\n1,2\n"), [["a", "b"], ["1", "2"]])
        XCTAssertEqual(try fields("a,b\n1,2"), [["a", "b"], ["1", "2"]])
        XCTAssertEqual(try fields("a,,c\n,,\n"), [["a", "", "c"], ["", "", ""]])
        XCTAssertEqual(try fields("a,b,\n"), [["a", "b", ""]])
        XCTAssertEqual(try fields("a,b,"), [["a", "b", ""]])
        XCTAssertEqual(try fields(""), [])
    }

    func testCRLFLineEndings() throws {
        XCTAssertEqual(try fields("a,b\r\n1,2\r\n"), [["a", "b"], ["1", "2"]])
        XCTAssertEqual(try fields("a,b\r\n1,2"), [["a", "b"], ["1", "2"]])
        XCTAssertEqual(try fields("a,b\r\n1,2\r"), [["a", "b"], ["1", "2"]])
        XCTAssertEqual(try fields("\"a\",\"b\"\r\n\"1\",\"2\"\r\n"), [["a", "b"], ["1", "2"]])
        // A carriage return inside a field (not before the line feed) is data.
        XCTAssertEqual(try fields("a\rb,c\n"), [["a\rb", "c"]])
    }

    func testQuotedFields() throws {
        XCTAssertEqual(try fields("\"a,b\",c\n"), [["a,b", "c"]])
        XCTAssertEqual(try fields("\"say \"\"hi\"\"\",x\n"), [["say \"hi\"", "x"]])
        XCTAssertEqual(try fields("\"\",\"\"\"\"\n"), [["", "\""]])
        XCTAssertEqual(try fields("x,\"two\nlines\"\ny,z\n"), [["x", "two\nlines"], ["y", "z"]])
        XCTAssertEqual(try fields("\"end\""), [["end"]])
        // A quote inside an unquoted field is an ordinary byte.
        XCTAssertEqual(try fields("ab\"c,d\n"), [["ab\"c", "d"]])
    }

    func testLinesCountEmbeddedLineBreaks() throws {
        let path = DataTestSupport.temporaryFile("h1,h2\n\"a\nb\nc\",1\nx,2\r\ny,3")
        XCTAssertEqual(try records(path).map(\.line), [1, 2, 5, 6])
    }

    func testTrimmingLeadingAndTrailingSpaces() throws {
        let text = "a, b ,  c\n 1,2 , \" q \" \n"
        XCTAssertEqual(try fields(text, trim: .none), [["a", " b ", "  c"], [" 1", "2 ", " \" q \" "]])
        XCTAssertEqual(try fields(text, trim: .leading), [["a", "b ", "c"], ["1", "2 ", " q "]])
        XCTAssertEqual(try fields(text, trim: .both), [["a", "b", "c"], ["1", "2", " q "]])
        // The census layout: ", "-separated, trailing space inside a value.
        XCTAssertEqual(try fields("73, Not in universe, U S , - 50000.\n", trim: .both),
                       [["73", "Not in universe", "U S", "- 50000."]])
    }

    func testByteOrderMarkIsIgnored() throws {
        let path = DataTestSupport.temporaryFile(bytes: [0xEF, 0xBB, 0xBF] + Array("a,b\n1,2\n".utf8))
        XCTAssertEqual(try records(path).map(\.fields), [["a", "b"], ["1", "2"]])
    }

    func testTabSeparatorAndNoQuoting() throws {
        let path = DataTestSupport.temporaryFile("a\t\"b\"\n1\t2\n")
        XCTAssertEqual(try records(path, separator: 9, quote: nil).map(\.fields), [["a", "\"b\""], ["1", "2"]])
    }

    func testUnterminatedQuoteNamesLineAndColumn() throws {
        let path = DataTestSupport.temporaryFile("a,b\n1,\"open\n2,3\n")
        let error = DataTestSupport.dataError { _ = try self.records(path) }
        XCTAssertEqual(error, DataError(file: path, line: 2, column: 2, problem: .unterminatedQuote))
        XCTAssertEqual(error?.description, "\(path):2: column 2: a quoted field is not closed before the end of the file")
    }

    func testCharacterAfterClosingQuoteIsAnError() throws {
        let path = DataTestSupport.temporaryFile("a,b\n1,\"x\"y\n")
        let error = DataTestSupport.dataError { _ = try self.records(path) }
        XCTAssertEqual(error, DataError(file: path, line: 2, column: 2, problem: .unexpectedCharacterAfterQuote(found: "y")))
    }

    /// Random documents written from known fields (quoted when needed) read
    /// back to those fields, with a 16-byte first chunk (records straddle
    /// every boundary and the buffer grows) and with the default chunk.
    func testRandomDocumentsReadBackTheirFieldsAtAnyChunkSize() throws {
        var rng = RandomGenerator(seed: 11)
        let pieces = ["a", "bc", " ", "\"", ",", "\n", "\r\n", "x y", "12.5", "\"q,\"\"\nz\""]
        for _ in 0..<60 {
            var rows: [[String]] = []
            var text = ""
            for _ in 0..<(1 + rng.nextInt(below: 12)) {
                var row: [String] = []
                for _ in 0..<(1 + rng.nextInt(below: 5)) {
                    // A field: either quoted (any bytes, quotes doubled) or plain (no specials).
                    var value = ""
                    for _ in 0..<rng.nextInt(below: 4) { value += pieces[rng.nextInt(below: pieces.count)] }
                    row.append(value)
                }
                rows.append(row)
                text += row.map { value -> String in
                    if value.utf8.contains(where: { [44, 34, 10, 13, 32].contains($0) }) || value.isEmpty {
                        return "\"" + value.replacingOccurrences(of: "\"", with: "\"\"") + "\""
                    }
                    return value
                }.joined(separator: ",")
                text += rng.nextInt(below: 2) == 0 ? "\n" : "\r\n"
            }
            if rng.nextInt(below: 2) == 0 { text.removeLast() }  // no final line break
            let path = DataTestSupport.temporaryFile(text)
            let small = try records(path, chunkSize: 16).map(\.fields)
            let large = try records(path).map(\.fields)
            XCTAssertEqual(small, rows, "document: \(text.debugDescription)")
            XCTAssertEqual(large, rows)
        }
    }

    func testGzipInputIncludingConcatenatedMembers() throws {
        let first = Array("a,b\n1,2\n".utf8)
        let second = Array("3,4\n".utf8)
        let path = DataTestSupport.temporaryFile(bytes: GzipFixture.member(first) + GzipFixture.member(second),
                                                 name: "data.csv.gz")
        XCTAssertEqual(try records(path).map(\.fields), [["a", "b"], ["1", "2"], ["3", "4"]])
        XCTAssertEqual(try records(path, chunkSize: 16).map(\.fields), [["a", "b"], ["1", "2"], ["3", "4"]])
    }

    func testTruncatedGzipIsAnError() throws {
        let member = GzipFixture.member(Array("a,b\n1,2\n".utf8))
        let path = DataTestSupport.temporaryFile(bytes: Array(member.dropLast(6)), name: "cut.csv.gz")
        let error = DataTestSupport.dataError { _ = try self.records(path) }
        XCTAssertEqual(error, DataError(file: path, problem: .corruptGzip(reason: "unexpected end of the compressed stream")))
    }

    func testCorruptGzipChecksumIsAnError() throws {
        var member = GzipFixture.member(Array("a,b\n1,2\n".utf8))
        member[member.count - 8] ^= 0xFF  // damage the CRC-32
        let path = DataTestSupport.temporaryFile(bytes: member, name: "bad.csv.gz")
        let error = DataTestSupport.dataError { _ = try self.records(path) }
        XCTAssertEqual(error, DataError(file: path, problem: .corruptGzip(reason: "incorrect data check")))
    }

    func testMissingFileIsAnError() throws {
        let error = DataTestSupport.dataError { _ = try self.records("/nonexistent/ranker/file.csv") }
        XCTAssertEqual(error, DataError(file: "/nonexistent/ranker/file.csv", problem: .cannotOpen(reason: "No such file or directory")))
    }
}

/// Hand-built gzip members (RFC 1952) with one stored deflate block (RFC
/// 1951 §3.2.4), so the tests do not use zlib to make their own input.
enum GzipFixture {
    static func crc32(_ bytes: [UInt8]) -> UInt32 {
        var crc: UInt32 = 0xFFFF_FFFF
        for b in bytes {
            crc ^= UInt32(b)
            for _ in 0..<8 { crc = (crc >> 1) ^ (0xEDB8_8320 & (0 &- (crc & 1))) }
        }
        return ~crc
    }

    static func littleEndian32(_ v: UInt32) -> [UInt8] { (0..<4).map { UInt8((v >> (8 * $0)) & 0xFF) } }

    static func member(_ data: [UInt8]) -> [UInt8] {
        precondition(data.count < 65_536)
        let n = UInt16(data.count)
        var out: [UInt8] = [0x1f, 0x8b, 8, 0, 0, 0, 0, 0, 0, 0xff]
        out += [1, UInt8(n & 0xff), UInt8(n >> 8), UInt8(~n & 0xff), UInt8(~n >> 8)]
        out += data
        out += littleEndian32(crc32(data)) + littleEndian32(UInt32(data.count))
        return out
    }
}
