import Ranker

/// Escaping for text and attribute values in the XHTML/SVG report.
///
/// `&`, `<`, `>`, `"` and `'` become entity references, so the result is safe
/// both as element content and inside a double- or single-quoted attribute.
/// Characters XML 1.0 forbids even as references (C0 controls other than tab,
/// newline and carriage return; U+FFFE, U+FFFF) become U+FFFD, so a hostile
/// name can never make the document ill-formed.
enum XMLText {
    static func escape(_ text: String) -> String { escaper.escape(text) }

    private static let escaper = TextEscaper(
        ["&": "&amp;", "<": "&lt;", ">": "&gt;", "\"": "&quot;", "'": "&#39;"],
        other: { scalar in
            let forbidden = (scalar.value < 0x20 && !["\t", "\n", "\r"].contains(scalar))
                || scalar.value == 0xFFFE || scalar.value == 0xFFFF
            return forbidden ? "\u{FFFD}" : nil
        })
}
