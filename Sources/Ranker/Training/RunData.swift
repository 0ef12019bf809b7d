import Foundation

/// Loads the dataset a run configuration names and derives the model's input
/// and tasks from it.
public enum RunData {
    /// The dataset of `data` (synthetic, census or CSV with a schema), with the
    /// `tasks` selection and `embedding_dimension` override applied.
    public static func load(_ data: DataConfiguration) throws -> Dataset {
        var dataset: Dataset
        switch data.source {
        case .synthetic:
            dataset = try SyntheticClickLog(config: data.synthetic ?? SyntheticClickLogConfig()).dataset
        case .census:
            dataset = try CensusIncome.load(path: try data.path.map(resolve))
        case .csv:
            guard let schemaPath = data.schema, let files = data.files, !files.isEmpty else {
                throw RunConfigurationError(file: nil, message: "a csv source needs data.schema and data.files")
            }
            let schema = try DataSchema.load(path: try resolve(schemaPath))
            dataset = try CSVDatasetLoader.load(schema: schema,
                                                sources: try files.map { CSVSource(path: try resolve($0.path), part: $0.part) })
        }
        if let names = data.tasks { dataset = try select(tasks: names, from: dataset) }
        if let dimension = data.embeddingDimension { dataset = withEmbeddingDimension(dimension, dataset) }
        return dataset
    }

    /// The dataset of `data` read with the run's frozen `encoding` (its
    /// `encoding.json`), as `ranker eval` reads it: the same files, but ids
    /// and dense statistics are the run's, not rebuilt from the files as they
    /// are now (a reordered train file would otherwise renumber every
    /// vocabulary and the trained embeddings would read the wrong rows). The
    /// encoding already holds the `tasks` selection and embedding dimension.
    ///
    /// - Throws: `RunConfigurationError` for a synthetic source (it has no
    ///   encoding), and the loader's `DataError`, `DatasetEncodingError`.
    public static func load(_ data: DataConfiguration, encoding: DatasetEncoding, encodingSource: String) throws -> Dataset {
        let name: String? = data.source == .census ? "census-income" : nil
        let files: [CSVSource]
        switch data.source {
        case .synthetic:
            throw RunConfigurationError(file: nil, message: "synthetic data has no frozen encoding; load it with RunData.load(_:)")
        case .census:
            files = [CSVSource(path: try data.path.map(resolve) ?? CensusIncome.locate())]
        case .csv:
            files = try (data.files ?? []).map { CSVSource(path: try resolve($0.path), part: $0.part) }
            if files.isEmpty { throw RunConfigurationError(file: nil, message: "a csv source needs data.files") }
        }
        return try CSVDatasetLoader.load(encoding: encoding, sources: files, labels: .required, name: name,
                                         encodingSource: encodingSource).dataset
    }

    /// The files `data` reads, resolved as `load` resolves them and made
    /// absolute: the CSV files in order, the census file, none for synthetic data.
    public static func dataFiles(_ data: DataConfiguration) throws -> [String] {
        let paths: [String]
        switch data.source {
        case .synthetic: paths = []
        case .census: paths = [try data.path.map(resolve) ?? CensusIncome.locate()]
        case .csv: paths = try (data.files ?? []).map { try resolve($0.path) }
        }
        return paths.map { URL(fileURLWithPath: $0).standardizedFileURL.path }
    }

    /// A path as given, or — when it does not exist relative to the current
    /// directory — relative to the repository root (the checkout holding the
    /// current directory, else the one this library was built from; so
    /// `schemas/…` works from anywhere), then relative to the data roots of
    /// `DataLocation` (so `ali-ccp/torch-rechub/…` finds the shared sample
    /// files). A path found nowhere is returned as given.
    public static func resolve(_ path: String) throws -> String {
        if path.hasPrefix("/") || FileManager.default.fileExists(atPath: path) { return path }
        for root in DataLocation.repositoryRoots(filePath: nil) {
            let candidate = (root as NSString).appendingPathComponent(path)
            if FileManager.default.fileExists(atPath: candidate) { return candidate }
        }
        if let found = try? DataLocation.locateData([path]) { return found }
        return path  // the loader reports the missing file with its name
    }

