import CZlib
#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

@inline(__always) private func readDescriptor(_ fd: Int32, _ buffer: UnsafeMutableRawPointer, _ count: Int) -> Int {
    #if canImport(Glibc)
    return Glibc.read(fd, buffer, count)
    #else
    return Darwin.read(fd, buffer, count)
    #endif
}

/// A stream of raw bytes read in large chunks: a plain file, or a gzip file
/// decompressed on the fly.
///
/// `read(into:capacity:)` fills up to `capacity` bytes and returns how many it
/// wrote; 0 means the end of the stream. Failures are `DataError`s naming the
/// file.
protocol ByteSource: AnyObject {
    func read(into buffer: UnsafeMutablePointer<UInt8>, capacity: Int) throws -> Int
}

/// Opens `path` for streaming; gzip input is recognised by its magic bytes
/// (`1f 8b`), not by the file name, and decompressed with zlib.
///
/// zlib (linked as a system library) was chosen over piping through
/// `gzip -dc` because it needs no external program on `PATH`, no child
/// process to supervise, and reports a truncated or corrupt stream as an
/// error at the byte where it happens instead of an exit status after the
/// fact.
func openByteSource(path: String) throws -> ByteSource {
    let file = try FileByteSource(path: path)
    if file.startsWithGzipMagic() { return try GzipByteSource(file: file) }
    return file
}

/// Unbuffered reads of a regular file through its descriptor.
final class FileByteSource: ByteSource {
    let path: String
    private let descriptor: Int32

    init(path: String) throws {
        self.path = path
        let fd = open(path, O_RDONLY)
        if fd < 0 { throw DataError(file: path, problem: .cannotOpen(reason: String(cString: strerror(errno)))) }
        var info = stat()
        if fstat(fd, &info) == 0 && (info.st_mode & S_IFMT) == S_IFDIR {
            close(fd)
            throw DataError(file: path, problem: .cannotOpen(reason: "it is a directory"))
        }
        descriptor = fd
    }

    deinit { close(descriptor) }

    /// Whether the first two bytes are the gzip magic `1f 8b` (does not move the read position).
    func startsWithGzipMagic() -> Bool {
        var magic: (UInt8, UInt8) = (0, 0)
        let n = withUnsafeMutableBytes(of: &magic) { pread(descriptor, $0.baseAddress, 2, 0) }
        return n == 2 && magic.0 == 0x1f && magic.1 == 0x8b
    }

    func read(into buffer: UnsafeMutablePointer<UInt8>, capacity: Int) throws -> Int {
        while true {
            let n = readDescriptor(descriptor, buffer, capacity)
            if n >= 0 { return n }
            if errno == EINTR { continue }
            throw DataError(file: path, problem: .readFailed(reason: String(cString: strerror(errno))))
        }
    }
}

/// gzip decompression with zlib (`inflate`, window bits 15 + 16: gzip
/// wrapper only). Concatenated gzip members are decoded one after another,
/// as `gzip -dc` does. A stream that ends before its trailer is an error.
final class GzipByteSource: ByteSource {
    private let file: FileByteSource
    private let stream: UnsafeMutablePointer<z_stream>
    private let input: UnsafeMutablePointer<UInt8>
    private let inputCapacity = 1 << 20
    private var inputExhausted = false
    /// True between the end of one member and the start of the next.
    private var betweenMembers = false
    private var finished = false

    init(file: FileByteSource) throws {
        self.file = file
        stream = .allocate(capacity: 1)
        stream.initialize(to: z_stream())
        input = .allocate(capacity: inputCapacity)
        let status = inflateInit2_(stream, 15 + 16, zlibVersion(), Int32(MemoryLayout<z_stream>.size))
        if status != Z_OK {
            input.deallocate()
            stream.deallocate()
            throw DataError(file: file.path, problem: .corruptGzip(reason: "inflateInit2 failed (\(status))"))
        }
    }

    deinit {
        inflateEnd(stream)
        stream.deinitialize(count: 1)
        stream.deallocate()
        input.deallocate()
    }

    private func refillInput() throws {
        let n = try file.read(into: input, capacity: inputCapacity)
        if n == 0 { inputExhausted = true }
        stream.pointee.next_in = input
        stream.pointee.avail_in = UInt32(n)
    }

    func read(into buffer: UnsafeMutablePointer<UInt8>, capacity: Int) throws -> Int {
        if finished || capacity == 0 { return 0 }
        stream.pointee.next_out = buffer
        stream.pointee.avail_out = UInt32(min(capacity, Int(UInt32.max)))
        let requested = Int(stream.pointee.avail_out)
        while stream.pointee.avail_out > 0 {
            if stream.pointee.avail_in == 0 && !inputExhausted { try refillInput() }
            if betweenMembers {
                // Another member follows only if bytes remain.
                if stream.pointee.avail_in == 0 && inputExhausted { finished = true; break }
                betweenMembers = false
            }
            if stream.pointee.avail_in == 0 && inputExhausted {
                throw DataError(file: file.path, problem: .corruptGzip(reason: "unexpected end of the compressed stream"))
            }
            let status = inflate(stream, Z_NO_FLUSH)
            switch status {
            case Z_OK, Z_BUF_ERROR:
                continue
            case Z_STREAM_END:
                inflateReset(stream)
                betweenMembers = true
            default:
                let reason = stream.pointee.msg.map { String(cString: $0) } ?? "inflate returned \(status)"
                throw DataError(file: file.path, problem: .corruptGzip(reason: reason))
            }
        }
        return requested - Int(stream.pointee.avail_out)
    }
}
