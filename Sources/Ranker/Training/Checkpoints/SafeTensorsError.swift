/// A safetensors file that cannot be read or written, naming the file and
/// what is wrong with it. (Failing system calls are `FileIOError`s.)
public struct SafeTensorsError: FileError, Equatable {
    /// The file concerned.
    public let path: String
    /// What is wrong.
    public let problem: Problem

    /// Everything the reader checks, and the I/O failures of reader and writer.
    public enum Problem: Equatable, Sendable {
        /// Fewer than the 8 bytes of the header length.
        case fileTooShort(size: Int)
        /// The header length `N` is below 2 (`{}`), above the limit, or runs
        /// past the end of the file.
        case headerLengthOutOfRange(length: UInt64, fileSize: Int)
        /// The header bytes are not UTF-8.
        case headerNotUTF8
        /// The header is not a JSON object (the parser's message).
        case invalidJSON(String)
        /// `__metadata__` is not an object of strings.
        case invalidMetadata(String)
        /// A tensor entry is malformed (missing or extra field, wrong type,
        /// negative dimension, `begin > end`, reserved or empty name).
        case invalidEntry(name: String, reason: String)
        /// A `dtype` that is not a safetensors type.
        case unknownDType(name: String, dtype: String)
        /// `data_offsets` reach past the end of the byte buffer.
        case offsetsOutOfRange(name: String, begin: Int, end: Int, bufferSize: Int)
        /// `product(shape) × size(dtype)` does not fit in an `Int` (a corrupt
        /// or hostile header: no file can hold the tensor).
        case shapeTooLarge(name: String, shape: [Int], dtype: String)
        /// `product(shape) × size(dtype)` differs from `end − begin`.
        case sizeMismatch(name: String, shape: [Int], dtype: String, expectedBytes: Int, actualBytes: Int)
        /// Two tensors share bytes.
        case overlappingTensors(first: String, second: String)
        /// Bytes between two tensors (or before the first) that no tensor covers.
        case unaccountedBytes(offset: Int, count: Int)
        /// Bytes after the last tensor that no tensor covers.
        case trailingBytes(offset: Int, count: Int)
        /// The file holds no tensor of that name.
        case tensorNotFound(name: String)
        /// A tensor exists but is not of the type asked for (Ranker loads `F32`).
        case unsupportedDType(name: String, dtype: String)
        /// A tensor that was asked for as a matrix has a rank other than 2.
        case notAMatrix(name: String, shape: [Int])
        /// The same tensor name was given twice to the writer.
        case duplicateName(String)
        /// The file ended before the bytes the header promised.
        case truncated(expectedSize: Int, actualSize: Int)
        /// A tensor exists with another shape than the one its reader needs
        /// (`expected`), e.g. a `best.safetensors` copied from a run with a
        /// larger vocabulary, or a transposed matrix of the same size.
        case shapeMismatch(name: String, expected: [Int], found: [Int])
        /// A tensor's data does not have the CRC-32C stored for it
        /// (`SafeTensorsChecksums`): the file was corrupted after it was written.
        case checksumMismatch(name: String, expected: UInt32, found: UInt32)
        /// The header (metadata and tensor entries) does not have the CRC-32C
        /// stored for it: the header was corrupted after it was written.
        case headerChecksumMismatch(expected: UInt32, found: UInt32)
        /// The checksum entries of `__metadata__` are malformed.
        case invalidChecksums(String)
    }

    public var location: String { path }

    public var detail: String {
        switch problem {
        case .fileTooShort(let size):
            return "not a safetensors file: \(size) bytes, shorter than the 8-byte header length"
        case .headerLengthOutOfRange(let length, let fileSize):
            return "header length \(length) is not possible in a file of \(fileSize) bytes "
                + "(must be 2...\(SafeTensorsHeader.maximumHeaderLength) and fit in the file)"
        case .headerNotUTF8:
            return "header is not valid UTF-8"
        case .invalidJSON(let message):
            return "header is not a valid JSON object: \(message)"
        case .invalidMetadata(let message):
            return "__metadata__: \(message)"
        case .invalidEntry(let name, let reason):
            return "tensor \(name): \(reason)"
        case .unknownDType(let name, let dtype):
            return "tensor \(name): unknown dtype \(dtype)"
        case .offsetsOutOfRange(let name, let begin, let end, let size):
            return "tensor \(name): data_offsets [\(begin), \(end)] outside the \(size)-byte buffer"
        case .shapeTooLarge(let name, let shape, let dtype):
            return "tensor \(name): shape \(shape) of \(dtype) would need more than \(Int.max) bytes "
                + "(the product of its dimensions overflows); the header is corrupt"
        case .sizeMismatch(let name, let shape, let dtype, let expected, let actual):
            return "tensor \(name): shape \(shape) of \(dtype) needs \(expected) bytes, data_offsets give \(actual)"
        case .overlappingTensors(let first, let second):
            return "tensors \(first) and \(second) overlap"
        case .unaccountedBytes(let offset, let count):
            return "\(count) bytes at buffer offset \(offset) belong to no tensor"
        case .trailingBytes(let offset, let count):
            return "\(count) bytes after the last tensor (buffer offset \(offset)) belong to no tensor"
        case .tensorNotFound(let name):
            return "no tensor named \(name)"
        case .unsupportedDType(let name, let dtype):
            return "tensor \(name) is \(dtype), expected F32"
        case .notAMatrix(let name, let shape):
            return "tensor \(name) has shape \(shape), expected a matrix [rows, cols]"
        case .duplicateName(let name):
            return "tensor name \(name) given twice"
        case .truncated(let expected, let actual):
            return "file is truncated: the header describes \(expected) bytes, the file has \(actual)"
        case .shapeMismatch(let name, let expected, let found):
            return "tensor \(name) has shape \(found), expected \(expected)"
        case .checksumMismatch(let name, let expected, let found):
            return "tensor \(name) is corrupt: its data has CRC-32C \(CRC32C.hex(found)), the file recorded "
                + "\(CRC32C.hex(expected)) when it was written"
        case .headerChecksumMismatch(let expected, let found):
            return "header is corrupt: its CRC-32C is \(CRC32C.hex(found)), the file recorded \(CRC32C.hex(expected)) "
                + "when it was written (metadata or tensor entries changed)"
        case .invalidChecksums(let message):
            return "__metadata__ checksums: \(message)"
        }
    }
}
