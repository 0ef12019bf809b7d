/// How a dense feature was transformed: the transform and the train-split
/// statistics it used (`mean = 0, standardDeviation = 1` when it does not standardize).
public struct DenseStatistics: Codable, Equatable, Sendable {
    public var name: String
    public var transform: DenseTransform
    /// Train mean of the (log1p-transformed, when applicable) values.
    public var mean: Double
    /// Train population standard deviation; the divisor is 1 when this is 0.
    public var standardDeviation: Double

    enum CodingKeys: String, CodingKey, CaseIterable {
        case name, transform, mean
        case standardDeviation = "standard_deviation"
    }

    /// `(x − mean) / divisor` of a value `x` already through the transform's
    /// `log1p` (when it has one), in double precision, rounded to `Float` once;
    /// the divisor is `standardDeviation`, or 1 when that is 0.
    @inline(__always)
    func standardized(_ x: Double) -> Float {
        Float((x - mean) / (standardDeviation > 0 ? standardDeviation : 1))
    }
}

// Decoding lives in an extension so that the memberwise initializer stays.
extension DenseStatistics {
    public init(from decoder: Decoder) throws {
        let c = try StrictDecoding.container(decoder, CodingKeys.self, section: "dense feature")
        self.init(name: try c.decode(String.self, forKey: .name),
                  transform: try c.decode(DenseTransform.self, forKey: .transform),
                  mean: try c.decode(Double.self, forKey: .mean),
                  standardDeviation: try c.decode(Double.self, forKey: .standardDeviation))
    }
}

/// Row indices of the three parts, each in increasing order.
public struct DatasetSplits: Codable, Equatable, Sendable {
    public var train: [Int]
    public var valid: [Int]
    public var test: [Int]

    public init(train: [Int], valid: [Int], test: [Int]) {
        self.train = train
        self.valid = valid
        self.test = test
    }

    public subscript(part: DatasetPart) -> [Int] {
        switch part {
        case .train: return train
        case .valid: return valid
        case .test: return test
        }
    }
}

/// A columnar, in-memory dataset of encoded examples, ready to be cut into
/// `Batch`es.
///
/// Storage is one array per column: `ids[f]` (`count` ids of sparse field
/// `f`, each in `0..<fields[f].vocabulary`), `dense[j]` (`count` transformed
/// values), `labels[t]` (`count` labels of task `t`), and optionally `users`
/// and `days`. A dataset never changes after it is made, so several threads
/// may fill batches from it at once.
public final class Dataset: Sendable {
    /// A label for reports.
    public let name: String
    /// Number of examples.
    public let count: Int
    /// Sparse fields: name, embedding-table rows (`vocabulary`, including id 0) and dimension.
    public let fields: [SparseField]
    /// Names of the dense features, in `Batch.dense` column order.
    public let denseNames: [String]
    /// Tasks, in `Batch.labels` column order.
    public let tasks: [TaskSpec]
    /// `ids[f][row]`.
    public let ids: [[Int32]]
    /// `dense[j][row]`.
    public let dense: [[Float]]
    /// `labels[t][row]`.
    public let labels: [[Float]]
    /// The user id of each row, when the data has a user column.
    public let users: [Int64]?
    /// The day of each row, when the data has a day column.
    public let days: [Int32]?
    public let splits: DatasetSplits
    /// For vocabulary-encoded fields, the value of each id `1…V` (index
    /// `id − 1`); nil for hashed or synthetic fields.
    public let vocabularies: [[String]?]
    /// The transform and train statistics of each dense feature.
    public let denseStatistics: [DenseStatistics]
    /// Sequence (multi-valued) fields: name, table, maximum length, pooling.
    public let sequenceFields: [SequenceField]
    /// `sequences[s]`: the lists of sequence field `s`, ragged.
    public let sequences: [RaggedColumn]
    /// For vocabulary-encoded sequence fields with a table of their own, the
    /// value of each id `1…V` (index `id − 1`); nil for hashed or shared ones.
    public let sequenceVocabularies: [[String]?]
    /// What loading read and skipped.
    public let report: LoadReport
    /// The schema the rows were read with (CSV data); nil for data made in
    /// code (the synthetic click log). With `vocabularies` and
    /// `denseStatistics` it makes the `DatasetEncoding` that encodes new rows
    /// the same way.
    public let schema: DataSchema?