    /// The model configuration of a run: its architecture settings with the
    /// dataset's sparse fields, dense feature count and tasks.
    public static func modelConfiguration(_ model: ModelConfiguration, for dataset: Dataset) throws -> ModelConfiguration {
        try modelConfiguration(model, fields: dataset.fields, denseFeatures: dataset.denseNames.count, tasks: dataset.tasks,
                               sequences: dataset.sequenceFields)
    }

    /// The model configuration of a run from the data's encoding (`encoding.json`
    /// of a run directory) instead of the data itself.
    public static func modelConfiguration(_ model: ModelConfiguration,
                                          for encoding: DatasetEncoding) throws -> ModelConfiguration {
        try modelConfiguration(model, fields: encoding.fields, denseFeatures: encoding.denseFeatures.count,
                               tasks: encoding.tasks, sequences: encoding.sequenceFields.map(\.field))
    }

    static func modelConfiguration(_ model: ModelConfiguration, fields: [SparseField], denseFeatures: Int,
                                   tasks: [TaskSpec], sequences: [SequenceField] = []) throws -> ModelConfiguration {
        var c = model
        c.sparseFields = fields
        c.sequenceFields = sequences
        c.denseFeatures = denseFeatures
        if c.model == .esmm {
            guard tasks.count == 2, tasks.allSatisfy({ $0.kind == .binary }) else {
                throw RunConfigurationError(file: nil, message:
                    "ESMM needs exactly two binary label columns, click then conversion; the data has "
                    + tasks.map(\.name).joined(separator: ", ") + " (select them with data.tasks)")
            }
            c.tasks = [TaskSpec(name: "ctr"), TaskSpec(name: "ctcvr")]
        } else {
            c.tasks = tasks
        }
        try c.validate()
        return c
    }

    /// A dataset with only the named label columns, in that order.
    static func select(tasks names: [String], from d: Dataset) throws -> Dataset {
        if let problem = DataConfiguration.taskSelectionProblem(names) { throw RunConfigurationError(file: nil, message: problem) }
        var indices: [Int] = []
        for name in names {
            guard let i = d.tasks.firstIndex(where: { $0.name == name }) else {
                throw RunConfigurationError(file: nil, message:
                    "data.tasks: no label column \"\(name)\"; the data has " + d.tasks.map(\.name).joined(separator: ", "))
            }
            indices.append(i)
        }
        return Dataset(name: d.name, fields: d.fields, denseNames: d.denseNames, tasks: indices.map { d.tasks[$0] },
                       ids: d.ids, dense: d.dense, labels: indices.map { d.labels[$0] }, users: d.users, days: d.days,
                       splits: d.splits, vocabularies: d.vocabularies, denseStatistics: d.denseStatistics, report: d.report,
                       schema: d.schema, sequenceFields: d.sequenceFields, sequences: d.sequences,
                       sequenceVocabularies: d.sequenceVocabularies)
    }

    static func withEmbeddingDimension(_ dimension: Int, _ d: Dataset) -> Dataset {
        let fields = d.fields.map { SparseField(name: $0.name, vocabulary: $0.vocabulary, dimension: dimension) }
        let sequenceFields = d.sequenceFields.map { field -> SequenceField in
            var resized = field
            resized.dimension = dimension
            return resized
        }
        return Dataset(name: d.name, fields: fields, denseNames: d.denseNames, tasks: d.tasks,
                       ids: d.ids, dense: d.dense, labels: d.labels, users: d.users, days: d.days,
                       splits: d.splits, vocabularies: d.vocabularies, denseStatistics: d.denseStatistics, report: d.report,
                       schema: d.schema, sequenceFields: sequenceFields, sequences: d.sequences,
                       sequenceVocabularies: d.sequenceVocabularies)
    }
}
