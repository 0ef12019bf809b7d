import Foundation
import XCTest
@testable import Ranker
import RankerTestSupport

/// Every check of the reader, each on a hand-assembled file that breaks
/// exactly one rule; the error names the file and the problem.
final class SafeTensorsValidationTests: TemporaryDirectoryTestCase {
    func expectProblem(_ bytes: [UInt8], _ expected: SafeTensorsError.Problem,
                       file: StaticString = #filePath, line: UInt = #line) throws {
        let url = self.file("bad.safetensors")
        try Data(bytes).write(to: url)
        XCTAssertThrowsError(try SafeTensorsReader(url: url), file: file, line: line) { error in
            guard let e = error as? SafeTensorsError else {
                return XCTFail("expected SafeTensorsError, got \(error)", file: file, line: line)
            }
            XCTAssertEqual(e.path, url.path, file: file, line: line)
            XCTAssertEqual(e.problem, expected, file: file, line: line)
            XCTAssertTrue(e.description.hasPrefix(url.path + ": "), e.description, file: file, line: line)
        }
    }

    func expectProblem(header: String, buffer: [UInt8] = [], _ expected: SafeTensorsError.Problem,
                       file: StaticString = #filePath, line: UInt = #line) throws {
        try expectProblem(safetensorsBytes(header: header, buffer: buffer), expected, file: file, line: line)
    }

    func tensorEntry(_ name: String, _ shape: [Int], _ offsets: [Int], dtype: String = "F32") -> String {
        #""\#(name)": {"dtype": "\#(dtype)", "shape": \#(shape), "data_offsets": \#(offsets)}"#
    }

    func testHeaderLength() throws {
        try expectProblem([], .fileTooShort(size: 0))
        try expectProblem([1, 0, 0, 0, 0, 0, 0], .fileTooShort(size: 7))
        // Below the 2 bytes of "{}".
        try expectProblem([1, 0, 0, 0, 0, 0, 0, 0, 0x7B], .headerLengthOutOfRange(length: 1, fileSize: 9))
        // Past the end of the file.
        try expectProblem([10, 0, 0, 0, 0, 0, 0, 0, 0x7B, 0x7D], .headerLengthOutOfRange(length: 10, fileSize: 10))
        // Absurdly large (a corrupted or foreign file).
        try expectProblem([0, 0, 0, 0, 0, 0, 0, 0x80, 0x7B, 0x7D],
                          .headerLengthOutOfRange(length: 1 << 63, fileSize: 10))
    }

