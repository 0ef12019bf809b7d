/// The settings of a `sequence` column with their defaults, and the checks
/// that need no file (`DataSchema.validate`).
extension ColumnSpec {
    /// The default `max_length`.
    static let defaultMaxLength = 50

    /// The separator byte between values (default `|`).
    var separatorByte: UInt8 { Array((separator ?? "|").utf8).first ?? UInt8(ascii: "|") }

    /// The most values kept per list.
    var sequenceMaxLength: Int { maxLength ?? ColumnSpec.defaultMaxLength }

    /// The pooling (default `mean`).
    var sequencePooling: SequencePooling { pooling ?? .mean }

    /// The first problem of a sequence entry as `(key path suffix, message)`, or nil.
    func sequenceProblem() -> (String, String)? {
        if let separator, separator.utf8.count != 1 {
            return (".separator", "separator must be one byte (one ASCII character), got \"\(separator)\"")
        }
        if let maxLength, maxLength < 1 { return (".max_length", "max_length must be at least 1, got \(maxLength)") }
        if sequencePooling == .attention && target == nil {
            return ("", "\"pooling\": \"attention\" needs a \"target\" (the name of a sparse field)")
        }
        if let hidden = attentionHidden, hidden.contains(where: { $0 < 1 }) {
            return (".attention_hidden", "attention_hidden sizes must be at least 1, got \(hidden)")
        }
        if sharesEmbeddingWith != nil && buckets != nil {
            return (".buckets", "a sequence sharing a table uses that field's buckets")
        }
        return nil
    }
}
