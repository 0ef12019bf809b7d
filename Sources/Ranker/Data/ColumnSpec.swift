/// A column of a CSV file, by header name or by 0-based position.
///
/// In JSON a string is a name (`"age"`), a number is an index (`0`). Names
/// need a header line or the schema's `column_names`.
public enum ColumnReference: Codable, Hashable, Sendable, CustomStringConvertible {
    case name(String)
    case index(Int)

    public init(from decoder: Decoder) throws {
        let c = try decoder.singleValueContainer()
        if let index = try? c.decode(Int.self) {
            guard index >= 0 else { throw invalidValue(decoder, nil, "a column index must be 0 or more, got \(index)") }
            self = .index(index)
        } else if let name = try? c.decode(String.self) {
            self = .name(name)
        } else {
            throw invalidValue(decoder, nil, "a column is a header name (string) or a 0-based index (integer)")
        }
    }

    public func encode(to encoder: Encoder) throws {
        var c = encoder.singleValueContainer()
        switch self {
        case .name(let name): try c.encode(name)
        case .index(let index): try c.encode(index)
        }
    }

    public var description: String {
        switch self {
        case .name(let name): return "\"\(name)\""
        case .index(let index): return "index \(index)"
        }
    }
}

/// What a column is used for.
public enum ColumnRole: String, ConfigurationEnum {
    /// The label of one task (one entry, one task, in schema order).
    case label
    /// A dense (numeric) input feature.
    case dense
    /// A sparse (categorical) input feature with its own embedding table.
    case sparse
    /// The user id, used to group examples for GAUC. May also be a feature.
    case user
    /// The day of the example, for sequential training. May also be a feature.
    case day
    /// Read past (the field count is still checked).
    case ignore
    /// A list of categorical values in one field (`a|b|c`, oldest first),
    /// pooled into one embedding-wide vector (`SequenceField`).
    case sequence
}

/// The transform of a dense feature. Statistics come from the training split only.
///
/// * `none`: `x`
/// * `log1p`: `log(1 + x)`; needs `x > -1`
/// * `standardize`: `(x − μ) / σ` with the train mean `μ` and population
///   standard deviation `σ = sqrt(Σ(x − μ)² / n)`; when `σ = 0` (a constant
///   column) the divisor is 1, so the column becomes 0
/// * `log1p_standardize`: `log1p`, then `standardize` on the log values
public enum DenseTransform: String, ConfigurationEnum {
    case none
    case log1p
    case standardize
    case log1pStandardize = "log1p_standardize"

    var usesLog1p: Bool { self == .log1p || self == .log1pStandardize }
    var standardizes: Bool { self == .standardize || self == .log1pStandardize }
}

/// How a sparse column's values become ids.
///
/// * `vocabulary`: the distinct (trimmed) values of the training split, in
///   order of first appearance, get ids 1…V; any value not seen in the
///   training split gets id 0. The embedding table has V + 1 rows.
/// * `hash`: id = FNV-1a-64(value bytes) mod `buckets`; the table has
///   `buckets` rows. No vocabulary is stored.
public enum SparseEncoding: String, ConfigurationEnum {
    case vocabulary
    case hash
}

/// How a user-id column is read: an `integer` (Int64) or any text `hash`ed
/// with FNV-1a 64 (the bits as Int64).
public enum UserFormat: String, ConfigurationEnum {
    case integer
    case hash
}

/// How a day column is read: an `integer` (Int32, used as is) or a date
/// `yyyymmdd` (converted to days since 1970-01-01, so consecutive dates are
/// consecutive integers).
public enum DayFormat: String, ConfigurationEnum {
    case integer
    case yyyymmdd
}

/// What happens when a field is missing (empty after trimming, or one of the
/// missing markers).
public enum MissingPolicy: String, ConfigurationEnum {
    /// A `DataError.Problem.missingValue` naming file, line and column.
    case error
    /// The column's `default` text is used instead (read like any value).
    case `default`
    /// The whole row is dropped; the loader counts drops per column in its report.
    case skipRow = "skip_row"
}

