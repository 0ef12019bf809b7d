import Foundation

/// Everything needed to encode new CSV rows exactly as a training dataset was
/// encoded: the schema, each sparse field's train vocabulary (hash fields only
/// need their bucket count), each dense feature's transform and train
/// statistics, and the tasks. Training writes it as `encoding.json` into the
/// run directory; `CSVDatasetLoader.load(encoding:…)` reads new files with it
/// (no vocabulary is built, no statistic recomputed).
///
/// ```json
/// {
///   "format": "ranker-encoding/1",
///   "schema": { …the DataSchema… },
///   "tasks": [{"name": "income", "kind": "binary"}, {"name": "marital", "kind": "binary"}],
///   "sparse_fields": [
///     {"name": "education", "encoding": "vocabulary", "vocabulary": 18, "dimension": 8,
///      "values": ["High school graduate", "Some college but no degree", …]},
///     {"name": "item", "encoding": "hash", "vocabulary": 100000, "dimension": 16}
///   ],
///   "dense_features": [
///     {"name": "age", "transform": "log1p_standardize", "mean": 3.38, "standard_deviation": 1.02}
///   ]
/// }
/// ```
///
/// * A vocabulary field's value `values[i]` has id `i + 1`; any other value
///   (unseen in the train split) has id 0; `vocabulary` (embedding rows) is
///   `values.count + 1`.
/// * A hash field's id is FNV-1a-64(value bytes) mod `vocabulary` (the bucket count).
/// * A dense value `x` becomes `((log1p x or x) − mean) / σ` with `σ =
///   standard_deviation`, or 1 when that is 0 (`mean = 0, σ = 1` for
///   transforms that do not standardize), rounded to `Float` once — the
///   loader's own arithmetic, so ids and values are bitwise those of training.
/// * `tasks` are the label columns the run used (after `data.tasks`), in
///   order; `dimension` is the embedding dimension the run used (after
///   `data.embedding_dimension`), so `fields` equals the model's
///   `sparse_fields`.
///
/// Values are stored as text: a field value whose bytes are not valid UTF-8
/// cannot be stored exactly and would be unseen (id 0) when predicting.
public struct DatasetEncoding: Codable, Equatable, Sendable {
    /// The value of `format`.
    public static let formatIdentifier = "ranker-encoding/1"
    /// `encoding.json`, the file name in a run directory.
    public static let fileName = "encoding.json"

    /// How one sparse field's values become ids.
    public struct SparseFieldEncoding: Codable, Equatable, Sendable {
        public var name: String
        public var encoding: SparseEncoding
        /// Embedding-table rows: `values.count + 1` (vocabulary) or the bucket count (hash).
        public var vocabulary: Int
        public var dimension: Int
        /// Vocabulary fields: the value of id `i + 1` at index `i`; nil for hash fields.
        public var values: [String]?

        enum CodingKeys: String, CodingKey, CaseIterable {
            case name, encoding, vocabulary, dimension, values
        }
    }

    public var schema: DataSchema
    /// The tasks (label columns) in `Dataset.labels` order.
    public var tasks: [TaskSpec]
    /// The sparse fields in `Dataset.fields` order.
    public var sparseFields: [SparseFieldEncoding]
    /// The dense features in `Dataset.dense` order.
    public var denseFeatures: [DenseStatistics]
    /// The sequence fields in `Dataset.sequenceFields` order (`sequence_fields`,
    /// written only when there are any; `SequenceFieldEncoding.swift`).
    public var sequenceFields: [SequenceFieldEncoding]

    /// The sparse fields as the model sees them (name, embedding rows, dimension).
    public var fields: [SparseField] {
        sparseFields.map { SparseField(name: $0.name, vocabulary: $0.vocabulary, dimension: $0.dimension) }
    }

    /// The dense feature names.
    public var denseNames: [String] { denseFeatures.map(\.name) }

