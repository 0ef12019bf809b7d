import Foundation
import XCTest
@testable import Ranker

/// Hand-assembled safetensors bytes, independent of `SafeTensorsWriter`:
/// 8-byte little-endian length, the header text as given (padded with spaces
/// to a multiple of 8 when `pad`), then the buffer.
func safetensorsBytes(header: String, buffer: [UInt8], pad: Bool = true) -> [UInt8] {
    var json = Array(header.utf8)
    if pad { while (8 + json.count) % 8 != 0 { json.append(0x20) } }
    var out: [UInt8] = []
    var n = UInt64(json.count)
    for _ in 0..<8 { out.append(UInt8(n & 0xFF)); n >>= 8 }
    return out + json + buffer
}

/// Little-endian bytes of `values`' bit patterns.
func littleEndianBytes(_ values: [Float]) -> [UInt8] {
    values.flatMap { v -> [UInt8] in
        let b = v.bitPattern
        return [UInt8(b & 0xFF), UInt8((b >> 8) & 0xFF), UInt8((b >> 16) & 0xFF), UInt8(b >> 24)]
    }
}

/// Bit patterns, so that NaN payloads and signed zeros compare exactly (read
/// as integers: no value passes through a floating-point register).
func bitPatterns(_ m: Matrix) -> [UInt32] {
    let raw = UnsafeRawPointer(m.data)
    return (0..<m.count).map { raw.load(fromByteOffset: 4 * $0, as: UInt32.self) }
}

/// A matrix whose elements have the given bit patterns (stored as integers).
func matrix(rows: Int, cols: Int, bits: [UInt32]) -> Matrix {
    precondition(bits.count == rows * cols)
    let m = Matrix(rows: rows, cols: cols)
    let raw = UnsafeMutableRawPointer(m.data)
    for (i, b) in bits.enumerated() { raw.storeBytes(of: b, toByteOffset: 4 * i, as: UInt32.self) }
    return m
}

/// Special values: quiet NaNs with payloads (both signs), a signalling NaN,
/// ±0, the smallest and largest subnormals, ±∞, the extremes of the normal range.
let specialFloatBits: [UInt32] = [
    0x7FC0_0001, 0xFFC1_2345, 0x7F80_0001, 0x7FBF_FFFF,
    0x0000_0000, 0x8000_0000, 0x0000_0001, 0x8000_0001,
    0x007F_FFFF, 0x807F_FFFF, 0x7F80_0000, 0xFF80_0000,
    0x7F7F_FFFF, 0xFF7F_FFFF, 0x0080_0000, 0x3F80_0000,
]