/// One entry of a schema's `columns` list: one column (`column`) or several
/// columns with the same settings (`columns`), and their role.
///
/// JSON keys:
///
/// | key | roles | meaning |
/// |---|---|---|
/// | `column` / `columns` | all | a name or 0-based index / a list of them (exactly one of the two) |
/// | `role` | all | `label`, `dense`, `sparse`, `user`, `day`, `ignore` |
/// | `name` | label, dense, sparse | name of the task / feature (single `column` only; default: the column name, or `col<index>`) |
/// | `kind` | label | `binary` (default) or `regression` |
/// | `positive_values` | binary label | label = 1 iff the trimmed field is one of these texts, else 0 |
/// | `negative_values` | binary label | with `positive_values`: the texts for 0; any other text is an error |
/// | `transform` | dense | `none` (default), `log1p`, `standardize`, `log1p_standardize` |
/// | `encoding` | sparse | `vocabulary` (default) or `hash` |
/// | `buckets` | sparse, hash | number of hash buckets (table rows) |
/// | `dimension` | sparse | embedding dimension (default: the schema's `default_dimension`) |
/// | `user_format` | user | `integer` (default) or `hash` |
/// | `day_format` | day | `integer` (default) or `yyyymmdd` |
/// | `missing` | all but ignore | `error` (default), `default`, `skip_row` |
/// | `default` | with `missing: default` | the text used for a missing field |
/// | `missing_markers` | all but ignore and sequence | overrides the format's `missing_markers` for these columns |
/// | `separator` | sequence | the one-byte separator between values (default `"|"`); an empty field is an empty list |
/// | `max_length` | sequence | keep the last `max_length` values (the most recent), default 50 |
/// | `shares_embedding_with` | sequence | the name of a sparse field whose ids and table the values use (no `encoding`, `buckets`, `dimension` then) |
/// | `pooling` | sequence | `sum`, `mean` (default) or `attention` |
/// | `target` | sequence, attention | the name of the sparse field whose embedding is the attention query |
/// | `attention_hidden` | sequence, attention | hidden sizes of the scoring MLP, default `[36]` |
/// | `attention_softmax` | sequence, attention | softmax-normalise the weights (default false, as DIN) |
///
/// A sequence column's own vocabulary or buckets work as for a sparse column
/// (`encoding`, `buckets`, `dimension`); every value of every list is one value.
/// A binary label without `positive_values` must read as the number 0 or 1.
/// A column may have one of label/dense/sparse/ignore, and in addition be
/// the user or the day column (a user id that is also a sparse feature).
public struct ColumnSpec: Codable, Equatable, Sendable {
    public var columns: [ColumnReference]
    public var role: ColumnRole
    public var name: String?
    public var kind: TaskKind?
    public var positiveValues: [String]?
    public var negativeValues: [String]?
    public var transform: DenseTransform?
    public var encoding: SparseEncoding?
    public var buckets: Int?
    public var dimension: Int?
    public var userFormat: UserFormat?
    public var dayFormat: DayFormat?
    public var missing: MissingPolicy?
    public var defaultValue: String?
    public var missingMarkers: [String]?
    public var separator: String?
    public var maxLength: Int?
    public var sharesEmbeddingWith: String?
    public var pooling: SequencePooling?
    public var target: String?
    public var attentionHidden: [Int]?
    public var attentionSoftmax: Bool?

    public init(columns: [ColumnReference], role: ColumnRole, name: String? = nil, kind: TaskKind? = nil,
                positiveValues: [String]? = nil, negativeValues: [String]? = nil, transform: DenseTransform? = nil,
                encoding: SparseEncoding? = nil, buckets: Int? = nil, dimension: Int? = nil,
                userFormat: UserFormat? = nil, dayFormat: DayFormat? = nil, missing: MissingPolicy? = nil,
                defaultValue: String? = nil, missingMarkers: [String]? = nil) {
        self.columns = columns
        self.role = role
        self.name = name
        self.kind = kind
        self.positiveValues = positiveValues
        self.negativeValues = negativeValues
        self.transform = transform
        self.encoding = encoding
        self.buckets = buckets
        self.dimension = dimension
        self.userFormat = userFormat
        self.dayFormat = dayFormat
        self.missing = missing
        self.defaultValue = defaultValue
        self.missingMarkers = missingMarkers
    }