    public init(schema: DataSchema, tasks: [TaskSpec], sparseFields: [SparseFieldEncoding],
                denseFeatures: [DenseStatistics], sequenceFields: [SequenceFieldEncoding] = []) {
        self.schema = schema
        self.tasks = tasks
        self.sparseFields = sparseFields
        self.denseFeatures = denseFeatures
        self.sequenceFields = sequenceFields
    }

    /// The frozen encoding of a dataset read from CSV with a schema; nil for a
    /// dataset made in code (no `schema`).
    public init?(dataset: Dataset) {
        guard let schema = dataset.schema else { return nil }
        self.schema = schema
        tasks = dataset.tasks
        sparseFields = dataset.fields.indices.map { f in
            let field = dataset.fields[f]
            let values = dataset.vocabularies[f]
            return SparseFieldEncoding(name: field.name, encoding: values == nil ? .hash : .vocabulary,
                                       vocabulary: field.vocabulary, dimension: field.dimension, values: values)
        }
        denseFeatures = dataset.denseStatistics
        let sparseFields = self.sparseFields
        sequenceFields = dataset.sequenceFields.indices.map { s in
            let field = dataset.sequenceFields[s]
            let encoding = field.sharesEmbeddingWith.flatMap { shared in sparseFields.first { $0.name == shared }?.encoding }
                ?? (dataset.sequenceVocabularies[s] == nil ? .hash : .vocabulary)
            return SequenceFieldEncoding(field: field, encoding: encoding, values: dataset.sequenceVocabularies[s])
        }
    }

    enum CodingKeys: String, CodingKey, CaseIterable {
        case format, schema, tasks
        case rankerVersion = "ranker_version"
        case sparseFields = "sparse_fields"
        case denseFeatures = "dense_features"
        case sequenceFields = "sequence_fields"
    }

    public init(from decoder: Decoder) throws {
        let c = try StrictDecoding.container(decoder, CodingKeys.self, section: "encoding")
        try StrictDecoding.expectFormat(DatasetEncoding.formatIdentifier, at: .format, in: c)
        self.init(schema: try c.decode(DataSchema.self, forKey: .schema),
                  tasks: try c.decode([TaskSpec].self, forKey: .tasks),
                  sparseFields: try c.decode([SparseFieldEncoding].self, forKey: .sparseFields),
                  denseFeatures: try c.decode([DenseStatistics].self, forKey: .denseFeatures),
                  sequenceFields: try c.decodeIfPresent([SequenceFieldEncoding].self, forKey: .sequenceFields) ?? [])
    }

    public func encode(to encoder: Encoder) throws {
        var c = encoder.container(keyedBy: CodingKeys.self)
        try c.encode(DatasetEncoding.formatIdentifier, forKey: .format)
        try c.encode(RankerVersion.string, forKey: .rankerVersion)
        try c.encode(schema, forKey: .schema)
        try c.encode(tasks, forKey: .tasks)
        try c.encode(sparseFields, forKey: .sparseFields)
        try c.encode(denseFeatures, forKey: .denseFeatures)
        if !sequenceFields.isEmpty { try c.encode(sequenceFields, forKey: .sequenceFields) }
    }

