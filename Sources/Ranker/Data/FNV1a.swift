/// FNV-1a, 64-bit: the stable hash used for hash-bucket sparse features,
/// hashed user ids and the vocabulary tables.
///
///     h = 0xcbf29ce484222325;  for each byte b: h = (h ^ b) · 0x100000001b3  (mod 2^64)
///
/// It depends only on the bytes (no seed, no platform difference), so hashed
/// ids are the same on every machine and in every run. Reference values:
/// `""` → `0xcbf29ce484222325`, `"a"` → `0xaf63dc4c8601ec8c`,
/// `"foobar"` → `0x85944171f73967e8`.
public enum FNV1a {
    public static let offsetBasis: UInt64 = 0xcbf2_9ce4_8422_2325
    public static let prime: UInt64 = 0x0000_0100_0000_01b3

    /// The hash of `bytes[0..<count]`.
    @inlinable
    public static func hash(_ bytes: UnsafePointer<UInt8>, count: Int) -> UInt64 {
        var h = offsetBasis
        for i in 0..<count {
            h = (h ^ UInt64(bytes[i])) &* prime
        }
        return h
    }

    /// The hash of the UTF-8 bytes of `text`.
    public static func hash(_ text: String) -> UInt64 {
        var h = offsetBasis
        for b in text.utf8 { h = (h ^ UInt64(b)) &* prime }
        return h
    }
}
