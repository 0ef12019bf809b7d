/// Escaping for text and attribute values in the XHTML/SVG report.
///
/// `&`, `<`, `>`, `"` and `'` become entity references, so the result is safe
/// both as element content and inside a double- or single-quoted attribute.
/// Characters XML 1.0 forbids even as references (C0 controls other than tab,
/// newline and carriage return; U+FFFE, U+FFFF) become U+FFFD, so a hostile
/// name can never make the document ill-formed.
enum XMLText {
    static func escape(_ text: String) -> String {
        var result = ""
        result.unicodeScalars.reserveCapacity(text.unicodeScalars.count)
        for scalar in text.unicodeScalars {
            switch scalar {
            case "&": result += "&amp;"
            case "<": result += "&lt;"
            case ">": result += "&gt;"
            case "\"": result += "&quot;"
            case "'": result += "&#39;"
            case "\t", "\n", "\r": result.unicodeScalars.append(scalar)
            default:
                if scalar.value < 0x20 || scalar.value == 0xFFFE || scalar.value == 0xFFFF {
                    result.unicodeScalars.append("\u{FFFD}")
                } else {
                    result.unicodeScalars.append(scalar)
                }
            }
        }
        return result
    }
}
