import Foundation

/// CRC-32C checksums (`CRC32C`) of a safetensors file, stored in its own
/// `__metadata__` so that the file stays standard safetensors (any reader
/// ignores two more string entries):
///
/// | key | value |
/// |---|---|
/// | `crc32c_tensors` | JSON object: every tensor's name → the CRC-32C of its data bytes, 8 hex digits |
/// | `crc32c_header` | 8 hex digits: the CRC-32C of the canonical header — the header JSON as `SafeTensorsHeader.encodedJSON` writes it, with every metadata entry but this one (so `crc32c_tensors` and the non-tensor state such as a checkpoint's trainer, optimizer and weighting metadata are covered) and the entries sorted by name |
///
/// Ranker's checkpoints and exports carry both (`SafeTensorsWriter.write(…, checksums: true)`);
/// `SafeTensorsReader` verifies the header checksum when it opens a file and
/// a tensor's checksum every time the tensor is read, naming the tensor. A
/// file without these keys (written before they existed, or by another tool)
/// is read without verification.
public enum SafeTensorsChecksums {
    /// The metadata key of the per-tensor checksums.
    public static let tensorsKey = "crc32c_tensors"
    /// The metadata key of the header checksum.
    public static let headerKey = "crc32c_header"
    /// Both keys: integrity data of the file, not metadata of its contents
    /// (`SafeTensorsReader.metadata` leaves them out).
    public static let keys: Set<String> = [tensorsKey, headerKey]

    /// The checksum of `matrix`'s storage (`count` floats, little-endian bytes).
    static func checksum(of matrix: Matrix) -> UInt32 {
        CRC32C.checksum(UnsafeRawBufferPointer(start: UnsafeRawPointer(matrix.data),
                                               count: matrix.count * MemoryLayout<Float>.size))
    }

    /// The JSON text of `crc32c_tensors` (keys sorted).
    static func encodeTensorChecksums(_ checksums: [String: UInt32]) -> String {
        "{" + checksums.keys.sorted().map { JSONLine.quote($0) + ":" + JSONLine.quote(CRC32C.hex(checksums[$0]!)) }
            .joined(separator: ",") + "}"
    }

    /// The checksum of the canonical header of `header` (see the type's documentation).
    static func headerChecksum(of header: SafeTensorsHeader) -> UInt32 {
        var metadata = header.metadata
        metadata[headerKey] = nil
        let canonical = SafeTensorsHeader(metadata: metadata, entries: header.entries.sorted { $0.name < $1.name })
        return CRC32C.checksum(canonical.encodedJSON())
    }

    /// `header` with both checksum entries added (`tensorChecksums` by tensor name).
    static func sealed(_ header: SafeTensorsHeader, tensorChecksums: [String: UInt32]) -> SafeTensorsHeader {
        var sealed = header
        sealed.metadata[tensorsKey] = encodeTensorChecksums(tensorChecksums)
        sealed.metadata[headerKey] = nil
        sealed.metadata[headerKey] = CRC32C.hex(headerChecksum(of: sealed))
        return sealed
    }

    /// Verifies the header checksum of `header` (read from `path`) and returns
    /// the tensor checksums, or `nil` for a file without checksums.
    ///
    /// - Throws: `SafeTensorsError` (`invalidChecksums`, `headerChecksumMismatch`).
    static func verifiedTensorChecksums(of header: SafeTensorsHeader, path: String) throws -> [String: UInt32]? {
        let storedHeader = header.metadata[headerKey]
        let storedTensors = header.metadata[tensorsKey]
        if storedHeader == nil && storedTensors == nil { return nil }
        guard let storedHeader, let expected = UInt32(storedHeader, radix: 16), storedHeader.count == 8 else {
            throw SafeTensorsError(path: path, problem: .invalidChecksums("\(headerKey) must be 8 hexadecimal digits"))
        }
        let found = headerChecksum(of: header)
        guard found == expected else {
            throw SafeTensorsError(path: path, problem: .headerChecksumMismatch(expected: expected, found: found))
        }
        guard let storedTensors,
              let object = try? JSONDecoder().decode([String: String].self, from: Data(storedTensors.utf8)) else {
            throw SafeTensorsError(path: path, problem: .invalidChecksums("\(tensorsKey) must be a JSON object of strings"))
        }
        var checksums: [String: UInt32] = [:]
        for (name, text) in object {
            guard text.count == 8, let value = UInt32(text, radix: 16) else {
                throw SafeTensorsError(path: path, problem: .invalidChecksums("\(tensorsKey): \(name) is not 8 hexadecimal digits"))
            }
            checksums[name] = value
        }
        for e in header.entries where checksums[e.name] == nil {
            throw SafeTensorsError(path: path, problem: .invalidChecksums("\(tensorsKey) has no checksum for tensor \(e.name)"))
        }
        return checksums
    }
}
