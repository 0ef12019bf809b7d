import Foundation
import XCTest
@testable import Ranker
import RankerTestSupport

/// Atomic replacement: an interrupted write (an error mid-write, or a process
/// that died and left a partial temporary file) leaves the previous file
/// intact; no temporary file survives a failed or a later successful write.
final class AtomicFileTests: TemporaryDirectoryTestCase {
    struct SimulatedCrash: Error {}

    /// A small valid checkpoint-like file with one recognisable tensor.
    func writeOld(_ url: URL) throws -> [UInt8] {
        try SafeTensorsWriter.write(tensors: [(name: "w", value: Matrix([[1, 2], [3, 4]]))],
                                    metadata: ["step": "1"], to: url)
        return [UInt8](try Data(contentsOf: url))
    }

    func testWriteCreatesAndReplaces() throws {
        let url = file("checkpoint.safetensors")
        try AtomicFile.write(to: url) { try $0.write(Array("first".utf8)) }
        XCTAssertEqual(try String(contentsOf: url, encoding: .utf8), "first")
        try AtomicFile.write(to: url) { sink in
            try sink.write(Array("second, ".utf8))
            XCTAssertEqual(sink.bytesWritten, 8)
            try sink.write(Array("longer".utf8))
        }
        XCTAssertEqual(try String(contentsOf: url, encoding: .utf8), "second, longer")
        XCTAssertEqual(try directoryListing(), ["checkpoint.safetensors"])
    }

    func testErrorMidWriteLeavesTheOldFileAndNoTemporary() throws {
        let url = file("checkpoint.safetensors")
        let old = try writeOld(url)
        var temporaryPath = ""
        XCTAssertThrowsError(try AtomicFile.write(to: url) { sink in
            temporaryPath = sink.path
            // Half of a new checkpoint, then the failure.
            let (header, ordered) = try SafeTensorsWriter.layout(
                tensors: [(name: "w", value: Matrix(rows: 100, cols: 100))], metadata: ["step": "2"], path: url.path)
            try SafeTensorsWriter.writeContents(header: header, tensors: ordered, into: sink)
            XCTAssertTrue(FileManager.default.fileExists(atPath: sink.path), "written to a temporary file")
            XCTAssertEqual(URL(fileURLWithPath: sink.path).deletingLastPathComponent().path, temporary.path,
                           "the temporary file is in the destination's directory")
            throw SimulatedCrash()
        }) { XCTAssertTrue($0 is SimulatedCrash) }
        XCTAssertTrue(temporaryPath.contains(".checkpoint.safetensors.tmp-"), temporaryPath)
        XCTAssertEqual([UInt8](try Data(contentsOf: url)), old, "previous checkpoint untouched")
        XCTAssertEqual(try directoryListing(), ["checkpoint.safetensors"], "temporary file removed")
        XCTAssertEqual(try SafeTensorsReader(url: url).readMatrix(named: "w").toArray(), [1, 2, 3, 4])
    }

    func testPartialTemporaryFileFromACrashDoesNotAffectTheCheckpoint() throws {
        let url = file("checkpoint.safetensors")
        let old = try writeOld(url)
        // What a process killed mid-write leaves: a truncated temporary file.
        let stale = file(".checkpoint.safetensors.tmp-4242-deadbeef")
        try Data(old.prefix(old.count / 2)).write(to: stale)
        XCTAssertEqual(AtomicFile.temporaryFiles(for: url).map(\.lastPathComponent), [stale.lastPathComponent])
        // The checkpoint is still the complete old one.
        XCTAssertEqual(try SafeTensorsReader(url: url).metadata, ["step": "1"])
        // A temporary file of another destination is not ours.
        let other = file(".best.safetensors.tmp-1-1")
        try Data([1]).write(to: other)

        try SafeTensorsWriter.write(tensors: [(name: "w", value: Matrix([[5]]))], metadata: ["step": "2"], to: url)
        XCTAssertEqual(try SafeTensorsReader(url: url).metadata, ["step": "2"])
        XCTAssertEqual(try directoryListing(), [".best.safetensors.tmp-1-1", "checkpoint.safetensors"],
                       "the successful write removed the stale temporary file of its destination only")
    }

    func testUnwritableDestinationIsAnIOErrorAndLeavesNothing() throws {
        let url = temporary.appendingPathComponent("missing-dir").appendingPathComponent("c.safetensors")
        XCTAssertThrowsError(try AtomicFile.write(to: url) { _ in XCTFail("body must not run") }) { error in
            let e = error as? FileIOError
            XCTAssertEqual(e?.operation, "open (create)")
            XCTAssertTrue(e?.path.hasPrefix(url.deletingLastPathComponent().path + "/.c.safetensors.tmp-") ?? false)
            XCTAssertEqual(e?.message, "No such file or directory")
        }
        XCTAssertEqual(try directoryListing(), [])
    }

    func testRenameOntoADirectoryFailsAndCleansUp() throws {
        // The destination name is taken by a non-empty directory: rename fails.
        let url = file("c.safetensors")
        try FileManager.default.createDirectory(at: url, withIntermediateDirectories: false)
        try Data([1]).write(to: url.appendingPathComponent("inside"))
        XCTAssertThrowsError(try AtomicFile.write(to: url) { try $0.write([1, 2, 3]) }) { error in
            let e = error as? FileIOError
            XCTAssertEqual(e?.path, url.path)
            XCTAssertTrue(e?.operation.hasPrefix("rename") ?? false, "\(error)")
        }
        XCTAssertEqual(try directoryListing(), ["c.safetensors"], "temporary file removed")
    }
}
