import Foundation

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
    public enum Source: String, Codable, Sendable { case synthetic, census, csv }

    /// One CSV file of a `csv` source.
    public struct File: Codable, Equatable, Sendable {
        public var path: String
        /// `train`, `valid` or `test`; absent: the schema's split rule decides.
        public var part: DatasetPart?
        public init(path: String, part: DatasetPart? = nil) {
            self.path = path
            self.part = part
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

    public init(from decoder: Decoder) throws {
        try RunConfiguration.rejectUnknownKeys(decoder, CodingKeys.self, "data")
        let c = try decoder.container(keyedBy: CodingKeys.self)
        self.init(source: try c.decode(Source.self, forKey: .source),
                  synthetic: try c.decodeIfPresent(SyntheticClickLogConfig.self, forKey: .synthetic),
                  path: try c.decodeIfPresent(String.self, forKey: .path),
                  schema: try c.decodeIfPresent(String.self, forKey: .schema),
                  files: try c.decodeIfPresent([File].self, forKey: .files),
                  embeddingDimension: try c.decodeIfPresent(Int.self, forKey: .embeddingDimension),
                  tasks: try c.decodeIfPresent([String].self, forKey: .tasks))
    }
}

/// The learning-rate schedule: the optimizer's rate times a factor of the step.
public enum LearningRateSchedule: Codable, Equatable, Sendable {
    /// Factor 1.
    case constant
    /// Factor `min(1, (step + 1) / warmupSteps)`: linear warm-up, then constant.
    case linearWarmup(steps: Int)

    /// The factor at `step` (0-based).
    public func factor(step: Int) -> Double {
        switch self {
        case .constant: return 1
        case .linearWarmup(let steps): return steps <= 0 ? 1 : min(1, Double(step + 1) / Double(steps))
        }
    }

    enum CodingKeys: String, CodingKey, CaseIterable { case kind, steps = "warmup_steps" }

    public init(from decoder: Decoder) throws {
        try RunConfiguration.rejectUnknownKeys(decoder, CodingKeys.self, "learning_rate_schedule")
        let c = try decoder.container(keyedBy: CodingKeys.self)
        switch try c.decode(String.self, forKey: .kind) {
        case "constant": self = .constant
        case "warmup", "linear_warmup": self = .linearWarmup(steps: try c.decode(Int.self, forKey: .steps))
        case let other:
            throw DecodingError.dataCorruptedError(forKey: .kind, in: c,
                debugDescription: "learning_rate_schedule.kind must be constant or warmup, got \(other)")
        }
    }

    public func encode(to encoder: Encoder) throws {
        var c = encoder.container(keyedBy: CodingKeys.self)
        switch self {
        case .constant: try c.encode("constant", forKey: .kind)
        case .linearWarmup(let steps):
            try c.encode("warmup", forKey: .kind)
            try c.encode(steps, forKey: .steps)
        }
    }
}

/// How training walks through the data.
public struct TrainingSettings: Codable, Equatable, Sendable {
    public enum Mode: String, Codable, Sendable {
        /// Epochs over the train split with seeded shuffling; evaluation on the
        /// valid split; the best state (mean valid AUC) is kept and tested.
        case epochs
        /// Days in order (the Clippy paper's protocol): for each day `d` but the
        /// last, train on the window of days `d−W+1 … d` (shuffled), then
        /// evaluate on day `d+1`; the last day is the test set.
        case sequential
    }

    public var mode: Mode = .epochs
    public var epochs: Int = 1
    public var batchSize: Int = 512
    public var seed: UInt64 = 1
    /// OpenBLAS threads (results are deterministic for a given count).
    public var threads: Int = 1
    public var learningRateSchedule: LearningRateSchedule = .constant
    /// Evaluate every N steps (0: at the end of every epoch / day).
    public var evalEverySteps: Int = 0
    /// Stop after this many evaluations without a better mean valid AUC (0: never).
    public var earlyStoppingPatience: Int = 0
    /// Sequential mode: days in the training window.
    public var windowDays: Int = 1
    /// Stop after this many steps (0: no limit).
    public var maxSteps: Int = 0
    /// Write `checkpoint.safetensors` every N steps (0: at every evaluation).
    public var checkpointEverySteps: Int = 0
    /// Simulate an interruption: write the checkpoint after this step and stop
    /// (0: off). A resumed run continues exactly where it stopped.
    public var interruptAfterSteps: Int = 0

    enum CodingKeys: String, CodingKey, CaseIterable {
        case mode, epochs, seed, threads
        case batchSize = "batch_size"
        case learningRateSchedule = "learning_rate_schedule"
        case evalEverySteps = "eval_every_steps"
        case earlyStoppingPatience = "early_stopping_patience"
        case windowDays = "window_days"
        case maxSteps = "max_steps"
        case checkpointEverySteps = "checkpoint_every_steps"
        case interruptAfterSteps = "interrupt_after_steps"
    }

    public init() {}

    public init(from decoder: Decoder) throws {
        try RunConfiguration.rejectUnknownKeys(decoder, CodingKeys.self, "training")
        let c = try decoder.container(keyedBy: CodingKeys.self)
        var s = TrainingSettings()
        s.mode = try c.decodeIfPresent(Mode.self, forKey: .mode) ?? s.mode
        s.epochs = try c.decodeIfPresent(Int.self, forKey: .epochs) ?? s.epochs
        s.batchSize = try c.decodeIfPresent(Int.self, forKey: .batchSize) ?? s.batchSize
        s.seed = try c.decodeIfPresent(UInt64.self, forKey: .seed) ?? s.seed
        s.threads = try c.decodeIfPresent(Int.self, forKey: .threads) ?? s.threads
        s.learningRateSchedule = try c.decodeIfPresent(LearningRateSchedule.self, forKey: .learningRateSchedule)
            ?? s.learningRateSchedule
        s.evalEverySteps = try c.decodeIfPresent(Int.self, forKey: .evalEverySteps) ?? s.evalEverySteps
        s.earlyStoppingPatience = try c.decodeIfPresent(Int.self, forKey: .earlyStoppingPatience) ?? s.earlyStoppingPatience
        s.windowDays = try c.decodeIfPresent(Int.self, forKey: .windowDays) ?? s.windowDays
        s.maxSteps = try c.decodeIfPresent(Int.self, forKey: .maxSteps) ?? s.maxSteps
        s.checkpointEverySteps = try c.decodeIfPresent(Int.self, forKey: .checkpointEverySteps) ?? s.checkpointEverySteps
        s.interruptAfterSteps = try c.decodeIfPresent(Int.self, forKey: .interruptAfterSteps) ?? s.interruptAfterSteps
        self = s
    }
}

/// What the run does when the stability monitor sees trouble.
public enum StabilityPolicy: String, Codable, Sendable {
    /// Stop the run at a non-finite loss/gradient or a divergence.
    case stop
    /// Skip the update of a batch with a non-finite value or a loss spike;
    /// stop at a divergence.
    case skip
    /// Restore the last good checkpoint (in memory) with the learning rate
    /// halved at a non-finite value or a divergence.
    case rollback
}

/// The stability monitor's thresholds (see `StabilityMonitor`).
public struct StabilitySettings: Codable, Equatable, Sendable {
    public var policy: StabilityPolicy = .stop
    /// A loss above `spikeFactor ×` its moving average is a spike.
    public var spikeFactor: Double = 3
    /// Decay of the per-task exponential moving average of the loss.
    public var movingAverageDecay: Double = 0.98
    /// Steps before spikes are judged (the average needs history).
    public var warmupSteps: Int = 50
    /// A spike that lasts this many steps is a divergence.
    public var divergenceSteps: Int = 100
    /// A valid AUC at or below this (after having been above it) is a divergence.
    public var divergenceAUC: Double = 0.52
    /// Give up after this many rollbacks.
    public var maxRollbacks: Int = 5

    enum CodingKeys: String, CodingKey, CaseIterable {
        case policy
        case spikeFactor = "spike_factor"
        case movingAverageDecay = "moving_average_decay"
        case warmupSteps = "warmup_steps"
        case divergenceSteps = "divergence_steps"
        case divergenceAUC = "divergence_auc"
        case maxRollbacks = "max_rollbacks"
    }

    public init() {}

    public init(from decoder: Decoder) throws {
        try RunConfiguration.rejectUnknownKeys(decoder, CodingKeys.self, "stability")
        let c = try decoder.container(keyedBy: CodingKeys.self)
        var s = StabilitySettings()
        s.policy = try c.decodeIfPresent(StabilityPolicy.self, forKey: .policy) ?? s.policy
        s.spikeFactor = try c.decodeIfPresent(Double.self, forKey: .spikeFactor) ?? s.spikeFactor
        s.movingAverageDecay = try c.decodeIfPresent(Double.self, forKey: .movingAverageDecay) ?? s.movingAverageDecay
        s.warmupSteps = try c.decodeIfPresent(Int.self, forKey: .warmupSteps) ?? s.warmupSteps
        s.divergenceSteps = try c.decodeIfPresent(Int.self, forKey: .divergenceSteps) ?? s.divergenceSteps
        s.divergenceAUC = try c.decodeIfPresent(Double.self, forKey: .divergenceAUC) ?? s.divergenceAUC
        s.maxRollbacks = try c.decodeIfPresent(Int.self, forKey: .maxRollbacks) ?? s.maxRollbacks
        self = s
    }
}

/// Where results go and what is shown while training.
public struct OutputSettings: Codable, Equatable, Sendable {
    public enum Progress: String, Codable, Sendable {
        /// A progress bar on a terminal, plain periodic lines otherwise.
        case auto
        case bar, lines, none
        /// No progress and no evaluation or event lines on standard output
        /// (for programs that run many trainings and print their own summary);
        /// telemetry is written as always.
        case silent
    }

    /// The run directory (default `runs/<name>`).
    public var directory: String?
    public var progress: Progress = .auto
    /// Write a `step` telemetry line every N steps (evaluations and events always).
    public var telemetryEverySteps: Int = 1
    /// Write `report.html` at the end of the run.
    public var report: Bool = true

    enum CodingKeys: String, CodingKey, CaseIterable {
        case directory, progress, report
        case telemetryEverySteps = "telemetry_every_steps"
    }

    public init() {}

    public init(from decoder: Decoder) throws {
        try RunConfiguration.rejectUnknownKeys(decoder, CodingKeys.self, "output")
        let c = try decoder.container(keyedBy: CodingKeys.self)
        var s = OutputSettings()
        s.directory = try c.decodeIfPresent(String.self, forKey: .directory)
        s.progress = try c.decodeIfPresent(Progress.self, forKey: .progress) ?? s.progress
        s.telemetryEverySteps = try c.decodeIfPresent(Int.self, forKey: .telemetryEverySteps) ?? s.telemetryEverySteps
        s.report = try c.decodeIfPresent(Bool.self, forKey: .report) ?? s.report
        self = s
    }
}

/// A training run, as `ranker train --config run.json` reads it.
///
/// ```json
/// {
///   "name": "mmoe-synthetic",
///   "data": {"source": "synthetic"},
///   "model": {"model": "mmoe", "experts": 8, "expert_hidden": [64, 32], "tower_hidden": [16]},
///   "optimizer": {"kind": "clippy", "learning_rate": 0.05},
///   "balancer": {"weighting": {"method": "fixed"}},
///   "training": {"epochs": 3, "batch_size": 512, "seed": 1},
///   "stability": {"policy": "stop"},
///   "output": {"directory": "runs/mmoe-synthetic"}
/// }
/// ```
///
/// The model's input (`sparse_fields`, `dense_features`) and its tasks come
/// from the data; a `tasks` list in `model` is not needed (ESMM's tasks are
/// always `ctr`, `ctcvr`, read from the data's first two label columns: click,
/// then conversion). Every section but `data` and `model` has defaults.
/// Unknown keys are errors.
public struct RunConfiguration: Codable, Equatable, Sendable {
    public var name: String
    public var data: DataConfiguration
    public var model: ModelConfiguration
    public var optimizer: OptimizerConfiguration
    public var balancer: TaskBalancerConfiguration
    public var training: TrainingSettings
    public var stability: StabilitySettings
    public var output: OutputSettings

    enum CodingKeys: String, CodingKey, CaseIterable {
        case name, data, model, optimizer, balancer, training, stability, output
    }

    public init(name: String, data: DataConfiguration, model: ModelConfiguration,
                optimizer: OptimizerConfiguration = .clippy(learningRate: OptimizerConfiguration.defaultLearningRate),
                balancer: TaskBalancerConfiguration = TaskBalancerConfiguration(),
                training: TrainingSettings = TrainingSettings(), stability: StabilitySettings = StabilitySettings(),
                output: OutputSettings = OutputSettings()) {
        self.name = name
        self.data = data
        self.model = model
        self.optimizer = optimizer
        self.balancer = balancer
        self.training = training
        self.stability = stability
        self.output = output
    }

    public init(from decoder: Decoder) throws {
        try RunConfiguration.rejectUnknownKeys(decoder, CodingKeys.self, "run configuration")
        let c = try decoder.container(keyedBy: CodingKeys.self)
        self.init(name: try c.decodeIfPresent(String.self, forKey: .name) ?? "run",
                  data: try c.decode(DataConfiguration.self, forKey: .data),
                  model: try c.decode(ModelConfiguration.self, forKey: .model),
                  optimizer: try c.decodeIfPresent(OptimizerConfiguration.self, forKey: .optimizer)
                      ?? .clippy(learningRate: OptimizerConfiguration.defaultLearningRate),
                  balancer: try c.decodeIfPresent(TaskBalancerConfiguration.self, forKey: .balancer)
                      ?? TaskBalancerConfiguration(),
                  training: try c.decodeIfPresent(TrainingSettings.self, forKey: .training) ?? TrainingSettings(),
                  stability: try c.decodeIfPresent(StabilitySettings.self, forKey: .stability) ?? StabilitySettings(),
                  output: try c.decodeIfPresent(OutputSettings.self, forKey: .output) ?? OutputSettings())
    }

    /// The embedded default run (`make run`, `ranker train` without a file;
    /// the same as `configs/mmoe-synthetic.json`): MMoE (8 experts [128, 64],
    /// towers [32]) on the synthetic click log (200,000 rows, 3 tasks with
    /// positive rates 20%, 8%, 3%, task correlation 0.5), Clippy Adagrad with
    /// the project preset at learning rate 0.2, 8 epochs of batch 512.
    public static var `default`: RunConfiguration {
        var synthetic = SyntheticClickLogConfig()
        synthetic.rows = 200_000
        synthetic.tasks = 3
        synthetic.positiveRates = [0.2, 0.08, 0.03]
        synthetic.taskCorrelation = 0.5
        var training = TrainingSettings()
        training.epochs = 8
        training.batchSize = 512
        return RunConfiguration(
            name: "mmoe-synthetic",
            data: DataConfiguration(source: .synthetic, synthetic: synthetic),
            model: ModelConfiguration(model: .mmoe, tasks: [], experts: 8, expertHidden: [128, 64], towerHidden: [32]),
            optimizer: .clippy(learningRate: 0.2),
            training: training)
    }

    /// Reads and decodes a configuration file; errors name the file.
    public static func load(path: String) throws -> RunConfiguration {
        try decodeConfigurationFile(RunConfiguration.self, path: path)
    }

    /// The configuration as pretty JSON (stored in checkpoints and run directories).
    public func encodedJSON() -> String {
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.prettyPrinted, .sortedKeys]
        return String(decoding: (try? encoder.encode(self)) ?? Data(), as: UTF8.self)
    }

    /// Checks every section; throws the first problem.
    public func validate() throws {
        func fail(_ message: String) -> RunConfigurationError { RunConfigurationError(file: nil, message: message) }
        let t = training
        if t.epochs < 1 { throw fail("training.epochs must be >= 1, got \(t.epochs)") }
        if t.batchSize < 1 { throw fail("training.batch_size must be >= 1, got \(t.batchSize)") }
        if t.threads < 1 { throw fail("training.threads must be >= 1, got \(t.threads)") }
        if t.windowDays < 1 { throw fail("training.window_days must be >= 1, got \(t.windowDays)") }
        for (name, value) in [("eval_every_steps", t.evalEverySteps), ("early_stopping_patience", t.earlyStoppingPatience),
                              ("max_steps", t.maxSteps), ("checkpoint_every_steps", t.checkpointEverySteps),
                              ("interrupt_after_steps", t.interruptAfterSteps)] where value < 0 {
            throw fail("training.\(name) must be >= 0, got \(value)")
        }
        if case .linearWarmup(let steps) = t.learningRateSchedule, steps < 1 {
            throw fail("training.learning_rate_schedule.warmup_steps must be >= 1")
        }
        let s = stability
        if !(s.spikeFactor > 1) { throw fail("stability.spike_factor must be > 1, got \(s.spikeFactor)") }
        if !(s.movingAverageDecay > 0 && s.movingAverageDecay < 1) {
            throw fail("stability.moving_average_decay must be in (0, 1), got \(s.movingAverageDecay)")
        }
        if s.warmupSteps < 0 || s.divergenceSteps < 1 || s.maxRollbacks < 0 {
            throw fail("stability: warmup_steps >= 0, divergence_steps >= 1 and max_rollbacks >= 0 are needed")
        }
        if output.telemetryEverySteps < 1 { throw fail("output.telemetry_every_steps must be >= 1") }
        if let d = data.embeddingDimension, d < 1 { throw fail("data.embedding_dimension must be >= 1, got \(d)") }
        switch data.source {
        case .synthetic: break
        case .census: break
        case .csv:
            if data.schema == nil { throw fail("data.schema is required for a csv source") }
            if (data.files ?? []).isEmpty { throw fail("data.files needs at least one file for a csv source") }
        }
        try optimizer.validate()
    }

    /// Throws a decoding error naming the first key of the decoder's object
    /// that is not one of `Keys` (configuration files of the experiments use it too).
    public static func rejectUnknownKeys<Keys: CodingKey & CaseIterable>(_ decoder: Decoder, _: Keys.Type, _ section: String) throws {
        let allowed = Set(Keys.allCases.map(\.stringValue))
        if let key = try StrictDecoding.unknownKeys(in: decoder, allowed: allowed).first {
            throw DecodingError.dataCorrupted(DecodingError.Context(
                codingPath: decoder.codingPath + [AnyCodingKey(stringValue: key)],
                debugDescription: "unknown key \"\(key)\" in \(section); known: \(allowed.sorted().joined(separator: ", "))"))
        }
    }
}

