/// How a sequence (multi-valued) field's embeddings become one vector per example.
///
/// * `sum`: `Σ_i E[id_i]` (torch `EmbeddingBag(mode="sum")`);
/// * `mean`: `(1/n) Σ_i E[id_i]` over the `n` present values (`mode="mean"`);
/// * `attention`: DIN target attention against the embedding of a named
///   sparse field (`TargetAttention`).
///
/// An empty list pools to the zero vector in every mode.
public enum SequencePooling: String, ConfigurationEnum {
    case sum, mean, attention
}

/// One sequence field of the model input: a ragged list of ids per example,
/// looked up in an embedding table and pooled to one `dimension`-wide slice of `x`.
///
/// JSON (the `sequence_fields` of a model configuration; usually derived from
/// the data's schema):
///
/// | key | meaning |
/// |---|---|
/// | `name` | the field's name |
/// | `vocabulary`, `dimension` | table rows and width (those of the shared table when shared) |
/// | `max_length` | the most ids kept per example (the last ones, the most recent) |
/// | `shares_embedding_with` | a sparse field whose table the ids index (optional) |
/// | `pooling` | `sum`, `mean` or `attention` |
/// | `target` | attention: the sparse field whose embedding is the query |
/// | `attention_hidden` | attention: hidden sizes of the scoring MLP (ReLU), default `[36]` |
/// | `attention_softmax` | attention: softmax-normalise the scores (default false: DIN's raw weights) |
public struct SequenceField: Codable, Equatable, Sendable {
    public var name: String
    public var vocabulary: Int
    public var dimension: Int
    public var maxLength: Int
    public var sharesEmbeddingWith: String?
    public var pooling: SequencePooling
    public var target: String?
    public var attentionHidden: [Int]
    public var attentionSoftmax: Bool

    public init(name: String, vocabulary: Int, dimension: Int, maxLength: Int, sharesEmbeddingWith: String? = nil,
                pooling: SequencePooling, target: String? = nil, attentionHidden: [Int] = [36],
                attentionSoftmax: Bool = false) {
        self.name = name
        self.vocabulary = vocabulary
        self.dimension = dimension
        self.maxLength = maxLength
        self.sharesEmbeddingWith = sharesEmbeddingWith
        self.pooling = pooling
        self.target = target
        self.attentionHidden = attentionHidden
        self.attentionSoftmax = attentionSoftmax
    }

    enum CodingKeys: String, CodingKey, CaseIterable {
        case name, vocabulary, dimension, pooling, target
        case maxLength = "max_length"
        case sharesEmbeddingWith = "shares_embedding_with"
        case attentionHidden = "attention_hidden"
        case attentionSoftmax = "attention_softmax"
    }

    public init(from decoder: Decoder) throws {
        try self.init(from: decoder, ignoring: [])
    }

    /// Decodes with strict keys, allowing also the keys `ignoring` (an
    /// encoding entry adds its own to a field's).
    init(from decoder: Decoder, ignoring extra: [String]) throws {
        // With extra keys the caller's strict container has checked the keys.
        if extra.isEmpty { _ = try StrictDecoding.container(decoder, CodingKeys.self, section: "sequence field") }
        let c = try decoder.container(keyedBy: CodingKeys.self)
        self.init(name: try c.decode(String.self, forKey: .name),
                  vocabulary: try c.decode(Int.self, forKey: .vocabulary),
                  dimension: try c.decode(Int.self, forKey: .dimension),
                  maxLength: try c.decode(Int.self, forKey: .maxLength),
                  sharesEmbeddingWith: try c.decodeIfPresent(String.self, forKey: .sharesEmbeddingWith),
                  pooling: try c.decode(SequencePooling.self, forKey: .pooling),
                  target: try c.decodeIfPresent(String.self, forKey: .target),
                  attentionHidden: try c.decodeIfPresent([Int].self, forKey: .attentionHidden) ?? [36],
                  attentionSoftmax: try c.decodeIfPresent(Bool.self, forKey: .attentionSoftmax) ?? false)
    }

    public func encode(to encoder: Encoder) throws {
        var c = encoder.container(keyedBy: CodingKeys.self)
        try c.encode(name, forKey: .name)
        try c.encode(vocabulary, forKey: .vocabulary)
        try c.encode(dimension, forKey: .dimension)
        try c.encode(maxLength, forKey: .maxLength)
        try c.encodeIfPresent(sharesEmbeddingWith, forKey: .sharesEmbeddingWith)
        try c.encode(pooling, forKey: .pooling)
        try c.encodeIfPresent(target, forKey: .target)
        if pooling == .attention {
            try c.encode(attentionHidden, forKey: .attentionHidden)
            try c.encode(attentionSoftmax, forKey: .attentionSoftmax)
        }
    }

    /// The first inconsistency of this field against the sparse fields of the
    /// same input, or nil.
    public func problem(sparseFields: [SparseField]) -> String? {
        if vocabulary < 1 || dimension < 1 { return "field \(name) needs vocabulary >= 1 and dimension >= 1" }
        if maxLength < 1 { return "field \(name): max_length must be >= 1, got \(maxLength)" }
        if let shared = sharesEmbeddingWith {
            guard let table = sparseFields.first(where: { $0.name == shared }) else {
                return "field \(name): shares_embedding_with names no sparse field \"\(shared)\""
            }
            if table.vocabulary != vocabulary || table.dimension != dimension {
                return "field \(name): the shared table \(shared) is \(table.vocabulary) × \(table.dimension), "
                    + "the field says \(vocabulary) × \(dimension)"
            }
        }
        switch pooling {
        case .attention:
            guard let target else { return "field \(name): attention pooling needs a \"target\" sparse field" }
            guard let query = sparseFields.first(where: { $0.name == target }) else {
                return "field \(name): target names no sparse field \"\(target)\""
            }
            if query.dimension != dimension {
                return "field \(name): the target \(target) has dimension \(query.dimension), the sequence \(dimension)"
            }
            if attentionHidden.contains(where: { $0 < 1 }) { return "field \(name): attention_hidden sizes must be >= 1" }
        case .sum, .mean:
            if target != nil { return "field \(name): \"target\" applies only to attention pooling" }
        }
        return nil
    }
}