    /// Makes a dataset from columns. Shapes and id ranges are checked
    /// (`precondition`): they are the caller's contract.
    public init(name: String, fields: [SparseField], denseNames: [String], tasks: [TaskSpec],
                ids: [[Int32]], dense: [[Float]], labels: [[Float]], users: [Int64]? = nil, days: [Int32]? = nil,
                splits: DatasetSplits, vocabularies: [[String]?]? = nil, denseStatistics: [DenseStatistics]? = nil,
                report: LoadReport = LoadReport(), schema: DataSchema? = nil,
                sequenceFields: [SequenceField] = [], sequences: [RaggedColumn] = [],
                sequenceVocabularies: [[String]?]? = nil) {
        let count = labels.first?.count ?? 0
        precondition(!tasks.isEmpty && labels.count == tasks.count, "Dataset: one label column per task")
        precondition(ids.count == fields.count && dense.count == denseNames.count, "Dataset: one column per field")
        precondition(labels.allSatisfy { $0.count == count } && ids.allSatisfy { $0.count == count }
                     && dense.allSatisfy { $0.count == count }, "Dataset: all columns must have \(count) rows")
        precondition(users.map { $0.count == count } ?? true, "Dataset: users must have \(count) rows")
        precondition(days.map { $0.count == count } ?? true, "Dataset: days must have \(count) rows")
        for (f, field) in fields.enumerated() {
            precondition(field.vocabulary >= 1 && field.dimension >= 1, "Dataset: field \(field.name) is empty")
            precondition(ids[f].allSatisfy { $0 >= 0 && Int($0) < field.vocabulary },
                         "Dataset: field \(field.name) has ids outside 0..<\(field.vocabulary)")
        }
        precondition(sequences.count == sequenceFields.count && sequences.allSatisfy { $0.count == count },
                     "Dataset: one sequence column of \(count) rows per sequence field")
        for (s, field) in sequenceFields.enumerated() {
            if let problem = field.problem(sparseFields: fields) { preconditionFailure("Dataset: \(problem)") }
            precondition(sequences[s].ids.allSatisfy { $0 >= 0 && Int($0) < field.vocabulary },
                         "Dataset: sequence field \(field.name) has ids outside 0..<\(field.vocabulary)")
        }
        for part in [splits.train, splits.valid, splits.test] {
            precondition(part.allSatisfy { $0 >= 0 && $0 < count }, "Dataset: split row outside 0..<\(count)")
        }
        self.name = name
        self.count = count
        self.fields = fields
        self.denseNames = denseNames
        self.tasks = tasks
        self.ids = ids
        self.dense = dense
        self.labels = labels
        self.users = users
        self.days = days
        self.splits = splits
        self.vocabularies = vocabularies ?? [[String]?](repeating: nil, count: fields.count)
        self.denseStatistics = denseStatistics
            ?? denseNames.map { DenseStatistics(name: $0, transform: .none, mean: 0, standardDeviation: 1) }
        self.report = report
        self.schema = schema
        self.sequenceFields = sequenceFields
        self.sequences = sequences
        self.sequenceVocabularies = sequenceVocabularies ?? [[String]?](repeating: nil, count: sequenceFields.count)
    }

    /// A batch with this dataset's field, dense and label counts.
    public func makeBatch(capacity: Int) -> Batch {
        Batch(size: capacity, fieldCount: fields.count, denseCount: denseNames.count, labelCount: tasks.count,
              sequenceCount: sequenceFields.count)
    }

