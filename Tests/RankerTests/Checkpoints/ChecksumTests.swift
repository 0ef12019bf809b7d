import Foundation
import XCTest
@testable import Ranker
import RankerTestSupport

/// Issue 14, defect 11: CRC-32C per tensor and of the header in the
/// safetensors `__metadata__` of checkpoints and exports, verified on every
/// read, so that a flipped byte is an error naming the tensor instead of
/// weights trained on silently.
final class ChecksumTests: TemporaryDirectoryTestCase {
    func testCRC32CMatchesThePublishedCheckValueAndABitwiseReference() {
        XCTAssertEqual(CRC32C.checksum("123456789"), 0xE306_9283)
        XCTAssertEqual(CRC32C.checksum([UInt8]()), 0)
        XCTAssertEqual(CRC32C.hex(0x0000_00AB), "000000ab")
        // Every length around the 8-byte stride, against the bit-at-a-time definition.
        var rng = RandomGenerator(seed: 3)
        let bytes = (0..<1_031).map { _ in UInt8(truncatingIfNeeded: rng.nextUInt64()) }
        for n in [1, 7, 8, 9, 15, 16, 17, 1_031] {
            var reference: UInt32 = 0xFFFF_FFFF
            for b in bytes[..<n] {
                reference ^= UInt32(b)
                for _ in 0..<8 { reference = (reference & 1) != 0 ? (reference >> 1) ^ 0x82F6_3B78 : reference >> 1 }
            }
            XCTAssertEqual(CRC32C.checksum(Array(bytes[..<n])), ~reference, "length \(n)")
            // In two pieces.
            let split = n / 3
            let whole = bytes.withUnsafeBytes { b in
                CRC32C.checksum(UnsafeRawBufferPointer(rebasing: b[split..<n]),
                                continuing: CRC32C.checksum(UnsafeRawBufferPointer(rebasing: b[..<split])))
            }
            XCTAssertEqual(whole, ~reference, "length \(n) in two pieces")
        }
    }

    /// A checkpoint of two tensors with trainer state in its metadata.
    func writeCheckpoint() throws -> URL {
        var checkpoint = Checkpoint(tensors: ["model/a.W": Matrix(rows: 4, cols: 8, values: (0..<32).map { Float($0) / 7 }),
                                              "model/b.b": Matrix(rows: 1, cols: 3, values: [1, 2, 3])])
        try checkpoint.encode(17, forKey: Checkpoint.Key.step)
        let url = file("checkpoint.safetensors")
        try checkpoint.write(to: url)
        return url
    }

    /// The file offset of byte `index` of tensor `name`'s data.
    func offset(of name: String, byte index: Int, in url: URL) throws -> Int {
        let reader = try SafeTensorsReader(url: url)
        return reader.bufferStart + reader.header.entry(named: name)!.begin + index
    }

    func flip(_ url: URL, at offset: Int, mask: UInt8 = 0x04) throws {
        var bytes = [UInt8](try Data(contentsOf: url))
        bytes[offset] ^= mask
        try Data(bytes).write(to: url)
    }

    func testAFlippedByteInATensorIsAnErrorNamingTheTensor() throws {
        let url = try writeCheckpoint()
        let intact = try Checkpoint.read(from: url)
        XCTAssertEqual(intact.tensors["model/a.W"]?.toArray(), (0..<32).map { Float($0) / 7 })
        XCTAssertEqual(try SafeTensorsReader(url: url).tensorChecksums?.keys.sorted(), ["model/a.W", "model/b.b"])
        try flip(url, at: try offset(of: "model/a.W", byte: 45, in: url))
        XCTAssertThrowsError(try Checkpoint.read(from: url)) { error in
            guard case .checksumMismatch(let name, _, _)? = (error as? SafeTensorsError)?.problem else {
                return XCTFail("\(error)")
            }
            XCTAssertEqual(name, "model/a.W")
            XCTAssertTrue("\(error)".hasPrefix(url.path + ": tensor model/a.W is corrupt"), "\(error)")
        }
        // The other tensor still reads: the error is the damaged tensor's.
        XCTAssertEqual(try SafeTensorsReader(url: url).readMatrix(named: "model/b.b").toArray(), [1, 2, 3])
    }

    func testAChangedByteInTheNonTensorStateIsDetected() throws {
        let url = try writeCheckpoint()
        var bytes = [UInt8](try Data(contentsOf: url))
        // "step":"17" → "step":"18": still valid JSON, same length; only the checksum can tell.
        let text = Array(#""step":"17""#.utf8)
        let at = try XCTUnwrap((0...(bytes.count - text.count)).first { Array(bytes[$0..<($0 + text.count)]) == text })
        bytes[at + 9] = UInt8(ascii: "8")
        try Data(bytes).write(to: url)
        XCTAssertThrowsError(try Checkpoint.read(from: url)) { error in
            guard case .headerChecksumMismatch? = (error as? SafeTensorsError)?.problem else { return XCTFail("\(error)") }
            XCTAssertTrue("\(error)".contains(url.path), "\(error)")
        }
    }

    func testFilesWithoutChecksumsStillLoad() throws {
        let url = file("old.safetensors")
        try SafeTensorsWriter.write(tensors: [(name: "model/a.W", value: Matrix(rows: 1, cols: 2, values: [5, 6]))],
                                    metadata: ["format": Checkpoint.formatIdentifier], to: url)
        let reader = try SafeTensorsReader(url: url)
        XCTAssertNil(reader.tensorChecksums)
        XCTAssertEqual(try Checkpoint.read(from: url).tensors["model/a.W"]?.toArray(), [5, 6])
    }

    func testChecksumsStayStandardSafetensorsMetadataAndAreHiddenFromCallers() throws {
        let url = try writeCheckpoint()
        let reader = try SafeTensorsReader(url: url)
        XCTAssertEqual(Set(reader.header.metadata.keys).intersection(SafeTensorsChecksums.keys), SafeTensorsChecksums.keys)
        XCTAssertTrue(Set(reader.metadata.keys).isDisjoint(with: SafeTensorsChecksums.keys))
        let tensors = try XCTUnwrap(reader.header.metadata[SafeTensorsChecksums.tensorsKey])
        let parsed = try JSONDecoder().decode([String: String].self, from: Data(tensors.utf8))
        let b = Matrix(rows: 1, cols: 3, values: [1, 2, 3])
        XCTAssertEqual(parsed["model/b.b"], CRC32C.hex(CRC32C.checksum(littleEndianBytes(b.toArray()))))
    }

    /// A damaged tensor late in the model's order: `ModelWeights.load` fails
    /// naming it and leaves every tensor of the model as it was (all tensors
    /// are read and verified before any is copied in).
    func testAFailedLoadOfADamagedExportLeavesTheModelUnchanged() throws {
        let written = try ModelFixtures.model(CheckpointTests.configuration, seed: 3)
        let url = file("export.safetensors")
        try ModelExport.write(written, to: url)
        let last = try XCTUnwrap(written.savedTensors.last).name
        try flip(url, at: try offset(of: last, byte: 0, in: url))
        let model = try ModelFixtures.model(CheckpointTests.configuration, seed: 4)
        let before = model.savedTensors.map { bitPatterns($0.value) }
        XCTAssertThrowsError(try ModelWeights.load(into: model, from: url)) { error in
            guard case .checksumMismatch(let name, _, _)? = (error as? SafeTensorsError)?.problem else {
                return XCTFail("\(error)")
            }
            XCTAssertEqual(name, last)
        }
        XCTAssertEqual(model.savedTensors.map { bitPatterns($0.value) }, before)
    }
}