/// A run configuration that cannot be used, with the file when known.
public struct RunConfigurationError: Error, CustomStringConvertible, Equatable {
    public let file: String?
    public let message: String
    public var description: String { (file.map { "\($0): " } ?? "") + message }

    public init(file: String?, message: String) {
        self.file = file
        self.message = message
    }
}

/// `key.path: message` for a decoding error.
/// Reads and decodes a JSON configuration file (a run configuration, a model
/// comparison, an experiment), then runs `validate` on the result. Every
/// failure — unreadable file, decoding error, a `RunConfigurationError` from
/// decoding or `validate` — is thrown as a `RunConfigurationError` naming
/// the file and, for decoding errors, the key.
public func decodeConfigurationFile<T: Decodable>(_ type: T.Type, path: String,
                                                  validate: (T) throws -> Void = { _ in }) throws -> T {
    let data: Data
    do {
        data = try Data(contentsOf: URL(fileURLWithPath: path))
    } catch {
        throw RunConfigurationError(file: path, message: "cannot read the file (\(error.localizedDescription))")
    }
    do {
        let value = try JSONDecoder().decode(T.self, from: data)
        try validate(value)
        return value
    } catch let error as DecodingError {
        throw RunConfigurationError(file: path, message: describe(error))
    } catch let error as RunConfigurationError {
        throw RunConfigurationError(file: path, message: error.message)
    } catch {
        throw RunConfigurationError(file: path, message: "\(error)")
    }
}

func describe(_ error: DecodingError) -> String {
    func path(_ keys: [CodingKey]) -> String {
        keys.map { $0.intValue.map { "[\($0)]" } ?? ".\($0.stringValue)" }.joined().drop { $0 == "." }.description
    }
    switch error {
    case let .keyNotFound(key, context):
        return "missing key \"\(key.stringValue)\"" + (context.codingPath.isEmpty ? "" : " in \(path(context.codingPath))")
    case let .typeMismatch(type, context):
        return "\(path(context.codingPath)): expected \(type) (\(context.debugDescription))"
    case let .valueNotFound(type, context):
        return "\(path(context.codingPath)): expected a \(type) value"
    case let .dataCorrupted(context):
        return (context.codingPath.isEmpty ? "" : "\(path(context.codingPath)): ") + context.debugDescription
    @unknown default:
        return "\(error)"
    }
}
