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
        let sparse = Self.difference(kind: "sparse", model: model.sparseFields, encoding: fields) { m, e in
            [("vocabulary", "\(m.vocabulary)", "\(e.vocabulary)"), ("dimension", "\(m.dimension)", "\(e.dimension)")]
        }
        if let sparse { return sparse }
        if denseFeatures.count != model.denseFeatures {
            return "the model reads \(model.denseFeatures) dense features, the encoding makes \(denseFeatures.count)"
        }
        func shown<T>(_ value: T?) -> String { value.map { "\($0)" } ?? "none" }
        return Self.difference(kind: "sequence", model: model.sequenceFields, encoding: sequenceFields.map(\.field)) { m, e in
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
            return properties
        }
    }

    /// The first difference between the model's and the encoding's fields of
    /// one `kind` (`sparse`, `sequence`): another number of fields, another
    /// name at a position, or else the first of a field's `properties`
    /// (`(key, model value, encoding value)`, in order) that differs.
    private static func difference<Field: NamedField>(kind: String, model: [Field], encoding: [Field],
                                                      properties: (Field, Field) -> [(String, String, String)]) -> String? {
        if encoding.count != model.count {
            return "the model reads \(model.count) \(kind) fields "
                + "(\(model.map { $0.name }.joined(separator: ", "))), the encoding makes \(encoding.count) "
                + "(\(encoding.map { $0.name }.joined(separator: ", ")))"
        }
        for (index, (m, e)) in zip(model, encoding).enumerated() {
            if m.name != e.name {
                return "\(kind) field \(index + 1) is \"\(m.name)\" in the model and \"\(e.name)\" in the encoding"
            }
            if let difference = Self.difference(field: "\(kind) field \"\(m.name)\"", properties(m, e)) {
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

/// A model input field with a name (sparse or sequence), for `DatasetEncoding.mismatch(with:)`.
private protocol NamedField {
    var name: String { get }
}

extension SparseField: NamedField {}
extension SequenceField: NamedField {}
