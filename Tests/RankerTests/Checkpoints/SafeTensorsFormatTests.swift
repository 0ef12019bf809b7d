import Foundation
import XCTest
@testable import Ranker
import RankerTestSupport

/// The safetensors writer and reader: the bytes on disk follow the format
/// (checked by parsing them here by hand), values survive bit for bit, and
/// files assembled by hand (not by our writer) are read correctly.
final class SafeTensorsFormatTests: TemporaryDirectoryTestCase {
    /// The file's bytes, parsed here without the reader: length, padding, JSON, buffer.
    func parseByHand(_ url: URL) throws -> (header: [String: Any], buffer: [UInt8], headerLength: Int) {
        let bytes = [UInt8](try Data(contentsOf: url))
        var n = 0
        for i in 0..<8 { n |= Int(bytes[i]) << (8 * i) }
        let json = try XCTUnwrap(JSONSerialization.jsonObject(with: Data(bytes[8..<(8 + n)])) as? [String: Any])
        return (json, Array(bytes[(8 + n)...]), n)
    }

    func testWrittenFileFollowsTheFormatAndKeepsEveryBit() throws {
        let special = matrix(rows: 4, cols: 4, bits: specialFloatBits)
        let bias = Matrix(rows: 1, cols: 3, values: [0.5, -1.25, 3])
        let empty = Matrix(rows: 0, cols: 5)
        let url = file("t.safetensors")
        try SafeTensorsWriter.write(tensors: [(name: "w", value: special), (name: "a.b", value: bias),
                                              (name: "empty", value: empty)],
                                    metadata: ["note": "x"], to: url)

        let (header, buffer, n) = try parseByHand(url)
        XCTAssertEqual((8 + n) % 8, 0, "header padded to 8-byte alignment")
        XCTAssertEqual(header["__metadata__"] as? [String: String], ["note": "x"])
        // Sorted by name, contiguous from 0: a.b [0, 12), empty [12, 12), w [12, 76).
        let expected: [(String, [Int], [Int])] = [("a.b", [1, 3], [0, 12]), ("empty", [0, 5], [12, 12]),
                                                  ("w", [4, 4], [12, 76])]
        for (name, shape, offsets) in expected {
            let entry = try XCTUnwrap(header[name] as? [String: Any], name)
            XCTAssertEqual(entry["dtype"] as? String, "F32")
            XCTAssertEqual(entry["shape"] as? [Int], shape, name)
            XCTAssertEqual(entry["data_offsets"] as? [Int], offsets, name)
        }
        XCTAssertEqual(header.count, 4)
        XCTAssertEqual(buffer.count, 76)
        XCTAssertEqual(Array(buffer[0..<12]), littleEndianBytes([0.5, -1.25, 3]))
        let specialBytes = specialFloatBits.flatMap { b in (0..<4).map { UInt8((b >> (8 * UInt32($0))) & 0xFF) } }
        XCTAssertEqual(Array(buffer[12..<76]), specialBytes)

        let reader = try SafeTensorsReader(url: url)
        XCTAssertEqual(reader.tensorNames, ["a.b", "empty", "w"])
        XCTAssertEqual(reader.metadata, ["note": "x"])
        XCTAssertEqual(bitPatterns(try reader.readMatrix(named: "w")), specialFloatBits)
        XCTAssertEqual(try reader.readMatrix(named: "a.b").toArray(), [0.5, -1.25, 3])
        let readEmpty = try reader.readMatrix(named: "empty")
        XCTAssertEqual([readEmpty.rows, readEmpty.cols], [0, 5])
    }

    func testMetadataRoundTripsAnyString() throws {
        let metadata = [
            "quote\"and\\backslash": "line\nbreak\ttab\r and \u{01} control \u{1F}",
            "unicode": "Grüße, 日本語, emoji 🎯, slash / and </script>",
            "json": #"{"a": [1, 2.5, null], "b": "c"}"#,
            "empty": "",
        ]
        let url = file("m.safetensors")
        try SafeTensorsWriter.write(tensors: [], metadata: metadata, to: url)
        let (header, buffer, _) = try parseByHand(url)
        XCTAssertEqual(header["__metadata__"] as? [String: String], metadata, "an independent JSON parser agrees")
        XCTAssertEqual(buffer.count, 0)
        XCTAssertEqual(try SafeTensorsReader(url: url).metadata, metadata)
    }

    func testNoMetadataAndNoTensorsIsAValidFile() throws {
        let url = file("empty.safetensors")
        try SafeTensorsWriter.write(tensors: [], metadata: [:], to: url)
        XCTAssertEqual([UInt8](try Data(contentsOf: url)), safetensorsBytes(header: "{}", buffer: []))
        let reader = try SafeTensorsReader(url: url)
        XCTAssertEqual(reader.tensorNames, [])
        XCTAssertEqual(reader.metadata, [:])
    }