    /// One column with a role (convenience for schemas built in code).
    public init(_ column: ColumnReference, role: ColumnRole) {
        self.init(columns: [column], role: role)
    }

    enum CodingKeys: String, CodingKey, CaseIterable {
        case column, columns, role, name, kind
        case positiveValues = "positive_values"
        case negativeValues = "negative_values"
        case transform, encoding, buckets, dimension
        case userFormat = "user_format"
        case dayFormat = "day_format"
        case missing
        case defaultValue = "default"
        case missingMarkers = "missing_markers"
        case separator
        case maxLength = "max_length"
        case sharesEmbeddingWith = "shares_embedding_with"
        case pooling, target
        case attentionHidden = "attention_hidden"
        case attentionSoftmax = "attention_softmax"
    }

    public init(from decoder: Decoder) throws {
        let c = try schemaContainer(decoder, CodingKeys.self)
        let single = try c.decodeIfPresent(ColumnReference.self, forKey: .column)
        let several = try c.decodeIfPresent([ColumnReference].self, forKey: .columns)
        switch (single, several) {
        case (let one?, nil): columns = [one]
        case (nil, let list?):
            guard !list.isEmpty else { throw invalidValue(decoder, CodingKeys.columns, "\"columns\" is empty") }
            columns = list
        case (nil, nil):
            throw SchemaError(source: schemaSourcePlaceholder, path: StrictDecoding.pathString(decoder.codingPath),
                              problem: .missingKey("column"))
        case (_?, _?):
            throw invalidValue(decoder, nil, "give either \"column\" or \"columns\", not both")
        }
        role = try c.decode(ColumnRole.self, forKey: .role)
        name = try c.decodeIfPresent(String.self, forKey: .name)
        kind = try c.decodeIfPresent(TaskKind.self, forKey: .kind)
        positiveValues = try c.decodeIfPresent([String].self, forKey: .positiveValues)
        negativeValues = try c.decodeIfPresent([String].self, forKey: .negativeValues)
        transform = try c.decodeIfPresent(DenseTransform.self, forKey: .transform)
        encoding = try c.decodeIfPresent(SparseEncoding.self, forKey: .encoding)
        buckets = try c.decodeIfPresent(Int.self, forKey: .buckets)
        dimension = try c.decodeIfPresent(Int.self, forKey: .dimension)
        userFormat = try c.decodeIfPresent(UserFormat.self, forKey: .userFormat)
        dayFormat = try c.decodeIfPresent(DayFormat.self, forKey: .dayFormat)
        missing = try c.decodeIfPresent(MissingPolicy.self, forKey: .missing)
        defaultValue = try c.decodeIfPresent(String.self, forKey: .defaultValue)
        missingMarkers = try c.decodeIfPresent([String].self, forKey: .missingMarkers)
        separator = try c.decodeIfPresent(String.self, forKey: .separator)
        maxLength = try c.decodeIfPresent(Int.self, forKey: .maxLength)
        sharesEmbeddingWith = try c.decodeIfPresent(String.self, forKey: .sharesEmbeddingWith)
        pooling = try c.decodeIfPresent(SequencePooling.self, forKey: .pooling)
        target = try c.decodeIfPresent(String.self, forKey: .target)
        attentionHidden = try c.decodeIfPresent([Int].self, forKey: .attentionHidden)
        attentionSoftmax = try c.decodeIfPresent(Bool.self, forKey: .attentionSoftmax)
    }

