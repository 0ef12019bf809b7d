import Foundation

/// A file open for writing, written sequentially by `AtomicFile.write`.
///
/// Bytes go straight from the caller's memory to the file with `write(2)` —
/// no intermediate buffer, so a tensor's storage is streamed without a copy.
/// Short writes and `EINTR` are retried; any other failure throws a
/// `FileIOError` naming the file.
public final class FileSink {
    /// The file being written (the temporary file of an atomic write).
    public let path: String
    /// Number of bytes written so far.
    public private(set) var bytesWritten: Int = 0
    let descriptor: Int32

    init(path: String, descriptor: Int32) {
        self.path = path
        self.descriptor = descriptor
    }

    /// Largest single `write(2)` (Linux transfers at most about 2 GiB per call).
    private static let chunkSize = 1 << 30

    /// Appends `bytes` to the file.
    public func write(_ bytes: UnsafeRawBufferPointer) throws {
        guard var cursor = bytes.baseAddress, bytes.count > 0 else { return }
        var remaining = bytes.count
        while remaining > 0 {
            let n = systemWrite(descriptor, cursor, min(remaining, FileSink.chunkSize))
            if n < 0 {
                if errno == EINTR { continue }
                throw FileIOError.lastSystemError(path: path, operation: "write")
            }
            if n == 0 { throw FileIOError(path: path, operation: "write", message: "wrote 0 bytes") }
            cursor += n
            remaining -= n
            bytesWritten += n
        }
    }

    /// Appends `bytes` to the file.
    public func write(_ bytes: [UInt8]) throws {
        try bytes.withUnsafeBytes { try write($0) }
    }
}

/// `write(2)` (named apart so that it is not confused with `FileSink.write`).
@inline(__always)
private func systemWrite(_ fd: Int32, _ buffer: UnsafeRawPointer, _ count: Int) -> Int {
    #if canImport(Glibc)
    return Glibc.write(fd, buffer, count)
    #else
    return Darwin.write(fd, buffer, count)
    #endif
}
