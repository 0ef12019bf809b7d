import Foundation

/// Reads a safetensors file (layout in `SafeTensorsHeader`).
///
/// Opening reads only the 8-byte length and the header, and validates both
/// completely (see `SafeTensorsHeader`) before any tensor is read. Tensors are
/// then read on demand with `pread(2)` straight into their destination
/// storage, so loading a file needs no second copy of it in memory. Values are
/// copied bit for bit (NaN payloads, `-0.0` and subnormals survive).
///
/// Element bytes are little-endian, the byte order of every platform Ranker
/// builds for.
public final class SafeTensorsReader {
    /// The file.
    public let path: String
    /// The validated header.
    public let header: SafeTensorsHeader
    /// Size of the file in bytes.
    public let fileSize: Int
    /// File position of the byte buffer (`8 + N`).
    public let bufferStart: Int
    /// The CRC-32C of every tensor's data (`SafeTensorsChecksums`), verified
    /// on every read; `nil` for a file written without checksums.
    public let tensorChecksums: [String: UInt32]?
    private let descriptor: Int32

    /// Opens `url` and validates its header.
    ///
    /// - Throws: `FileIOError` when the file cannot be opened or read;
    ///   `SafeTensorsError` when it is not a valid safetensors file.
    public init(url: URL) throws {
        let path = url.path
        self.path = path
        let fd = open(path, O_RDONLY | O_CLOEXEC)
        guard fd >= 0 else { throw FileIOError.lastSystemError(path: path, operation: "open") }
        descriptor = fd
        var status = stat()
        guard fstat(fd, &status) == 0 else {
            let error = FileIOError.lastSystemError(path: path, operation: "fstat")
            _ = close(fd)
            throw error
        }
        fileSize = Int(status.st_size)
        do {
            guard fileSize >= 8 else {
                throw SafeTensorsError(path: path, problem: .fileTooShort(size: fileSize))
            }
            var lengthBytes = [UInt8](repeating: 0, count: 8)
            try lengthBytes.withUnsafeMutableBytes { try SafeTensorsReader.read(fd, path: path, into: $0, at: 0) }
            var length: UInt64 = 0
            for (i, byte) in lengthBytes.enumerated() { length |= UInt64(byte) << (8 * UInt64(i)) }
            guard length >= 2, length <= UInt64(SafeTensorsHeader.maximumHeaderLength),
                  Int(length) <= fileSize - 8 else {
                throw SafeTensorsError(path: path, problem: .headerLengthOutOfRange(length: length, fileSize: fileSize))
            }
            let headerLength = Int(length)
            var headerBytes = [UInt8](repeating: 0, count: headerLength)
            try headerBytes.withUnsafeMutableBytes { try SafeTensorsReader.read(fd, path: path, into: $0, at: 8) }
            bufferStart = 8 + headerLength
            header = try SafeTensorsHeader.decode(headerBytes, bufferSize: fileSize - bufferStart, path: path)
            tensorChecksums = try SafeTensorsChecksums.verifiedTensorChecksums(of: header, path: path)
        } catch {
            _ = close(fd)
            throw error
        }
    }

    deinit {
        _ = close(descriptor)
    }

    /// The `__metadata__` entries, without the checksum entries
    /// (`SafeTensorsChecksums.keys`, which describe the file, not its contents).
    public var metadata: [String: String] { header.metadata.filter { !SafeTensorsChecksums.keys.contains($0.key) } }

    /// The tensor names, sorted.
    public var tensorNames: [String] { header.entries.map(\.name).sorted() }

    /// The entry of an `F32` matrix (rank 2) named `name`.
    ///
    /// - Throws: `SafeTensorsError` (`tensorNotFound`, `unsupportedDType`, `notAMatrix`).
    public func matrixEntry(named name: String) throws -> SafeTensorsEntry {
        guard let entry = header.entry(named: name) else {
            throw SafeTensorsError(path: path, problem: .tensorNotFound(name: name))
        }
        guard entry.dtype == .f32 else {
            throw SafeTensorsError(path: path, problem: .unsupportedDType(name: name, dtype: entry.dtype.rawValue))
        }
        guard entry.shape.count == 2 else {
            throw SafeTensorsError(path: path, problem: .notAMatrix(name: name, shape: entry.shape))
        }
        return entry
    }

