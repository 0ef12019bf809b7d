import Foundation

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
        let c = try StrictDecoding.container(decoder, CodingKeys.self, section: "run configuration")
        try self.init(sectionsOf: decoder, defaultName: "run") { try c.decode(ModelConfiguration.self, forKey: .model) }
    }

    /// Reads the sections of a run file, in order and with their defaults
    /// (`name`: `defaultName`; the other sections: those of the memberwise
    /// initializer), from a decoder whose keys the caller has checked;
    /// `model` reads the model (a file that lists several models, such as
    /// `ModelComparisonConfiguration`'s, gives one of them).
    public init(sectionsOf decoder: Decoder, defaultName: String, model: () throws -> ModelConfiguration) throws {
        let c = try decoder.container(keyedBy: CodingKeys.self)
        self.init(name: try c.decode(.name, default: defaultName), data: try c.decode(DataConfiguration.self, forKey: .data),
                  model: try model())
        optimizer = try c.decode(.optimizer, default: optimizer)
        balancer = try c.decode(.balancer, default: balancer)
        training = try c.decode(.training, default: training)
        stability = try c.decode(.stability, default: stability)
        output = try c.decode(.output, default: output)
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

    /// Why `name` cannot name a run directory (`runs/<name>-<time>`), or nil:
    /// it must be one plain file name — not empty, no `/`, not starting with
    /// `.` (so neither `..` nor a hidden name), no control character — so a
    /// run never writes outside `runs/` (`"../../evil"`).
    static func runNameProblem(_ name: String) -> String? {
        let plain = !name.isEmpty && !name.contains("/") && !name.hasPrefix(".")
            && !name.unicodeScalars.contains(where: DiagnosticText.isControl)
        if plain { return nil }
        return "name: \"\(DiagnosticText.visible(name))\" cannot name a run directory; use a plain file name "
            + "(no \"/\", not starting with \".\", not empty)"
    }

    /// Checks every section; throws the first problem.
    public func validate() throws {
        func fail(_ message: String) -> RunConfigurationError { RunConfigurationError(file: nil, message: message) }
        if let problem = Self.runNameProblem(name) { throw fail(problem) }
        if let names = data.tasks, let problem = DataConfiguration.taskSelectionProblem(names) { throw fail(problem) }
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
}
