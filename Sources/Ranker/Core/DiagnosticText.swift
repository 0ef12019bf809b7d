/// Text from an input file or a configuration, made safe to print inside an
/// error message: a control character (NUL, escape, a line break…) printed
/// raw would be invisible, would cut the message in two, or would drive the
/// terminal; here each one is written visibly instead.
///
/// Tab, line feed and carriage return become `\t`, `\n`, `\r`; every other
/// C0 control, DEL and the C1 controls (U+0080…U+009F) become `\u{XX}`
/// (hexadecimal, as Swift writes them). Everything else is kept.
public enum DiagnosticText {
    /// `text` with its control characters escaped (see the type).
    public static func visible(_ text: String) -> String {
        guard text.unicodeScalars.contains(where: isControl) else { return text }
        var result = ""
        for scalar in text.unicodeScalars {
            if isControl(scalar) {
                result += escaped(scalar.value)
            } else {
                result.unicodeScalars.append(scalar)
            }
        }
        return result
    }

    /// One byte of a file as text for a message: a printable ASCII byte as
    /// itself, a control byte as in `visible(_:)`, any other byte as `\xNN`.
    public static func visible(byte: UInt8) -> String {
        if byte < 0x20 || byte == 0x7F { return escaped(UInt32(byte)) }
        if byte < 0x80 { return String(Character(Unicode.Scalar(byte))) }
        return "\\x" + hex(UInt32(byte))
    }

    static func isControl(_ scalar: Unicode.Scalar) -> Bool {
        scalar.value < 0x20 || (0x7F...0x9F).contains(scalar.value)
    }

    static func escaped(_ value: UInt32) -> String {
        switch value {
        case 0x09: return "\\t"
        case 0x0A: return "\\n"
        case 0x0D: return "\\r"
        default: return "\\u{" + hex(value) + "}"
        }
    }

    static func hex(_ value: UInt32) -> String {
        let digits = String(value, radix: 16, uppercase: true)
        return digits.count < 2 ? "0" + digits : digits
    }
}
