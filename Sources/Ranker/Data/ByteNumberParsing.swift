/// Number parsing straight from field bytes, without making a `String`.
///
/// Accepted decimal grammar: `[+-]digits[.digits][(e|E)[+-]digits]`, with
/// digits before or after the point (`1.`, `.5`); or, case-insensitively,
/// `nan`, `inf`, `infinity` with an optional sign (returned as NaN/±∞ so the
/// caller can say "not finite" rather than "not a number"). Anything else —
/// spaces, hex, thousands separators, an empty field — is not a number.
///
/// Rounding is exact: when the significant digits fit in 53 bits and the
/// decimal exponent is within ±22 the value is `digits × 10^e` or
/// `digits / 10^-e` in one correctly rounded operation (Clinger's fast
/// path); otherwise the text goes to the standard library's correctly
/// rounded, locale-independent `Double(String)`.
enum ByteNumberParsing {
    private static let powersOfTen: [Double] = [
        1e0, 1e1, 1e2, 1e3, 1e4, 1e5, 1e6, 1e7, 1e8, 1e9, 1e10, 1e11,
        1e12, 1e13, 1e14, 1e15, 1e16, 1e17, 1e18, 1e19, 1e20, 1e21, 1e22,
    ]

    @inline(__always) private static func isDigit(_ b: UInt8) -> Bool { b &- 0x30 < 10 }

    /// The sign that starts `bytes` (at least one byte): whether it is `-`,
    /// and its length (1 for `-` or `+`, else 0).
    @inline(__always) private static func sign(_ bytes: UnsafePointer<UInt8>) -> (negative: Bool, length: Int) {
        switch bytes[0] {
        case UInt8(ascii: "-"): return (true, 1)
        case UInt8(ascii: "+"): return (false, 1)
        default: return (false, 0)
        }
    }

    /// Appends digit `d` to `mantissa` while it holds fewer than 19
    /// significant digits (leading zeros do not count); returns false, leaving
    /// both unchanged, once it is full.
    @inline(__always) private static func appendDigit(
        _ d: UInt64, to mantissa: inout UInt64, significantDigits: inout Int
    ) -> Bool {
        guard significantDigits < 19 else { return false }
        mantissa = mantissa &* 10 &+ d
        if mantissa != 0 { significantDigits += 1 }
        return true
    }

    /// The number written in `bytes[0..<count]`, or nil if it is not one.
    static func parseDouble(_ bytes: UnsafePointer<UInt8>, count: Int) -> Double? {
        if count == 0 { return nil }
        let (negative, signLength) = sign(bytes)
        var i = signLength
        var mantissa: UInt64 = 0
        var significantDigits = 0
        var exponent = 0
        var sawDigit = false
        var inexact = false
        while i < count && isDigit(bytes[i]) {
            sawDigit = true
            let d = UInt64(bytes[i] &- 0x30)
            if !appendDigit(d, to: &mantissa, significantDigits: &significantDigits) {
                exponent += 1
                if d != 0 { inexact = true }
            }
            i += 1
        }
        if i < count && bytes[i] == UInt8(ascii: ".") {
            i += 1
            while i < count && isDigit(bytes[i]) {
                sawDigit = true
                let d = UInt64(bytes[i] &- 0x30)
                if appendDigit(d, to: &mantissa, significantDigits: &significantDigits) {
                    exponent -= 1
                } else if d != 0 {
                    inexact = true
                }
                i += 1
            }
        }
        if !sawDigit {
            return i == signLength ? parseSpecial(bytes + i, count: count - i, negative: negative) : nil
        }
        if i < count && (bytes[i] == UInt8(ascii: "e") || bytes[i] == UInt8(ascii: "E")) {
            i += 1
            var exponentNegative = false
            if i < count && (bytes[i] == UInt8(ascii: "-") || bytes[i] == UInt8(ascii: "+")) {
                exponentNegative = bytes[i] == UInt8(ascii: "-")
                i += 1
            }
            if i == count || !isDigit(bytes[i]) { return nil }
            var written = 0
            while i < count && isDigit(bytes[i]) {
                if written < 100_000 { written = written * 10 + Int(bytes[i] &- 0x30) }
                i += 1
            }
            exponent += exponentNegative ? -written : written
        }
        if i != count { return nil }
        if mantissa == 0 { return negative ? -0.0 : 0.0 }
        if !inexact && mantissa <= (1 << 53) && exponent >= -22 && exponent <= 22 {
            var value = Double(mantissa)
            value = exponent >= 0 ? value * powersOfTen[exponent] : value / powersOfTen[-exponent]
            return negative ? -value : value
        }
        // Rare: many digits or a large exponent. The grammar is already checked.
        return Double(String(decoding: UnsafeBufferPointer(start: bytes, count: count), as: UTF8.self))
    }

    /// `nan`, `inf`, `infinity` (any case) after an optional sign.
    private static func parseSpecial(_ bytes: UnsafePointer<UInt8>, count: Int, negative: Bool) -> Double? {
        if count != 3 && count != 8 { return nil }
        var lower = [UInt8](repeating: 0, count: count)
        for k in 0..<count { lower[k] = bytes[k] | 0x20 }
        if lower == Array("nan".utf8) { return .nan }
        if lower == Array("inf".utf8) || lower == Array("infinity".utf8) { return negative ? -.infinity : .infinity }
        return nil
    }

    /// Whether the bytes are written as a base-10 integer `[+-]digits`
    /// (whatever its size): tells an integer out of range from a non-integer.
    static func isIntegerText(_ bytes: UnsafePointer<UInt8>, count: Int) -> Bool {
        guard count > 0 else { return false }
        let (_, signLength) = sign(bytes)
        guard count > signLength else { return false }
        for i in signLength..<count where !isDigit(bytes[i]) { return false }
        return true
    }

    /// A base-10 integer `[+-]digits` that fits in `Int64`, or nil.
    static func parseInt64(_ bytes: UnsafePointer<UInt8>, count: Int) -> Int64? {
        if count == 0 { return nil }
        let (negative, signLength) = sign(bytes)
        var i = signLength
        if i == count { return nil }
        // Accumulate as a negative number so Int64.min is representable.
        var value: Int64 = 0
        while i < count {
            let b = bytes[i]
            if !isDigit(b) { return nil }
            let (times10, overflow1) = value.multipliedReportingOverflow(by: 10)
            let (next, overflow2) = times10.subtractingReportingOverflow(Int64(b &- 0x30))
            if overflow1 || overflow2 { return nil }
            value = next
            i += 1
        }
        if negative { return value }
        return value == .min ? nil : -value
    }
}
