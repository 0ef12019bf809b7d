import Foundation
import Ranker

/// The Clippy paper's stability experiment (Tang et al., KDD 2023, Table 2
/// and §5): for each *setting* (data, model, base learning rate), each
/// method (an optimizer) is trained at learning rates
/// `base_learning_rate × multiplier` for several seeds, and each run is
/// judged diverged or not from its training loss (the `stability` example;
/// its file is `examples/stability/stability.json`).
///
/// ```json
/// {
///   "settings": [
///     {"name": "synthetic", "run": { …a RunConfiguration… }, "base_learning_rate": 0.05},
///     {"name": "census", "run": { …census… }, "base_learning_rate": 0.05, "day_rows": 5000}
///   ],
///   "stability": {"spike_factor": 3, "divergence_steps": 50, "divergence_auc": 0},
///   "grid": {"steps_per_doubling": 2, "largest": 16},
///   "seeds": [1, 2, 3, 4, 5],
///   "methods": [
///     {"name": "adagrad", "optimizer": {"kind": "adagrad"}},
///     {"name": "clippy", "optimizer": {"kind": "clippy", "preset": "project"}}
///   ],
///   "last_batch": "drop",
///   "quick": {"seeds": [1, 2], "steps_per_doubling": 1}
/// }
/// ```
///
/// * `grid`: the multipliers `2^(i / steps_per_doubling)` for
///   `i = 0 … steps_per_doubling · log2(largest)`; with 2 steps per doubling
///   and 16 they are 1, √2, 2, 2√2, 4, …, 16 (`largest` is a power of 2).
/// * `stability` replaces every setting's `stability` section: the rule
///   that judges divergence is the same for all settings (its `policy` is
///   `stop`, so that a diverged run ends and is counted once).
/// * `last_batch` replaces every setting's `training.last_batch` (`drop`:
///   every batch has `batch_size` rows; `partial`: the remainder of a day
///   is trained as a small batch, a trigger of its own).
/// * `day_rows` (optional) cuts a dataset without a day column into days of
///   that many rows in file order (the census file), for sequential training.
/// * `quick` is the default, shorter sweep: its `seeds` and
///   `steps_per_doubling` replace the full ones; `--full` runs the file as
///   written.
///
/// Each cell's run is the setting's `run` with the method's optimizer, its
/// learning rate set to `base_learning_rate × multiplier` (the method's own
/// `learning_rate`, if any, is replaced) and `training.seed` set to the seed
/// (model initialisation and shuffling; the data stay the same). Unknown keys
/// are errors.
public struct StabilityExperiment: Codable, Equatable, Sendable {
    /// One row group of the tables: a name and an optimizer.
    public struct Method: Codable, Equatable, Sendable {
        public var name: String
        public var optimizer: OptimizerConfiguration

        public init(name: String, optimizer: OptimizerConfiguration) {
            self.name = name
            self.optimizer = optimizer
        }

        enum CodingKeys: String, CodingKey, CaseIterable { case name, optimizer }

        public init(from decoder: Decoder) throws {
            let c = try StrictDecoding.container(decoder, CodingKeys.self, section: "methods[]")
            self.init(name: try c.decode(String.self, forKey: .name),
                      optimizer: try c.decode(OptimizerConfiguration.self, forKey: .optimizer))
        }
    }

    /// One setting: a base run (data, model, training) and its base rate.
    public struct Setting: Codable, Equatable, Sendable {
        public var name: String
        public var run: RunConfiguration
        public var baseLearningRate: Double
        /// Rows per day for data without days (cut in file order); nil: the data's own days.
        public var dayRows: Int?

        public init(name: String, run: RunConfiguration, baseLearningRate: Double, dayRows: Int? = nil) {
            self.name = name
            self.run = run
            self.baseLearningRate = baseLearningRate
            self.dayRows = dayRows
        }

        enum CodingKeys: String, CodingKey, CaseIterable {
            case name, run
            case baseLearningRate = "base_learning_rate"
            case dayRows = "day_rows"
        }

        public init(from decoder: Decoder) throws {
            let c = try StrictDecoding.container(decoder, CodingKeys.self, section: "settings[]")
            self.init(name: try c.decode(String.self, forKey: .name), run: try c.decode(RunConfiguration.self, forKey: .run),
                      baseLearningRate: try c.decode(Double.self, forKey: .baseLearningRate),
                      dayRows: try c.decodeIfPresent(Int.self, forKey: .dayRows))
        }
    }

    /// The multipliers: `2^(i / stepsPerDoubling)`, `i = 0 … stepsPerDoubling · log2(largest)`.
    public struct Grid: Codable, Equatable, Sendable {
        public var stepsPerDoubling: Int
        public var largest: Double