    public func encode(to encoder: Encoder) throws {
        var c = encoder.container(keyedBy: CodingKeys.self)
        if columns.count == 1 { try c.encode(columns[0], forKey: .column) } else { try c.encode(columns, forKey: .columns) }
        try c.encode(role, forKey: .role)
        try c.encodeIfPresent(name, forKey: .name)
        try c.encodeIfPresent(kind, forKey: .kind)
        try c.encodeIfPresent(positiveValues, forKey: .positiveValues)
        try c.encodeIfPresent(negativeValues, forKey: .negativeValues)
        try c.encodeIfPresent(transform, forKey: .transform)
        try c.encodeIfPresent(encoding, forKey: .encoding)
        try c.encodeIfPresent(buckets, forKey: .buckets)
        try c.encodeIfPresent(dimension, forKey: .dimension)
        try c.encodeIfPresent(userFormat, forKey: .userFormat)
        try c.encodeIfPresent(dayFormat, forKey: .dayFormat)
        try c.encodeIfPresent(missing, forKey: .missing)
        try c.encodeIfPresent(defaultValue, forKey: .defaultValue)
        try c.encodeIfPresent(missingMarkers, forKey: .missingMarkers)
        try c.encodeIfPresent(separator, forKey: .separator)
        try c.encodeIfPresent(maxLength, forKey: .maxLength)
        try c.encodeIfPresent(sharesEmbeddingWith, forKey: .sharesEmbeddingWith)
        try c.encodeIfPresent(pooling, forKey: .pooling)
        try c.encodeIfPresent(target, forKey: .target)
        try c.encodeIfPresent(attentionHidden, forKey: .attentionHidden)
        try c.encodeIfPresent(attentionSoftmax, forKey: .attentionSoftmax)
    }

    /// The role-specific keys that are set but do not apply, as
    /// `(key, reason)`; empty when the entry is consistent.
    func inapplicableKeys() -> [(String, String)] {
        var found: [(String, String)] = []
        func check(_ present: Bool, _ key: String, _ allowed: Bool, _ reason: String) {
            if present && !allowed { found.append((key, reason)) }
        }
        let isLabel = role == .label
        let isBinary = isLabel && (kind ?? .binary) == .binary
        check(name != nil, "name", [.label, .dense, .sparse, .sequence].contains(role), "only labels and features have names")
        check(name != nil, "name", columns.count == 1, "\"name\" needs a single \"column\"")
        check(kind != nil, "kind", isLabel, "only labels have a kind")
        check(positiveValues != nil, "positive_values", isBinary, "only binary labels map values")
        check(negativeValues != nil, "negative_values", isBinary, "only binary labels map values")
        check(negativeValues != nil, "negative_values", positiveValues != nil, "it needs \"positive_values\"")
        check(transform != nil, "transform", role == .dense, "only dense features are transformed")
        let isCategorical = role == .sparse || role == .sequence
        check(encoding != nil, "encoding", isCategorical, "only sparse and sequence features are encoded")
        check(buckets != nil, "buckets", isCategorical && encoding == .hash, "only \"encoding\": \"hash\" has buckets")
        check(dimension != nil, "dimension", isCategorical, "only sparse and sequence features have embeddings")
        let shared = sharesEmbeddingWith != nil
        check(encoding != nil, "encoding", !shared, "a sequence sharing a table uses that field's encoding")
        check(dimension != nil, "dimension", !shared, "a sequence sharing a table uses that field's dimension")
        check(separator != nil, "separator", role == .sequence, "only sequence columns are lists")
        check(maxLength != nil, "max_length", role == .sequence, "only sequence columns are lists")
        check(sharesEmbeddingWith != nil, "shares_embedding_with", role == .sequence, "only sequence columns share tables")
        check(pooling != nil, "pooling", role == .sequence, "only sequence columns are pooled")
        let attends = role == .sequence && pooling == .attention
        check(target != nil, "target", attends, "only \"pooling\": \"attention\" has a target")
        check(attentionHidden != nil, "attention_hidden", attends, "only \"pooling\": \"attention\" has an MLP")
        check(attentionSoftmax != nil, "attention_softmax", attends, "only \"pooling\": \"attention\" has weights")
        check(missing != nil, "missing", role != .sequence, "an empty sequence field is an empty list")
        check(missingMarkers != nil, "missing_markers", role != .sequence, "an empty sequence field is an empty list")
        check(userFormat != nil, "user_format", role == .user, "only the user column has a user format")
        check(dayFormat != nil, "day_format", role == .day, "only the day column has a day format")
        check(missing != nil, "missing", role != .ignore, "ignored columns are not read")
        check(missingMarkers != nil, "missing_markers", role != .ignore, "ignored columns are not read")
        check(defaultValue != nil, "default", missing == .default, "\"default\" needs \"missing\": \"default\"")
        return found
    }
}
