import Foundation
import XCTest

/// A test case whose tests train into fresh run directories: each call of
/// `temporaryDirectory(_:)` names a new directory (`ranker-<Class>-<name>-<UUID>`,
/// so a name may be reused in a loop), and every one is removed after the test.
class RunDirectoryTestCase: XCTestCase {
    private var directories: [URL] = []

    override func tearDown() {
        for d in directories { try? FileManager.default.removeItem(at: d) }
        directories = []
        super.tearDown()
    }

    func temporaryDirectory(_ name: String) -> URL {
        let url = FileManager.default.temporaryDirectory
            .appendingPathComponent("ranker-\(type(of: self))-\(name)-\(UUID().uuidString)")
        directories.append(url)
        return url
    }
}