    /// Checks what does not need a file: the schema, table sizes against the
    /// vocabularies, distinct values, finite statistics. Throws the first
    /// problem as a `DatasetEncodingError` (with `source`).
    public func validate(source: String = "<encoding>") throws {
        func fail(_ message: String) -> DatasetEncodingError { DatasetEncodingError(source: source, message: message) }
        do {
            try schema.validate()
        } catch let error as SchemaError {
            throw fail("schema: \(error.path.isEmpty ? "" : error.path + ": ")\(error.problem.message)")
        }
        if tasks.isEmpty { throw fail("tasks is empty") }
        for field in sparseFields {
            if field.dimension < 1 { throw fail("sparse field \(field.name): dimension must be at least 1") }
            switch field.encoding {
            case .vocabulary:
                guard let values = field.values else { throw fail("sparse field \(field.name): a vocabulary field needs values") }
                if field.vocabulary != values.count + 1 {
                    throw fail("sparse field \(field.name): vocabulary \(field.vocabulary) must be values.count + 1 = \(values.count + 1)")
                }
                var seen = Set<String>()
                for value in values where !seen.insert(value).inserted {
                    throw fail("sparse field \(field.name): the value \"\(value)\" is listed twice")
                }
            case .hash:
                if field.values != nil { throw fail("sparse field \(field.name): a hash field has no values") }
                if field.vocabulary < 1 { throw fail("sparse field \(field.name): vocabulary (buckets) must be at least 1") }
            }
        }
        for field in sequenceFields {
            if let problem = field.problem(sparseFields: sparseFields) { throw fail(problem) }
        }
        for feature in denseFeatures where !(feature.mean.isFinite && feature.standardDeviation.isFinite
                                             && feature.standardDeviation >= 0) {
            throw fail("dense feature \(feature.name): mean and standard_deviation must be finite, standard_deviation >= 0")
        }
    }

    // MARK: files

    /// The encoding as JSON text (pretty-printed, sorted keys).
    public func encodedJSON() throws -> String {
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.prettyPrinted, .sortedKeys, .withoutEscapingSlashes]
        return String(decoding: try encoder.encode(self), as: UTF8.self)
    }

    /// Writes the encoding to `url` atomically.
    ///
    /// - Throws: `FileIOError`; `EncodingError` if a statistic is not finite.
    public func write(to url: URL) throws {
        let text = try encodedJSON()
        try AtomicFile.write(to: url) { sink in try sink.write(Array(text.utf8)) }
    }

    /// Reads, decodes and validates an encoding file.
    ///
    /// - Throws: `DatasetEncodingError` naming the file (unreadable, not JSON,
    ///   an unknown or missing key, a wrong `format`, an inconsistent table).
    public static func load(path: String) throws -> DatasetEncoding {
        let data: Data
        do {
            data = try Data(contentsOf: URL(fileURLWithPath: path))
        } catch {
            throw DatasetEncodingError(source: path, message: "cannot read the file (\(error.localizedDescription))")
        }
        let encoding: DatasetEncoding
        do {
            try JSONStructureCheck.check(Array(data))
            encoding = try JSONDecoder().decode(DatasetEncoding.self, from: data)
        } catch let error as JSONStructureError {
            throw DatasetEncodingError(source: path, message: error.description)
        } catch let error as DecodingError {
            throw DatasetEncodingError(source: path, message: describe(error))
        } catch let error as SchemaError {
            throw DatasetEncodingError(source: path, message: "schema: \(error.path): \(error.problem.message)")
        } catch {
            throw DatasetEncodingError(source: path, message: "\(error)")
        }
        try encoding.validate(source: path)
        return encoding
    }
}

// Decoding lives in an extension so that the memberwise initializer stays.
extension DatasetEncoding.SparseFieldEncoding {
    public init(from decoder: Decoder) throws {
        let c = try StrictDecoding.container(decoder, CodingKeys.self, section: "sparse field")
        self.init(name: try c.decode(String.self, forKey: .name),
                  encoding: try c.decode(SparseEncoding.self, forKey: .encoding),
                  vocabulary: try c.decode(Int.self, forKey: .vocabulary),
                  dimension: try c.decode(Int.self, forKey: .dimension),
                  values: try c.decodeIfPresent([String].self, forKey: .values))
    }
}

/// An encoding file that cannot be used, or that does not fit the file being
/// read with it.
public struct DatasetEncodingError: Error, Equatable, CustomStringConvertible {
    /// The encoding file (or `<encoding>` for one made in code).
    public var source: String
    public var message: String

    public var description: String { "\(source): \(message)" }
}
