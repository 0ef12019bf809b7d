/// Escaping of text for a format that writes some characters another way
/// (JSON string literals, XML text and attribute values).
///
/// Every Unicode scalar of the text is looked up in `replacements` first,
/// then passed to `other`; the first replacement found is written instead of
/// the scalar, and a scalar neither replaces is written as it is.
public struct TextEscaper: Sendable {
    /// Scalars with a fixed replacement (`"` → `\"`, `&` → `&amp;`).
    public let replacements: [Unicode.Scalar: String]
    /// The rule for the other scalars (control characters); `nil` keeps one.
    public let other: @Sendable (Unicode.Scalar) -> String?

    public init(_ replacements: [Unicode.Scalar: String], other: @escaping @Sendable (Unicode.Scalar) -> String?) {
        self.replacements = replacements
        self.other = other
    }

    /// `text` escaped.
    public func escape(_ text: String) -> String {
        var result = ""
        result.unicodeScalars.reserveCapacity(text.unicodeScalars.count)
        for scalar in text.unicodeScalars {
            if let replacement = replacements[scalar] ?? other(scalar) {
                result += replacement
            } else {
                result.unicodeScalars.append(scalar)
            }
        }
        return result
    }
}