        public init(stepsPerDoubling: Int, largest: Double) {
            self.stepsPerDoubling = stepsPerDoubling
            self.largest = largest
        }

        enum CodingKeys: String, CodingKey, CaseIterable {
            case largest
            case stepsPerDoubling = "steps_per_doubling"
        }

        public init(from decoder: Decoder) throws {
            let c = try StrictDecoding.container(decoder, CodingKeys.self, section: "grid")
            self.init(stepsPerDoubling: try c.decode(Int.self, forKey: .stepsPerDoubling),
                      largest: try c.decode(Double.self, forKey: .largest))
        }

        /// The doublings from 1 to `largest` (nil unless `largest` is a power of 2 ≥ 1).
        var doublings: Int? {
            let d = log2(largest).rounded()
            return largest >= 1 && largest.isFinite && pow(2, d) == largest ? Int(d) : nil
        }

        /// 1, 2^(1/s), 2^(2/s), …, largest.
        public var multipliers: [Double] {
            guard let d = doublings, stepsPerDoubling >= 1 else { return [] }
            return (0...(d * stepsPerDoubling)).map { i in
                i % stepsPerDoubling == 0 ? pow(2, Double(i / stepsPerDoubling))
                    : pow(2, Double(i) / Double(stepsPerDoubling))
            }
        }
    }

    /// The default, shorter sweep.
    public struct QuickSweep: Codable, Equatable, Sendable {
        public var seeds: [UInt64]?
        public var stepsPerDoubling: Int?

        public init(seeds: [UInt64]? = nil, stepsPerDoubling: Int? = nil) {
            self.seeds = seeds
            self.stepsPerDoubling = stepsPerDoubling
        }

        enum CodingKeys: String, CodingKey, CaseIterable {
            case seeds
            case stepsPerDoubling = "steps_per_doubling"
        }

        public init(from decoder: Decoder) throws {
            let c = try StrictDecoding.container(decoder, CodingKeys.self, section: "quick")
            self.init(seeds: try c.decodeIfPresent([UInt64].self, forKey: .seeds),
                      stepsPerDoubling: try c.decodeIfPresent(Int.self, forKey: .stepsPerDoubling))
        }
    }

    public var settings: [Setting]
    public var stability: StabilitySettings
    public var grid: Grid
    /// Explicit multipliers (`--multipliers`); nil: the grid's.
    public var multiplierOverride: [Double]?
    public var seeds: [UInt64]
    public var methods: [Method]
    public var lastBatch: TrainingSettings.LastBatch
    public var quick: QuickSweep?

    /// Also the keys `encode(to:)` (synthesized) writes, in this order (`quick` only when set).
    enum CodingKeys: String, CodingKey, CaseIterable {
        case settings, stability, grid, seeds, methods
        case lastBatch = "last_batch"
        case quick
    }

    /// An experiment comes from its file (`load(path:)`); change a decoded
    /// one through its properties.
    public init(from decoder: Decoder) throws {
        let c = try StrictDecoding.container(decoder, CodingKeys.self, section: "stability experiment")
        settings = try c.decode([Setting].self, forKey: .settings)
        stability = try c.decode(StabilitySettings.self, forKey: .stability)
        grid = try c.decode(Grid.self, forKey: .grid)
        seeds = try c.decode([UInt64].self, forKey: .seeds)
        methods = try c.decode([Method].self, forKey: .methods)
        lastBatch = try c.decodeIfPresent(TrainingSettings.LastBatch.self, forKey: .lastBatch) ?? .drop
        quick = try c.decodeIfPresent(QuickSweep.self, forKey: .quick)
        multiplierOverride = nil
    }

    /// The learning-rate multipliers of the sweep.
    public var multipliers: [Double] { multiplierOverride ?? grid.multipliers }

    /// The run of one cell and seed: the setting's `run` with the method's
    /// optimizer at `base_learning_rate × multiplier`, the experiment's
    /// stability rule and last-batch handling, `training.seed = seed`, and
    /// the name `<setting>-<method>-x<multiplier>-s<seed>`.
    public func configuration(setting: Setting, method: Method, multiplier: Double, seed: UInt64) -> RunConfiguration {
        var c = setting.run
        c.optimizer = method.optimizer
        c.optimizer.learningRate = Float(setting.baseLearningRate * multiplier)
        c.stability = stability
        c.training.lastBatch = lastBatch
        c.training.seed = seed
        let label = method.name.lowercased().map { $0.isLetter || $0.isNumber ? $0 : "-" }
        c.name = "\(setting.name)-\(String(label))-x\(StabilityExperiment.format(multiplier))-s\(seed)"
        return c
    }

