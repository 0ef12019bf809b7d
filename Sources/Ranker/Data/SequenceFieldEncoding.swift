/// How one sequence field's values become ids, in `encoding.json`: the
/// `SequenceField` the model reads (its keys, flat) plus `encoding` and, for
/// an own vocabulary, its `values` (the value of id `i + 1` at index `i`).
/// A field sharing a sparse field's table (`shares_embedding_with`) has the
/// shared field's encoding and no values of its own (that field's apply).
///
/// ```json
/// {"name": "history", "encoding": "vocabulary", "vocabulary": 1001, "dimension": 8,
///  "max_length": 20, "shares_embedding_with": "item", "pooling": "attention", "target": "item",
///  "attention_hidden": [36], "attention_softmax": false}
/// ```
extension DatasetEncoding {
    public struct SequenceFieldEncoding: Codable, Equatable, Sendable {
        public var field: SequenceField
        public var encoding: SparseEncoding
        public var values: [String]?

        public init(field: SequenceField, encoding: SparseEncoding, values: [String]?) {
            self.field = field
            self.encoding = encoding
            self.values = values
        }

        /// The keys added to the field's (`SequenceField.CodingKeys`).
        enum CodingKeys: String, CodingKey, CaseIterable {
            case encoding, values
        }

        public init(from decoder: Decoder) throws {
            let ownKeys = CodingKeys.allCases.map(\.stringValue)
            _ = try StrictDecoding.container(decoder, SequenceField.CodingKeys.self, section: "sequence field",
                                             alsoAllowing: ownKeys)
            let c = try decoder.container(keyedBy: CodingKeys.self)
            encoding = try c.decode(SparseEncoding.self, forKey: .encoding)
            values = try c.decodeIfPresent([String].self, forKey: .values)
            // The remaining keys are exactly a SequenceField's.
            field = try SequenceField(from: decoder, ignoring: ownKeys)
        }

        public func encode(to encoder: Encoder) throws {
            try field.encode(to: encoder)
            var c = encoder.container(keyedBy: CodingKeys.self)
            try c.encode(encoding, forKey: .encoding)
            try c.encodeIfPresent(values, forKey: .values)
        }

        /// The first inconsistency (table size against the values), or nil.
        func problem(sparseFields: [SparseFieldEncoding]) -> String? {
            let name = field.name
            if let problem = field.problem(sparseFields: sparseFields.map {
                SparseField(name: $0.name, vocabulary: $0.vocabulary, dimension: $0.dimension)
            }) { return problem }
            if let shared = field.sharesEmbeddingWith {
                if values != nil { return "sequence field \(name): a field sharing \(shared)'s table has no values" }
                if sparseFields.first(where: { $0.name == shared })?.encoding != encoding {
                    return "sequence field \(name): its encoding must be that of \(shared)"
                }
                return nil
            }
            switch encoding {
            case .vocabulary:
                guard let values else { return "sequence field \(name): a vocabulary field needs values" }
                if field.vocabulary != values.count + 1 {
                    return "sequence field \(name): vocabulary \(field.vocabulary) must be values.count + 1 = \(values.count + 1)"
                }
                if Set(values).count != values.count { return "sequence field \(name): a value is listed twice" }
            case .hash:
                if values != nil { return "sequence field \(name): a hash field has no values" }
            }
            return nil
        }
    }
}
