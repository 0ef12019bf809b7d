import Foundation

/// Replaces a file so that a reader — or a run resumed after a crash — sees
/// either the complete old contents or the complete new contents, never a mix
/// or a truncated file.
///
/// `write(to:_:)`:
/// 1. creates a temporary file `.<name>.tmp-<pid>-<random>` in the
///    destination's directory (same file system, so the rename is atomic);
/// 2. lets the caller stream the contents into it (`FileSink`);
/// 3. `fsync`s the temporary file (its bytes are on disk before it gets the
///    destination's name) and closes it;
/// 4. `rename`s it over the destination (atomic replacement);
/// 5. `fsync`s the directory (the new name itself is durable).
///
/// If the caller or any step before the rename throws, the temporary file is
/// removed and the destination is untouched. If the process dies before the
/// rename (a crash, `kill -9`), the destination is untouched too and a stale
/// temporary file may remain: it is removed by the next successful write of
/// the same destination (`removeStaleTemporaryFiles(for:)`). A failure of the
/// directory `fsync` after the rename is reported (the new file is in place,
/// but its durability is not guaranteed); file systems that do not support
/// syncing a directory (`EINVAL`) are accepted.
///
/// Two processes must not write the same destination at the same time.
/// On Darwin, `fsync` does not force the drive's cache (`F_FULLFSYNC` would).
public enum AtomicFile {
    /// Writes the destination `url` through `body` as described above.
    ///
    /// - Throws: `FileIOError` for a failed system call, or whatever `body` throws.
    public static func write(to url: URL, _ body: (FileSink) throws -> Void) throws {
        let destination = url.path
        let directory = url.deletingLastPathComponent().path
        let temporary = url.deletingLastPathComponent()
            .appendingPathComponent(temporaryPrefix(for: url)
                + "\(getpid())-\(String(UInt64.random(in: 0...UInt64.max), radix: 16))").path

        let fd = open(temporary, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0o644)
        guard fd >= 0 else { throw FileIOError.lastSystemError(path: temporary, operation: "open (create)") }
        var isOpen = true
        do {
            let sink = FileSink(path: temporary, descriptor: fd)
            try body(sink)
            guard fsync(fd) == 0 else { throw FileIOError.lastSystemError(path: temporary, operation: "fsync") }
            isOpen = false
            guard close(fd) == 0 else { throw FileIOError.lastSystemError(path: temporary, operation: "close") }
            guard rename(temporary, destination) == 0 else {
                throw FileIOError.lastSystemError(path: destination, operation: "rename from \(temporary)")
            }
        } catch {
            if isOpen { _ = close(fd) }
            _ = unlink(temporary)
            throw error
        }
        try syncDirectory(directory)
        removeStaleTemporaryFiles(for: url)
    }

    /// The temporary files of interrupted writes of `url` (left behind only
    /// when a process died mid-write).
    public static func temporaryFiles(for url: URL) -> [URL] {
        let directory = url.deletingLastPathComponent()
        let prefix = temporaryPrefix(for: url)
        let names = (try? FileManager.default.contentsOfDirectory(atPath: directory.path)) ?? []
        return names.filter { $0.hasPrefix(prefix) }.sorted().map { directory.appendingPathComponent($0) }
    }

    /// Removes the temporary files of interrupted writes of `url`.
    public static func removeStaleTemporaryFiles(for url: URL) {
        for file in temporaryFiles(for: url) { _ = unlink(file.path) }
    }

    /// `.<name>.tmp-`: hidden, and recognisably tied to its destination.
    static func temporaryPrefix(for url: URL) -> String {
        "." + url.lastPathComponent + ".tmp-"
    }

    /// `fsync` of a directory, so that a rename inside it is durable.
    private static func syncDirectory(_ path: String) throws {
        let fd = open(path, O_RDONLY | O_DIRECTORY | O_CLOEXEC)
        guard fd >= 0 else { throw FileIOError.lastSystemError(path: path, operation: "open (directory)") }
        defer { _ = close(fd) }
        if fsync(fd) != 0 && errno != EINVAL && errno != ENOTSUP {
            throw FileIOError.lastSystemError(path: path, operation: "fsync (directory)")
        }
    }
}
