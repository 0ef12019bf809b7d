/// Whether a load with a frozen encoding reads the label columns.
public enum LabelColumns: Sendable {
    /// Labels (and the user and day columns) are read and checked as in
    /// training: evaluation data. Every task of the encoding must be a label
    /// column of the schema.
    case required
    /// Only the model inputs (sparse and dense features) are read: prediction
    /// data. Label, user and day columns may be absent (missing from the
    /// header, or an index beyond the record width — so a file without a
    /// header may only lack trailing ones; its width is then its first
    /// record's, even when the schema's `column_names` lists more); when
    /// present they are read past.
    /// The dataset's labels are NaN, it has no users or days, and a row goes
    /// to its source's part, or `test`, whatever the schema's split rule.
    case ignored
}

/// Rows read with a frozen encoding, and the raw text of columns copied through.
public struct EncodedCSV {
    /// The encoded rows, in file order (files in the order given).
    public let dataset: Dataset
    /// For each column asked to be kept, its text (after the format's
    /// trimming and unquoting) in every dataset row.
    public let keptColumns: [[String]]
}

/// A frozen load's settings, handed through to the builder.
struct FrozenLoad {
    let encoding: DatasetEncoding
    /// The encoding's file, for errors.
    let source: String
    let labels: LabelColumns
    let keep: [ColumnReference]
}

extension FrozenLoad {
    /// Checks that the frozen encoding describes the columns the schema binds
    /// (same fields, encodings, bucket counts, dense transforms; every task
    /// among the label columns when labels are read) and returns the label
    /// index of each task.
    func taskColumns(checking binding: SchemaBinding) throws -> [Int] {
        func fail(_ message: String) -> DatasetEncodingError {
            DatasetEncodingError(source: source, message: message + " (the encoding does not belong to this schema)")
        }
        guard binding.sparse.map(\.name) == encoding.sparseFields.map(\.name) else {
            throw fail("sparse fields \(encoding.sparseFields.map(\.name)), the schema binds \(binding.sparse.map(\.name))")
        }
        for (bound, field) in zip(binding.sparse, encoding.sparseFields) {
            guard bound.encoding == field.encoding, bound.encoding == .vocabulary || bound.buckets == field.vocabulary else {
                throw fail("sparse field \(field.name) is \(field.encoding.rawValue) with \(field.vocabulary) rows, "
                           + "the schema says \(bound.encoding.rawValue)" + (bound.encoding == .hash ? " with \(bound.buckets) buckets" : ""))
            }
        }
        guard binding.dense.map(\.name) == encoding.denseNames,
              zip(binding.dense, encoding.denseFeatures).allSatisfy({ $0.transform == $1.transform }) else {
            throw fail("dense features \(encoding.denseFeatures.map { "\($0.name) (\($0.transform.rawValue))" }), "
                       + "the schema binds \(binding.dense.map { "\($0.name) (\($0.transform.rawValue))" })")
        }
        guard labels == .required else { return [] }
        return try encoding.tasks.map { task in
            guard let t = binding.labels.firstIndex(where: { $0.name == task.name && $0.kind == task.kind }) else {
                throw fail("task \(task.name) (\(task.kind.rawValue)) is not a label column of the schema")
            }
            return t
        }
    }
}

extension CSVDatasetLoader {
    /// Reads CSV files with a frozen `encoding` (`encoding.json` of a run):
    /// the rows are parsed with `encoding.schema` exactly as training parsed
    /// them (same missing-value policies, the same typed `DataError`s naming
    /// file, line and column), but no vocabulary is built and no statistic is
    /// computed:
    ///
    /// * a vocabulary field's value gets its training id, or 0 when the train
    ///   split never had it;
    /// * a hash field's value is hashed into the same buckets;
    /// * a dense value is transformed and standardized with the stored train
    ///   statistics.
    ///
    /// The dataset's fields, dense names, tasks, vocabularies and statistics
    /// are the encoding's, so it fits the model the run trained. Rows go to
    /// their source's part; without one, the schema's split rule decides
    /// (labels `.required`) or they are `test` rows (labels `.ignored`).
    ///
    /// - Parameters:
    ///   - labels: `.required` for evaluation data, `.ignored` for prediction input.
    ///   - keep: columns (header name or 0-based index) whose raw text is
    ///     returned for every row, e.g. an id column to copy into predictions.
    ///   - encodingSource: names the encoding in errors (its file).
    /// - Throws: `DataError`, `SchemaError`, and `DatasetEncodingError` when
    ///   the encoding does not fit its own schema's binding of the file.
    public static func load(encoding: DatasetEncoding, sources: [CSVSource], labels: LabelColumns = .required,
                            keep: [ColumnReference] = [], name: String? = nil,
                            encodingSource: String = "<encoding>", chunkSize: Int = 4 << 20) throws -> EncodedCSV {
        precondition(!sources.isEmpty, "CSVDatasetLoader.load needs at least one file")
        try encoding.validate(source: encodingSource)
        let frozen = FrozenLoad(encoding: encoding, source: encodingSource, labels: labels, keep: keep)
        let (dataset, kept) = try read(schema: encoding.schema, sources: sources, frozen: frozen, name: name,
                                       chunkSize: chunkSize)
        return EncodedCSV(dataset: dataset, keptColumns: kept)
    }

    /// Reads one file with a frozen encoding (see `load(encoding:sources:…)`).
    public static func load(encoding: DatasetEncoding, path: String, labels: LabelColumns = .required,
                            keep: [ColumnReference] = [], name: String? = nil,
                            encodingSource: String = "<encoding>") throws -> EncodedCSV {
        try load(encoding: encoding, sources: [CSVSource(path: path)], labels: labels, keep: keep, name: name,
                 encodingSource: encodingSource)
    }
}
