/// Where a run's data comes from.
///
/// ```json
/// {"source": "synthetic", "synthetic": {"rows": 200000, "tasks": 3}}
/// {"source": "census"}                                   // PROTOCOL.md split, RANKER_DATA
/// {"source": "csv", "schema": "schemas/kuairand.json",
///  "files": [{"path": "train.csv", "part": "train"}, {"path": "test.csv", "part": "test"}]}
/// ```
///
/// `embedding_dimension` (optional) overrides the dimension of every sparse
/// field. `tasks` (optional) keeps only the named label columns, in that order.
public struct DataConfiguration: Codable, Equatable, Sendable {
    public enum Source: String, ConfigurationEnum { case synthetic, census, csv }

    /// One CSV file of a `csv` source.
    public struct File: Codable, Equatable, Sendable {
        public var path: String
        /// `train`, `valid` or `test`; absent: the schema's split rule decides.
        public var part: DatasetPart?
        public init(path: String, part: DatasetPart? = nil) {
            self.path = path
            self.part = part
        }

        enum CodingKeys: String, CodingKey, CaseIterable { case path, part }

        public init(from decoder: Decoder) throws {
            let c = try StrictDecoding.container(decoder, CodingKeys.self, section: "files[]")
            self.init(path: try c.decodeChecked(String.self, forKey: .path) ?? c.decode(String.self, forKey: .path), part: try c.decodeIfPresent(DatasetPart.self, forKey: .part))
        }
    }

    public var source: Source
    public var synthetic: SyntheticClickLogConfig?
    /// Census: explicit path of `census-income.test(.gz)` (default: found under `RANKER_DATA`).
    public var path: String?
    /// CSV: the schema file.
    public var schema: String?
    public var files: [File]?
    public var embeddingDimension: Int?
    public var tasks: [String]?

    enum CodingKeys: String, CodingKey, CaseIterable {
        case source, synthetic, path, schema, files, tasks
        case embeddingDimension = "embedding_dimension"
    }

    public init(source: Source, synthetic: SyntheticClickLogConfig? = nil, path: String? = nil, schema: String? = nil,
                files: [File]? = nil, embeddingDimension: Int? = nil, tasks: [String]? = nil) {
        self.source = source
        self.synthetic = synthetic
        self.path = path
        self.schema = schema
        self.files = files
        self.embeddingDimension = embeddingDimension
        self.tasks = tasks
    }

    /// Why `tasks` cannot select the label columns, or nil: it must name at
    /// least one (no task at all leaves nothing to train), each once.
    static func taskSelectionProblem(_ tasks: [String]) -> String? {
        if tasks.isEmpty { return "data.tasks: names no label column; give at least one (or leave the key out for all of them)" }
        var seen = Set<String>()
        for name in tasks where !seen.insert(name).inserted {
            return "data.tasks: \"\(DiagnosticText.visible(name))\" is listed twice"
        }
        return nil
    }

    public init(from decoder: Decoder) throws {
        let c = try StrictDecoding.container(decoder, CodingKeys.self, section: "data")
        self.init(source: try c.decode(Source.self, forKey: .source),
                  synthetic: try c.decodeIfPresent(SyntheticClickLogConfig.self, forKey: .synthetic),
                  path: try c.decodeChecked(String.self, forKey: .path),
                  schema: try c.decodeChecked(String.self, forKey: .schema),
                  files: try c.decodeIfPresent([File].self, forKey: .files),
                  embeddingDimension: try c.decodeChecked(Int.self, forKey: .embeddingDimension),
                  tasks: try c.decodeChecked([String].self, forKey: .tasks))
    }
}
