import Foundation

#if _endian(big)
#error("safetensors stores little-endian bytes; Ranker writes Float storage as is")
#endif

/// Writes `F32` matrices and string metadata as a safetensors file (layout in
/// `SafeTensorsHeader`).
///
/// Tensors are laid out in the order of their names (sorted), contiguous from
/// offset 0, each with shape `[rows, cols]`. The file is replaced atomically
/// (`AtomicFile`): a crash mid-write leaves the previous file intact.
///
/// Memory: only the header is built in memory; each matrix's storage is
/// streamed to the file directly with `write(2)` (no copy), so writing a
/// 1 GB checkpoint needs no extra gigabyte. The matrices must not change while
/// the call runs.
public enum SafeTensorsWriter {
    /// Writes `tensors` and `metadata` to `url`, atomically.
    ///
    /// - Parameter checksums: also store the CRC-32C of every tensor and of
    ///   the header in `__metadata__` (`SafeTensorsChecksums`; Ranker's
    ///   checkpoints and exports do), so that readers detect corruption.
    /// - Throws: `SafeTensorsError.duplicateName` (before anything is written),
    ///   `FileIOError` for a failed system call.
    public static func write(tensors: [(name: String, value: Matrix)], metadata: [String: String],
                             to url: URL, checksums: Bool = false) throws {
        var (header, ordered) = try layout(tensors: tensors, metadata: metadata, path: url.path)
        if checksums {
            for key in SafeTensorsChecksums.keys { header.metadata[key] = nil }
            var crcs: [String: UInt32] = [:]
            for (entry, matrix) in zip(header.entries, ordered) { crcs[entry.name] = SafeTensorsChecksums.checksum(of: matrix) }
            header = SafeTensorsChecksums.sealed(header, tensorChecksums: crcs)
        }
        try AtomicFile.write(to: url) { sink in
            try writeContents(header: header, tensors: ordered, into: sink)
        }
    }

    /// The header of `tensors` (sorted by name, contiguous) and the matrices in that order.
    static func layout(tensors: [(name: String, value: Matrix)], metadata: [String: String],
                       path: String) throws -> (SafeTensorsHeader, [Matrix]) {
        let sorted = tensors.sorted { $0.name < $1.name }
        var entries: [SafeTensorsEntry] = []
        entries.reserveCapacity(sorted.count)
        var offset = 0
        for (i, tensor) in sorted.enumerated() {
            if i > 0 && sorted[i - 1].name == tensor.name {
                throw SafeTensorsError(path: path, problem: .duplicateName(tensor.name))
            }
            precondition(!tensor.name.isEmpty && tensor.name != SafeTensorsHeader.metadataKey,
                         "safetensors: invalid tensor name \"\(tensor.name)\"")
            let bytes = tensor.value.count * MemoryLayout<Float>.size
            entries.append(SafeTensorsEntry(name: tensor.name, dtype: .f32,
                                            shape: [tensor.value.rows, tensor.value.cols],
                                            begin: offset, end: offset + bytes))
            offset += bytes
        }
        return (SafeTensorsHeader(metadata: metadata, entries: entries), sorted.map(\.value))
    }

    /// Streams the length, the header and every matrix's bytes into `sink`.
    static func writeContents(header: SafeTensorsHeader, tensors: [Matrix], into sink: FileSink) throws {
        let json = header.encodedJSON()
        var length = [UInt8](repeating: 0, count: 8)
        for i in 0..<8 { length[i] = UInt8(truncatingIfNeeded: UInt64(json.count) >> (8 * UInt64(i))) }
        try sink.write(length)
        try sink.write(json)
        for matrix in tensors {
            try sink.write(UnsafeRawBufferPointer(start: UnsafeRawPointer(matrix.data),
                                                  count: matrix.count * MemoryLayout<Float>.size))
        }
    }
}