    /// Fills `batch` with the examples `rows` (in that order); the batch is
    /// resized to `rows.count`. `users` and `days` are filled when the
    /// dataset has them and emptied otherwise.
    public func fill(_ batch: Batch, rows: ArraySlice<Int>) {
        precondition(batch.fieldCount == fields.count && batch.denseCount == denseNames.count
                     && batch.labelCount == tasks.count && batch.sequenceCount == sequenceFields.count,
                     "Dataset.fill: the batch has \(batch.fieldCount)/\(batch.denseCount)/\(batch.labelCount) "
                     + "fields/dense/labels, the dataset \(fields.count)/\(denseNames.count)/\(tasks.count)")
        let n = rows.count
        batch.resize(size: n)
        rows.withUnsafeBufferPointer { r in
            for row in r { precondition(row >= 0 && row < count, "Dataset.fill: row \(row) outside 0..<\(count)") }
            let fieldCount = fields.count
            batch.withMutableIDs { out in
                for f in 0..<fieldCount {
                    ids[f].withUnsafeBufferPointer { column in
                        for b in 0..<n { out[b * fieldCount + f] = column[r[b]] }
                    }
                }
            }
            let denseCount = denseNames.count
            let denseOut = batch.dense.data
            for j in 0..<denseCount {
                dense[j].withUnsafeBufferPointer { column in
                    for b in 0..<n { denseOut[b * denseCount + j] = column[r[b]] }
                }
            }
            let taskCount = tasks.count
            let labelOut = batch.labels.data
            for t in 0..<taskCount {
                labels[t].withUnsafeBufferPointer { column in
                    for b in 0..<n { labelOut[b * taskCount + t] = column[r[b]] }
                }
            }
            batch.users.removeAll(keepingCapacity: true)
            if let users { for b in 0..<n { batch.users.append(users[r[b]]) } }
            batch.days.removeAll(keepingCapacity: true)
            if let days { for b in 0..<n { batch.days.append(days[r[b]]) } }
            for s in sequences.indices {
                batch.sequenceOffsets[s].removeAll(keepingCapacity: true)
                batch.sequenceIDs[s].removeAll(keepingCapacity: true)
                batch.sequenceOffsets[s].append(0)
                sequences[s].offsets.withUnsafeBufferPointer { offsets in
                    sequences[s].ids.withUnsafeBufferPointer { ids in
                        for b in 0..<n {
                            let row = r[b]
                            batch.sequenceIDs[s].append(contentsOf: UnsafeBufferPointer(rebasing: ids[offsets[row]..<offsets[row + 1]]))
                            batch.sequenceOffsets[s].append(Int32(batch.sequenceIDs[s].count))
                        }
                    }
                }
            }
        }
    }

    /// Fills `batch` with the examples `rows`.
    public func fill(_ batch: Batch, rows: [Int]) {
        fill(batch, rows: rows[...])
    }

    /// Fraction of `rows` whose label of task `task` is 1 (binary tasks),
    /// or the mean label (regression). NaN for no rows.
    public func labelMean(task: Int, rows: [Int]) -> Double {
        if rows.isEmpty { return .nan }
        var sum = 0.0
        labels[task].withUnsafeBufferPointer { column in for r in rows { sum += Double(column[r]) } }
        return sum / Double(rows.count)
    }

    /// `rows` grouped by day in increasing day order (rows keep their order
    /// within a day), for sequential training. Precondition: the dataset has days.
    public func rowsByDay(_ rows: [Int]) -> [(day: Int32, rows: [Int])] {
        guard let days else { preconditionFailure("Dataset \(name) has no day column") }
        var groups: [Int32: [Int]] = [:]
        for r in rows { groups[days[r], default: []].append(r) }
        return groups.keys.sorted().map { ($0, groups[$0]!) }
    }
}