    /// The experiment with the `quick` sweep's seeds and grid applied.
    public func applyingQuickSweep() -> StabilityExperiment {
        var e = self
        guard let q = quick else { return e }
        if let seeds = q.seeds { e.seeds = seeds }
        if let s = q.stepsPerDoubling { e.grid.stepsPerDoubling = s }
        return e
    }

    /// Checks the sweep and every cell's run configuration.
    ///
    /// - Throws: `RunConfigurationError` (or the run's own validation errors).
    public func validate() throws {
        func fail(_ message: String) -> RunConfigurationError { RunConfigurationError(file: nil, message: message) }
        if settings.isEmpty { throw fail("settings must not be empty") }
        if Set(settings.map(\.name)).count != settings.count { throw fail("setting names must be distinct") }
        for s in settings {
            if !(s.baseLearningRate > 0 && s.baseLearningRate.isFinite) {
                throw fail("settings[\(s.name)].base_learning_rate must be a finite number > 0, got \(s.baseLearningRate)")
            }
            if let rows = s.dayRows, rows < 1 { throw fail("settings[\(s.name)].day_rows must be >= 1, got \(rows)") }
        }
        if grid.doublings == nil { throw fail("grid.largest must be a power of 2 >= 1, got \(grid.largest)") }
        if grid.stepsPerDoubling < 1 { throw fail("grid.steps_per_doubling must be >= 1, got \(grid.stepsPerDoubling)") }
        if let s = quick?.stepsPerDoubling, s < 1 { throw fail("quick.steps_per_doubling must be >= 1, got \(s)") }
        if let seeds = quick?.seeds, seeds.isEmpty { throw fail("quick.seeds must not be empty") }
        if multipliers.isEmpty || multipliers.contains(where: { !($0 > 0 && $0.isFinite) }) {
            throw fail("multipliers must be a non-empty list of finite numbers > 0")
        }
        if stability.policy != .stop { throw fail("stability.policy must be stop (a diverged run ends and is counted once)") }
        if seeds.isEmpty { throw fail("seeds must not be empty") }
        if methods.isEmpty { throw fail("methods must not be empty") }
        if Set(methods.map(\.name)).count != methods.count { throw fail("method names must be distinct") }
        for setting in settings {
            for method in methods {
                for multiplier in multipliers {
                    try configuration(setting: setting, method: method, multiplier: multiplier, seed: seeds[0]).validate()
                }
            }
        }
    }

    /// Reads and decodes an experiment file; errors name the file.
    public static func load(path: String) throws -> StabilityExperiment {
        try decodeConfigurationFile(StabilityExperiment.self, path: path)
    }

    /// A setting's data: the run's data, cut into days of `day_rows` rows
    /// in file order when the setting asks for it.
    ///
    /// - Throws: the loader's errors; `RunConfigurationError` when `day_rows`
    ///   leaves fewer than 2 days (one to train, one to test).
    public static func loadData(_ setting: Setting) throws -> Dataset {
        let dataset = try RunData.load(setting.run.data)
        guard let dayRows = setting.dayRows else { return dataset }
        let days = chunkDays(rows: dataset.count, dayRows: dayRows)
        if (days.last ?? 0) < 1 {
            throw RunConfigurationError(file: nil, message: "settings[\(setting.name)].day_rows \(dayRows) leaves "
                                        + "fewer than 2 days of \(dataset.count) rows")
        }
        return Dataset(name: dataset.name, fields: dataset.fields, denseNames: dataset.denseNames, tasks: dataset.tasks,
                       ids: dataset.ids, dense: dataset.dense, labels: dataset.labels, users: dataset.users,
                       days: days, splits: dataset.splits, vocabularies: dataset.vocabularies,
                       denseStatistics: dataset.denseStatistics, report: dataset.report, schema: dataset.schema)
    }

    /// The day of each of `rows` rows in file order, `dayRows` per day: row
    /// `i` is on day `⌊i / dayRows⌋`, except that a last partial day shorter
    /// than half a day joins the day before (so the test day is not tiny).
    public static func chunkDays(rows: Int, dayRows: Int) -> [Int32] {
        let full = rows / dayRows, remainder = rows % dayRows
        let lastDay = max(0, remainder * 2 < dayRows && full > 0 ? full - 1 : full)
        return (0..<rows).map { Int32(min($0 / dayRows, lastDay)) }
    }

    /// `8` for 8.0, `1.41` for √2.
    public static func format(_ multiplier: Double) -> String {
        multiplier == multiplier.rounded() && abs(multiplier) < 1e15 ? String(Int(multiplier))
            : String(format: "%.3g", multiplier)
    }
}
