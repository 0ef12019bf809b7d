import Foundation

/// Shared helpers of the libFuzzer harnesses in fuzz/harnesses/ (compiled into
/// the same module as the library and every harness; see fuzz/build.sh).
enum FuzzSupport {
    /// A private directory for this fuzzing process (inputs that the library
    /// reads from a path are written here).
    static let directory: URL = {
        let url = URL(fileURLWithPath: NSTemporaryDirectory())
            .appendingPathComponent("ranker-fuzz-\(getpid())", isDirectory: true)
        try? FileManager.default.createDirectory(at: url, withIntermediateDirectories: true)
        return url
    }()

    /// Writes `bytes` to `name` in `directory` (replacing it) and returns its URL.
    static func write(_ bytes: UnsafeRawBufferPointer, to name: String) -> URL {
        let url = directory.appendingPathComponent(name)
        let fd = open(url.path, O_WRONLY | O_CREAT | O_TRUNC, 0o600)
        precondition(fd >= 0, "cannot create \(url.path)")
        var offset = 0
        while offset < bytes.count {
            let n = Foundation.write(fd, bytes.baseAddress! + offset, bytes.count - offset)
            precondition(n > 0, "cannot write \(url.path)")
            offset += n
        }
        close(fd)
        return url
    }

    static func write(_ data: Data, to name: String) -> URL {
        data.withUnsafeBytes { write($0, to: name) }
    }

    /// The repository root: fuzz/ is next to Sources/ (from this file's path at
    /// build time; RANKER_ROOT overrides it).
    static let repositoryRoot: URL = {
        if let root = ProcessInfo.processInfo.environment["RANKER_ROOT"] { return URL(fileURLWithPath: root) }
        return URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent()
    }()

    /// Where a harness writes its library-produced seed files, when asked
    /// (`RANKER_FUZZ_WRITE_SEEDS=dir`, used by fuzz/seeds.sh).
    static var seedDirectory: URL? {
        ProcessInfo.processInfo.environment["RANKER_FUZZ_WRITE_SEEDS"].map { URL(fileURLWithPath: $0) }
    }
}
