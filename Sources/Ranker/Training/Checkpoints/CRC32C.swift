/// CRC-32C (Castagnoli: polynomial 0x1EDC6F41, reflected 0x82F63B78, initial
/// value and final XOR 0xFFFFFFFF), the checksum of iSCSI, ext4 and
/// Snappy/LevelDB, computed by slicing-by-8: eight 256-entry tables let the
/// loop consume eight bytes per iteration with eight table look-ups.
///
/// Ranker stores it per tensor in the safetensors files it writes
/// (`SafeTensorsChecksums`) so that a flipped byte in a checkpoint is found
/// when the file is read instead of being trained on. The published check
/// value, `CRC32C.checksum("123456789") == 0xE3069283`, is tested.
public enum CRC32C {
    /// `tables[k][b]`: the CRC of byte `b` followed by `k` zero bytes.
    private static let tables: [[UInt32]] = {
        var tables = [[UInt32]](repeating: [UInt32](repeating: 0, count: 256), count: 8)
        for b in 0..<256 {
            var crc = UInt32(b)
            for _ in 0..<8 { crc = (crc & 1) != 0 ? (crc >> 1) ^ 0x82F6_3B78 : crc >> 1 }
            tables[0][b] = crc
        }
        for b in 0..<256 {
            var crc = tables[0][b]
            for k in 1..<8 {
                crc = tables[0][Int(crc & 0xFF)] ^ (crc >> 8)
                tables[k][b] = crc
            }
        }
        return tables
    }()

    /// The CRC-32C of `bytes`, continuing from `crc` (the value returned for
    /// the bytes before; `0` to start), so a buffer can be checksummed in pieces.
    public static func checksum(_ bytes: UnsafeRawBufferPointer, continuing crc: UInt32 = 0) -> UInt32 {
        var c = ~crc
        guard let base = bytes.baseAddress, bytes.count > 0 else { return crc }
        let count = bytes.count
        var i = 0
        tables.withUnsafeBufferPointer { t in
            let t0 = t[0], t1 = t[1], t2 = t[2], t3 = t[3], t4 = t[4], t5 = t[5], t6 = t[6], t7 = t[7]
            t0.withUnsafeBufferPointer { t0 in t1.withUnsafeBufferPointer { t1 in
            t2.withUnsafeBufferPointer { t2 in t3.withUnsafeBufferPointer { t3 in
            t4.withUnsafeBufferPointer { t4 in t5.withUnsafeBufferPointer { t5 in
            t6.withUnsafeBufferPointer { t6 in t7.withUnsafeBufferPointer { t7 in
                while count - i >= 8 {
                    // Little-endian loads, byte by byte (no alignment assumption).
                    let lo = UInt32(base.load(fromByteOffset: i, as: UInt8.self))
                        | UInt32(base.load(fromByteOffset: i + 1, as: UInt8.self)) << 8
                        | UInt32(base.load(fromByteOffset: i + 2, as: UInt8.self)) << 16
                        | UInt32(base.load(fromByteOffset: i + 3, as: UInt8.self)) << 24
                    let x = c ^ lo
                    c = t7[Int(x & 0xFF)] ^ t6[Int((x >> 8) & 0xFF)] ^ t5[Int((x >> 16) & 0xFF)] ^ t4[Int(x >> 24)]
                        ^ t3[Int(base.load(fromByteOffset: i + 4, as: UInt8.self))]
                        ^ t2[Int(base.load(fromByteOffset: i + 5, as: UInt8.self))]
                        ^ t1[Int(base.load(fromByteOffset: i + 6, as: UInt8.self))]
                        ^ t0[Int(base.load(fromByteOffset: i + 7, as: UInt8.self))]
                    i += 8
                }
                while i < count {
                    c = t0[Int((c ^ UInt32(base.load(fromByteOffset: i, as: UInt8.self))) & 0xFF)] ^ (c >> 8)
                    i += 1
                }
            } } } } } } } }
        }
        return ~c
    }

    /// The CRC-32C of `bytes`.
    public static func checksum(_ bytes: [UInt8]) -> UInt32 {
        bytes.withUnsafeBytes { checksum($0) }
    }

    /// The CRC-32C of a string's UTF-8 bytes.
    public static func checksum(_ text: String) -> UInt32 {
        checksum(Array(text.utf8))
    }

    /// Eight lower-case hexadecimal digits (`e3069283`), the form stored in metadata.
    public static func hex(_ crc: UInt32) -> String {
        let digits = String(crc, radix: 16)
        return String(repeating: "0", count: 8 - digits.count) + digits
    }
}