    func testHeaderText() throws {
        try expectProblem(safetensorsBytes(header: "", buffer: []), .headerLengthOutOfRange(length: 0, fileSize: 8))
        var bytes = safetensorsBytes(header: #"{"__metadata__": {"k": "vv"}}"#, buffer: [])
        bytes[bytes.firstIndex(of: UInt8(ascii: "v"))!] = 0xFF  // inside "vv": not UTF-8
        try expectProblem(bytes, .headerNotUTF8)
        try expectProblem(header: "{not json", { if case .invalidJSON = $0 { return true }; return false })
        try expectProblem(header: "[1, 2]", .invalidJSON("the header is not a JSON object"))
        try expectProblem(header: #"{"__metadata__": {"k": 1}}"#,
                          .invalidMetadata("must be an object whose values are all strings"))
        try expectProblem(header: #"{"__metadata__": ["k"]}"#,
                          .invalidMetadata("must be an object whose values are all strings"))
    }

    /// For problems whose message comes from the JSON parser.
    func expectProblem(header: String, _ matches: (SafeTensorsError.Problem) -> Bool,
                       file: StaticString = #filePath, line: UInt = #line) throws {
        let url = self.file("bad.safetensors")
        try Data(safetensorsBytes(header: header, buffer: [])).write(to: url)
        XCTAssertThrowsError(try SafeTensorsReader(url: url), file: file, line: line) { error in
            let problem = (error as? SafeTensorsError)?.problem
            XCTAssertTrue(problem.map(matches) ?? false, "\(error)", file: file, line: line)
        }
    }

    func testMalformedEntries() throws {
        let four = littleEndianBytes([1])
        try expectProblem(header: #"{"t": 5}"#,
                          .invalidEntry(name: "t", reason: "must be an object with dtype, shape and data_offsets"))
        try expectProblem(header: #"{"t": {"shape": [1], "data_offsets": [0, 4]}}"#, buffer: four,
                          .invalidEntry(name: "t", reason: "missing field dtype"))
        try expectProblem(header: #"{"t": {"dtype": "F32", "data_offsets": [0, 4]}}"#, buffer: four,
                          .invalidEntry(name: "t", reason: "missing field shape"))
        try expectProblem(header: #"{"t": {"dtype": "F32", "shape": [1]}}"#, buffer: four,
                          .invalidEntry(name: "t", reason: "missing field data_offsets"))
        try expectProblem(header: #"{"t": {"dtype": "F32", "shape": [1], "data_offsets": [0, 4], "x": 1}}"#,
                          buffer: four, .invalidEntry(name: "t", reason: "unexpected field x"))
        try expectProblem(header: #"{"t": {"dtype": 32, "shape": [1], "data_offsets": [0, 4]}}"#, buffer: four,
                          .invalidEntry(name: "t", reason: "dtype must be a string"))
        try expectProblem(header: #"{"t": {"dtype": "F32", "shape": "1", "data_offsets": [0, 4]}}"#, buffer: four,
                          .invalidEntry(name: "t", reason: "shape must be an array of integers"))
        try expectProblem(header: #"{"t": {"dtype": "F32", "shape": [1.5], "data_offsets": [0, 4]}}"#, buffer: four,
                          .invalidEntry(name: "t", reason: "shape must be an array of integers"))
        try expectProblem(header: #"{"t": {"dtype": "F32", "shape": [true], "data_offsets": [0, 4]}}"#, buffer: four,
                          .invalidEntry(name: "t", reason: "shape must be an array of integers"))
        try expectProblem(header: "{" + tensorEntry("t", [-1], [0, 4]) + "}", buffer: four,
                          .invalidEntry(name: "t", reason: "negative dimension in shape [-1]"))
        try expectProblem(header: "{" + tensorEntry("t", [1], [0, 4, 8]) + "}", buffer: four,
                          .invalidEntry(name: "t", reason: "data_offsets must be [begin, end], got [0, 4, 8]"))
        try expectProblem(header: "{" + tensorEntry("t", [0], [4, 0]) + "}", buffer: four,
                          .invalidEntry(name: "t", reason: "data_offsets must satisfy 0 <= begin <= end, got [4, 0]"))
        try expectProblem(header: "{" + tensorEntry("t", [0], [-4, 0]) + "}", buffer: four,
                          .invalidEntry(name: "t", reason: "data_offsets must satisfy 0 <= begin <= end, got [-4, 0]"))
        try expectProblem(header: "{" + tensorEntry("", [1], [0, 4]) + "}", buffer: four,
                          .invalidEntry(name: "", reason: "a tensor name must not be empty"))
        try expectProblem(header: "{" + tensorEntry("t", [1], [0, 4], dtype: "F31") + "}", buffer: four,
                          .unknownDType(name: "t", dtype: "F31"))
    }

    func testOffsetsAndSizes() throws {
        let eight = littleEndianBytes([1, 2])
        try expectProblem(header: "{" + tensorEntry("t", [3], [0, 12]) + "}", buffer: eight,
                          .offsetsOutOfRange(name: "t", begin: 0, end: 12, bufferSize: 8))
        try expectProblem(header: "{" + tensorEntry("t", [3], [0, 8]) + "}", buffer: eight,
                          .sizeMismatch(name: "t", shape: [3], dtype: "F32", expectedBytes: 12, actualBytes: 8))
        try expectProblem(header: "{" + tensorEntry("t", [2], [0, 8], dtype: "F64") + "}", buffer: eight,
                          .sizeMismatch(name: "t", shape: [2], dtype: "F64", expectedBytes: 16, actualBytes: 8))
        // A shape whose element count overflows, and one whose element count fits but whose byte count does not.
        try expectProblem(header: "{" + tensorEntry("t", [1 << 62, 1 << 62], [0, 8]) + "}", buffer: eight,
                          .shapeTooLarge(name: "t", shape: [1 << 62, 1 << 62], dtype: "F32"))
        try expectProblem(header: "{" + tensorEntry("t", [1 << 62], [0, 8], dtype: "F64") + "}", buffer: eight,
                          .shapeTooLarge(name: "t", shape: [1 << 62], dtype: "F64"))
    }

    /// Issue 14, defect 9: a crafted header with a huge shape said "needs -1
    /// bytes" (the overflow's sentinel). The message names the file, the
    /// tensor and the shape, and says the header is corrupt.
    func testAHugeShapeNamesFileTensorAndShape() throws {
        let url = file("huge.safetensors")
        let header = "{" + tensorEntry("model/experts.0.W", [4_611_686_018_427_387_904, 3], [0, 8]) + "}"
        try Data(safetensorsBytes(header: header, buffer: littleEndianBytes([1, 2]))).write(to: url)
        XCTAssertThrowsError(try SafeTensorsReader(url: url)) { error in
            let text = "\(error)"
            XCTAssertEqual(text, "\(url.path): tensor model/experts.0.W: shape [4611686018427387904, 3] of F32 would need "
                           + "more than 9223372036854775807 bytes (the product of its dimensions overflows); the header is corrupt")
            // Only the message after the path: the temporary path's UUID may itself contain "-1".
            let message = text.dropFirst(url.path.count)
            XCTAssertFalse(message.contains("-1"), text)
        }
    }

    func testTensorsMustTileTheBuffer() throws {
        let sixteen = littleEndianBytes([1, 2, 3, 4])
        try expectProblem(header: "{" + tensorEntry("a", [2], [0, 8]) + ", " + tensorEntry("b", [2], [4, 12]) + "}",
                          buffer: sixteen, .overlappingTensors(first: "a", second: "b"))
        // A zero-size tensor inside another one also counts as overlapping.
        try expectProblem(header: "{" + tensorEntry("a", [4], [0, 16]) + ", " + tensorEntry("z", [0], [4, 4]) + "}",
                          buffer: sixteen, .overlappingTensors(first: "a", second: "z"))
        try expectProblem(header: "{" + tensorEntry("a", [1], [0, 4]) + ", " + tensorEntry("b", [2], [8, 16]) + "}",
                          buffer: sixteen, .unaccountedBytes(offset: 4, count: 4))
        try expectProblem(header: "{" + tensorEntry("b", [3], [4, 16]) + "}",
                          buffer: sixteen, .unaccountedBytes(offset: 0, count: 4))
        try expectProblem(header: "{" + tensorEntry("a", [3], [0, 12]) + "}",
                          buffer: sixteen, .trailingBytes(offset: 12, count: 4))
        try expectProblem(header: "{}", buffer: [0], .trailingBytes(offset: 0, count: 1))
        // The same layout without the fault is accepted.
        let url = file("good.safetensors")
        try Data(safetensorsBytes(header: "{" + tensorEntry("a", [1], [0, 4]) + ", " + tensorEntry("b", [1, 3], [4, 16]) + "}",
                                  buffer: sixteen)).write(to: url)
        XCTAssertEqual(try SafeTensorsReader(url: url).readMatrix(named: "b").toArray(), [2, 3, 4])
    }

    func testMatrixAccessErrors() throws {
        let url = file("kinds.safetensors")
        let header = "{" + tensorEntry("i", [1, 1], [0, 8], dtype: "I64") + ", " + tensorEntry("v", [2], [8, 16]) + "}"
        try Data(safetensorsBytes(header: header, buffer: [UInt8](repeating: 0, count: 16))).write(to: url)
        let reader = try SafeTensorsReader(url: url)
        func problem(_ body: () throws -> Void) -> SafeTensorsError.Problem? {
            do { try body() } catch { return (error as? SafeTensorsError)?.problem }
            return nil
        }
        XCTAssertEqual(problem { _ = try reader.readMatrix(named: "nope") }, .tensorNotFound(name: "nope"))
        XCTAssertEqual(problem { _ = try reader.readMatrix(named: "i") }, .unsupportedDType(name: "i", dtype: "I64"))
        XCTAssertEqual(problem { _ = try reader.readMatrix(named: "v") }, .notAMatrix(name: "v", shape: [2]))
    }

    func testMissingFileIsAnIOError() {
        let url = file("absent.safetensors")
        XCTAssertThrowsError(try SafeTensorsReader(url: url)) { error in
            let e = error as? FileIOError
            XCTAssertEqual(e?.path, url.path)
            XCTAssertEqual(e?.operation, "open")
            XCTAssertEqual(e?.message, "No such file or directory")
        }
    }

    func testErrorDescriptionsNameFileAndTensor() {
        let e = SafeTensorsError(path: "/r/c.safetensors",
                                 problem: .sizeMismatch(name: "model/x.W", shape: [2, 3], dtype: "F32",
                                                        expectedBytes: 24, actualBytes: 20))
        XCTAssertEqual(e.description,
                       "/r/c.safetensors: tensor model/x.W: shape [2, 3] of F32 needs 24 bytes, data_offsets give 20")
    }
}
