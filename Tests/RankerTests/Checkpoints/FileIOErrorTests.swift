import Foundation
import XCTest
@testable import Ranker

/// A full disk is reported in the system's words. Before: a telemetry write
/// on a full tmpfs failed with Foundation's "The operation could not be
/// completed. There isn't enough space." (found by `faults/disk_full.py`).
final class FileIOErrorTests: XCTestCase {
    /// `/dev/full` fails every write with ENOSPC, as a full disk does.
    func testAFoundationWriteErrorGivesTheSystemMessage() throws {
        let handle = try XCTUnwrap(FileHandle(forWritingAtPath: "/dev/full"))
        defer { try? handle.close() }
        XCTAssertThrowsError(try handle.write(contentsOf: Data(repeating: 0x41, count: 1 << 16))) { error in
            XCTAssertEqual(FileIOError.systemMessage(of: error), "No space left on device", "\(error)")
        }
    }

    func testTheWrappedPOSIXErrorIsFoundAndOtherErrorsKeepTheirDescription() {
        let wrapped = NSError(domain: NSCocoaErrorDomain, code: CocoaError.fileWriteOutOfSpace.rawValue,
                              userInfo: [NSUnderlyingErrorKey: NSError(domain: NSPOSIXErrorDomain, code: Int(EACCES))])
        XCTAssertEqual(FileIOError.systemMessage(of: wrapped), "Permission denied")
        let plain = NSError(domain: "elsewhere", code: 1, userInfo: [NSLocalizedDescriptionKey: "something else"])
        XCTAssertEqual(FileIOError.systemMessage(of: plain), "something else")
    }
}