    /// A file in another writer's style: no padding, header keys in arbitrary
    /// order, buffer order different from name order, and a `U8` tensor of 3
    /// bytes that puts the next `F32` tensor at an unaligned offset.
    func testReadsAHandAssembledFile() throws {
        let header = #"{"z": {"data_offsets": [0, 8], "shape": [2, 1], "dtype": "F32"}, "#
            + #""__metadata__": {"k": "v"}, "flags": {"dtype": "U8", "shape": [3], "data_offsets": [8, 11]}, "#
            + #""a": {"shape": [1, 2], "dtype": "F32", "data_offsets": [11, 19]}}"#
        let buffer = littleEndianBytes([1.5, -2]) + [7, 8, 9] + littleEndianBytes([0.25, Float(bitPattern: 0x0001_16C2)])
        let url = file("hand.safetensors")
        try Data(safetensorsBytes(header: header, buffer: buffer, pad: false)).write(to: url)
        let reader = try SafeTensorsReader(url: url)
        XCTAssertEqual(reader.metadata, ["k": "v"])
        XCTAssertEqual(reader.tensorNames, ["a", "flags", "z"])
        XCTAssertEqual(reader.header.entries.map(\.name), ["z", "flags", "a"], "entries in buffer order")
        XCTAssertEqual(try reader.readMatrix(named: "z").toNestedArray(), [[1.5], [-2]])
        let a = try reader.readMatrix(named: "a")
        XCTAssertEqual(bitPatterns(a), [Float(0.25).bitPattern, 0x0001_16C2])
        XCTAssertEqual(reader.header.entry(named: "flags"),
                       SafeTensorsEntry(name: "flags", dtype: .u8, shape: [3], begin: 8, end: 11))
    }

    /// A file written by the reference implementation (the `safetensors`
    /// Python package 0.8.0), kept as bytes:
    ///
    ///     save_file({"b": np.arange(6, dtype=np.float32).reshape(2, 3) / 4,
    ///                "a": np.array([[1.5, -0.0]], dtype=np.float32),
    ///                "ids": np.array([3, -1, 7], dtype=np.int64)},
    ///               path, metadata={"format": "reference", "note": "é\n"})
    func testReadsAFileOfTheReferenceImplementation() throws {
        let hex = [
            "e0000000000000007b225f5f6d657461646174615f5f223a7b226e6f7465223a22c3a95c6e222c22666f726d6174223a",
            "227265666572656e6365227d2c22696473223a7b226474797065223a22493634222c227368617065223a5b335d2c2264",
            "6174615f6f666673657473223a5b302c32345d7d2c2261223a7b226474797065223a22463332222c227368617065223a",
            "5b312c325d2c22646174615f6f666673657473223a5b32342c33325d7d2c2262223a7b226474797065223a2246333222",
            "2c227368617065223a5b322c335d2c22646174615f6f666673657473223a5b33322c35365d7d7d200300000000000000",
            "ffffffffffffffff07000000000000000000c03f00000080000000000000803e0000003f0000403f0000803f0000a03f"
        ].joined()
        var bytes: [UInt8] = []
        var index = hex.startIndex
        while index < hex.endIndex {
            let next = hex.index(index, offsetBy: 2)
            bytes.append(UInt8(hex[index..<next], radix: 16)!)
            index = next
        }
        let url = file("reference.safetensors")
        try Data(bytes).write(to: url)
        let reader = try SafeTensorsReader(url: url)
        XCTAssertEqual(reader.metadata, ["format": "reference", "note": "é\n"])
        XCTAssertEqual(reader.tensorNames, ["a", "b", "ids"])
        XCTAssertEqual(reader.header.entry(named: "ids"),
                       SafeTensorsEntry(name: "ids", dtype: .i64, shape: [3], begin: 0, end: 24))
        XCTAssertEqual(bitPatterns(try reader.readMatrix(named: "a")), [Float(1.5).bitPattern, 0x8000_0000])
        XCTAssertEqual(try reader.readMatrix(named: "b").toNestedArray(), [[0, 0.25, 0.5], [0.75, 1, 1.25]])
    }

    func testReadIntoAnExistingMatrix() throws {
        let url = file("r.safetensors")
        try SafeTensorsWriter.write(tensors: [(name: "m", value: Matrix([[1, 2], [3, 4]]))], metadata: [:], to: url)
        let destination = Matrix(rows: 2, cols: 2)
        try SafeTensorsReader(url: url).readMatrix(named: "m", into: destination)
        XCTAssertEqual(destination.toArray(), [1, 2, 3, 4])
    }

    func testDuplicateTensorNameIsRefusedBeforeWriting() throws {
        let url = file("d.safetensors")
        XCTAssertThrowsError(try SafeTensorsWriter.write(tensors: [(name: "x", value: Matrix(rows: 1, cols: 1)),
                                                                   (name: "x", value: Matrix(rows: 1, cols: 2))],
                                                         metadata: [:], to: url)) { error in
            XCTAssertEqual((error as? SafeTensorsError)?.problem, .duplicateName("x"))
        }
        XCTAssertEqual(try directoryListing(), [])
    }

    func testDTypeSizes() {
        XCTAssertEqual(SafeTensorsDType.allCases.count, 15)
        XCTAssertEqual(SafeTensorsDType(rawValue: "F32")?.byteSize, 4)
        XCTAssertEqual(SafeTensorsDType(rawValue: "BF16")?.byteSize, 2)
        XCTAssertEqual(SafeTensorsDType(rawValue: "I64")?.byteSize, 8)
        XCTAssertEqual(SafeTensorsDType(rawValue: "F8_E4M3")?.byteSize, 1)
    }
}