    /// Reads the `F32` matrix `name` (shape `[rows, cols]`) into a new `Matrix`.
    public func readMatrix(named name: String) throws -> Matrix {
        let entry = try matrixEntry(named: name)
        let matrix = Matrix(rows: entry.shape[0], cols: entry.shape[1])
        try readFloats(of: entry, into: matrix.data)
        return matrix
    }

    /// The entry of the `F32` matrix `name`, which must have shape `[rows, cols]`.
    ///
    /// - Throws: `SafeTensorsError` (`tensorNotFound`, `unsupportedDType`,
    ///   `notAMatrix`, `shapeMismatch`) naming this file and the tensor.
    public func matrixEntry(named name: String, rows: Int, cols: Int) throws -> SafeTensorsEntry {
        let entry = try matrixEntry(named: name)
        guard entry.shape == [rows, cols] else {
            throw SafeTensorsError(path: path, problem: .shapeMismatch(name: name, expected: [rows, cols], found: entry.shape))
        }
        return entry
    }

    /// Reads the `F32` matrix `name`, which must have shape `[rows, cols]`
    /// (a transposed matrix of the same size is refused too).
    ///
    /// - Throws: as `matrixEntry(named:rows:cols:)`; `checksumMismatch`.
    public func readMatrix(named name: String, rows: Int, cols: Int) throws -> Matrix {
        let entry = try matrixEntry(named: name, rows: rows, cols: cols)
        let matrix = Matrix(rows: rows, cols: cols)
        try readFloats(of: entry, into: matrix.data)
        return matrix
    }

    /// Reads the `F32` matrix `name` into `destination`, which it must match
    /// in shape; on any error `destination` is unchanged.
    ///
    /// - Throws: as `readMatrix(named:rows:cols:)`.
    public func readMatrix(named name: String, into destination: Matrix) throws {
        let matrix = try readMatrix(named: name, rows: destination.rows, cols: destination.cols)
        destination.copy(from: matrix)
    }

    /// Every tensor, all of which must be `F32` matrices, by name.
    public func readAllMatrices() throws -> [String: Matrix] {
        var result: [String: Matrix] = [:]
        for name in tensorNames { result[name] = try readMatrix(named: name) }
        return result
    }

    /// Copies the bytes of `entry` into `destination` (`entry.byteCount` bytes)
    /// and verifies their checksum when the file has checksums.
    private func readFloats(of entry: SafeTensorsEntry, into destination: UnsafeMutablePointer<Float>) throws {
        let buffer = UnsafeMutableRawBufferPointer(start: UnsafeMutableRawPointer(destination), count: entry.byteCount)
        try SafeTensorsReader.read(descriptor, path: path, into: buffer, at: bufferStart + entry.begin)
        if let expected = tensorChecksums?[entry.name] {
            let found = CRC32C.checksum(UnsafeRawBufferPointer(buffer))
            guard found == expected else {
                throw SafeTensorsError(path: path, problem: .checksumMismatch(name: entry.name, expected: expected, found: found))
            }
        }
    }

    /// `pread` until `buffer` is full (retrying short reads and `EINTR`).
    private static func read(_ fd: Int32, path: String, into buffer: UnsafeMutableRawBufferPointer, at offset: Int) throws {
        guard var cursor = buffer.baseAddress, buffer.count > 0 else { return }
        var remaining = buffer.count
        var position = offset
        while remaining > 0 {
            let n = pread(fd, cursor, min(remaining, 1 << 30), off_t(position))
            if n < 0 {
                if errno == EINTR { continue }
                throw FileIOError.lastSystemError(path: path, operation: "read")
            }
            if n == 0 {
                throw SafeTensorsError(path: path, problem: .truncated(expectedSize: offset + buffer.count,
                                                                       actualSize: position))
            }
            cursor += n
            remaining -= n
            position += n
        }
    }
}
