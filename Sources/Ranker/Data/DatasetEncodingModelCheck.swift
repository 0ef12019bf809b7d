/// Whether a frozen data encoding makes the inputs a model reads: the same
/// sparse fields (name, vocabulary, dimension, in order), the same number of
/// dense features, and the same sequence fields (name, vocabulary,
/// dimension, max_length, shares_embedding_with, pooling; with attention
/// also target, attention_hidden, attention_softmax; in order). A serving team that
/// pairs an exported model with the wrong `encoding.json` would otherwise
/// feed ids the tables were not trained on, or lists cut at another length.
extension DatasetEncoding {
    /// The first difference between what this encoding makes and what
    /// `model` reads, as a sentence naming the field and the property, or
    /// nil when they agree.
    public func mismatch(with model: ModelConfiguration) -> String? {
        let encoded = fields
        if encoded.count != model.sparseFields.count {
            return "the model reads \(model.sparseFields.count) sparse fields "
                + "(\(model.sparseFields.map(\.name).joined(separator: ", "))), the encoding makes \(encoded.count) "
                + "(\(encoded.map(\.name).joined(separator: ", ")))"
        }
        for (index, (m, e)) in zip(model.sparseFields, encoded).enumerated() {
            if m.name != e.name {
                return "sparse field \(index + 1) is \"\(m.name)\" in the model and \"\(e.name)\" in the encoding"
            }
            if let difference = Self.difference(field: "sparse field \"\(m.name)\"",
                                                [("vocabulary", "\(m.vocabulary)", "\(e.vocabulary)"),
                                                 ("dimension", "\(m.dimension)", "\(e.dimension)")]) {
                return difference
            }
        }
        if denseFeatures.count != model.denseFeatures {
            return "the model reads \(model.denseFeatures) dense features, the encoding makes \(denseFeatures.count)"
        }
        let sequences = sequenceFields.map(\.field)
        if sequences.count != model.sequenceFields.count {
            return "the model reads \(model.sequenceFields.count) sequence fields "
                + "(\(model.sequenceFields.map(\.name).joined(separator: ", "))), the encoding makes \(sequences.count) "
                + "(\(sequences.map(\.name).joined(separator: ", ")))"
        }
        for (index, (m, e)) in zip(model.sequenceFields, sequences).enumerated() {
            if m.name != e.name {
                return "sequence field \(index + 1) is \"\(m.name)\" in the model and \"\(e.name)\" in the encoding"
            }
            func shown<T>(_ value: T?) -> String { value.map { "\($0)" } ?? "none" }
            var properties = [("vocabulary", "\(m.vocabulary)", "\(e.vocabulary)"),
                              ("dimension", "\(m.dimension)", "\(e.dimension)"),
                              ("max_length", "\(m.maxLength)", "\(e.maxLength)"),
                              ("shares_embedding_with", shown(m.sharesEmbeddingWith), shown(e.sharesEmbeddingWith)),
                              ("pooling", m.pooling.rawValue, e.pooling.rawValue)]
            if m.pooling == .attention {   // the attention settings matter only to attention
                properties += [("target", shown(m.target), shown(e.target)),
                               ("attention_hidden", "\(m.attentionHidden)", "\(e.attentionHidden)"),
                               ("attention_softmax", "\(m.attentionSoftmax)", "\(e.attentionSoftmax)")]
            }
            if let difference = Self.difference(field: "sequence field \"\(m.name)\"", properties) {
                return difference
            }
        }
        return nil
    }

    /// "`field`: `key` is `model` in the model and `encoding` in the encoding"
    /// for the first `(key, model, encoding)` that differs.
    private static func difference(field: String, _ properties: [(String, String, String)]) -> String? {
        guard let (key, model, encoding) = properties.first(where: { $0.1 != $0.2 }) else { return nil }
        return "\(field): \(key) is \(model) in the model and \(encoding) in the encoding"
    }
}
