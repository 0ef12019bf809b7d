import Foundation

/// An exclusive `flock(2)` on `<run directory>/.ranker.lock`, held for the
/// life of a run, so that two processes cannot train or resume the same run
/// directory at once (they would overwrite each other's checkpoints and
/// telemetry, and one would delete the other's temporary files).
///
/// The lock belongs to the open file: it is released when `release()` is
/// called, when the object is freed, or when the process ends in any way
/// (`kill -9` included), so a crashed run never leaves a stale lock behind.
/// The lock file itself stays (it is empty); its presence means nothing.
public final class RunDirectoryLock {
    /// The name of the lock file inside the run directory.
    public static let fileName = ".ranker.lock"

    /// The lock file.
    public let url: URL
    private var descriptor: Int32

    /// Takes the lock of `directory` without waiting.
    ///
    /// - Throws: `TrainingError` naming the directory when another process
    ///   (or another `Trainer` in this one) holds it; `FileIOError` when the
    ///   lock file cannot be opened or locked.
    public init(directory: URL) throws {
        url = directory.appendingPathComponent(RunDirectoryLock.fileName)
        let fd = open(url.path, O_RDWR | O_CREAT | O_CLOEXEC, 0o644)
        guard fd >= 0 else { throw FileIOError.lastSystemError(path: url.path, operation: "open (lock file)") }
        var result: Int32
        repeat { result = flock(fd, LOCK_EX | LOCK_NB) } while result != 0 && errno == EINTR
        if result != 0 {
            let code = errno
            _ = close(fd)
            if code == EWOULDBLOCK {
                throw TrainingError(message: "\(directory.path) is in use: another ranker process is training or "
                                    + "resuming this run (it holds \(url.path)); wait for it to end, or choose another --out")
            }
            throw FileIOError(path: url.path, operation: "flock", message: String(cString: strerror(code)))
        }
        descriptor = fd
    }

    /// Releases the lock (also done when the object is freed).
    public func release() {
        if descriptor >= 0 {
            _ = close(descriptor)
            descriptor = -1
        }
    }

    deinit { release() }
}
