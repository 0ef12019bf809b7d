import Foundation
import XCTest

/// A test case with a fresh directory per test: `temporary`
/// (`<tmp>/ranker-<Class>-<UUID>`) exists when a test starts and is removed,
/// with everything in it, when the test ends.
open class TemporaryDirectoryTestCase: XCTestCase {
    public private(set) var temporary: URL!

    open override func setUpWithError() throws {
        try super.setUpWithError()
        temporary = FileManager.default.temporaryDirectory
            .appendingPathComponent("ranker-\(type(of: self))-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: temporary, withIntermediateDirectories: true)
    }

    open override func tearDownWithError() throws {
        if let temporary { try? FileManager.default.removeItem(at: temporary) }
        try super.tearDownWithError()
    }

    /// `name` in the test's directory.
    public func file(_ name: String) -> URL { temporary.appendingPathComponent(name) }

    /// The names in the test's directory, sorted (hidden temporary files included).
    public func directoryListing() throws -> [String] {
        try FileManager.default.contentsOfDirectory(atPath: temporary.path).sorted()
    }
}
