import Foundation
import Ranker

/// The Clippy paper's stability experiment in small: one base run trained
/// (usually sequentially, day by day) with several optimizers, each at
/// learning rates `base_learning_rate × multiplier`, for several seeds
/// (the `stability` example; its file is `examples/stability/stability.json`).
///
/// ```json
/// {
///   "run": { …a RunConfiguration: data, model, training, stability, output… },
///   "base_learning_rate": 0.01,
///   "multipliers": [1, 2, 4, 8],
///   "seeds": [1, 2],
///   "methods": [
///     {"name": "Adagrad", "optimizer": {"kind": "adagrad"}},
///     {"name": "Clippy", "optimizer": {"kind": "clippy", "preset": "project"}}
///   ],
///   "full": {"seeds": [1, 2, 3, 4, 5], "rows": 80000, "days": 16}
/// }
/// ```
///
/// Each cell's run is `run` with the method's optimizer, its learning rate
/// set to `base_learning_rate × multiplier` (the method's own
/// `learning_rate`, if any, is replaced), and `training.seed` set to the
/// seed (model initialisation and shuffling; the data stay the same).
/// `full` (optional) is the longer sweep: its `seeds` replace `seeds`, its
/// `rows` and `days` replace the synthetic data's row and day counts (scale
/// both to keep the rows per day, and so the batches of a day, the same).
/// Unknown keys are errors.
public struct StabilityExperiment: Codable, Equatable, Sendable {
    /// One row group of the table: a name and an optimizer.
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

    /// The longer sweep of `--full`.
    public struct FullSweep: Codable, Equatable, Sendable {
        public var seeds: [UInt64]?
        /// Rows of the synthetic data.
        public var rows: Int?
        /// Days of the synthetic data.
        public var days: Int?

        public init(seeds: [UInt64]? = nil, rows: Int? = nil, days: Int? = nil) {
            self.seeds = seeds
            self.rows = rows
            self.days = days
        }

        enum CodingKeys: String, CodingKey, CaseIterable { case seeds, rows, days }

        public init(from decoder: Decoder) throws {
            let c = try StrictDecoding.container(decoder, CodingKeys.self, section: "full")
            self.init(seeds: try c.decodeIfPresent([UInt64].self, forKey: .seeds),
                      rows: try c.decodeIfPresent(Int.self, forKey: .rows),
                      days: try c.decodeIfPresent(Int.self, forKey: .days))
        }
    }

    public var run: RunConfiguration
    public var baseLearningRate: Double
    public var multipliers: [Double]
    public var seeds: [UInt64]
    public var methods: [Method]
    public var full: FullSweep?

    enum CodingKeys: String, CodingKey, CaseIterable {
        case run, multipliers, seeds, methods, full
        case baseLearningRate = "base_learning_rate"
    }

    /// An experiment comes from its file (`load(path:)`); change a decoded
    /// one through its properties.
    public init(from decoder: Decoder) throws {
        let c = try StrictDecoding.container(decoder, CodingKeys.self, section: "stability experiment")
        run = try c.decode(RunConfiguration.self, forKey: .run)
        baseLearningRate = try c.decode(Double.self, forKey: .baseLearningRate)
        multipliers = try c.decode([Double].self, forKey: .multipliers)
        seeds = try c.decode([UInt64].self, forKey: .seeds)
        methods = try c.decode([Method].self, forKey: .methods)
        full = try c.decodeIfPresent(FullSweep.self, forKey: .full)
    }

    /// The run of one cell and seed: `run` with the method's optimizer at
    /// `base_learning_rate × multiplier`, `training.seed = seed`, and the
    /// name `<run>-<method>-x<multiplier>-s<seed>`.
    public func configuration(method: Method, multiplier: Double, seed: UInt64) -> RunConfiguration {
        var c = run
        c.optimizer = method.optimizer
        c.optimizer.learningRate = Float(baseLearningRate * multiplier)
        c.training.seed = seed
        let label = method.name.lowercased().map { $0.isLetter || $0.isNumber ? $0 : "-" }
        c.name = "\(run.name)-\(String(label))-x\(StabilityExperiment.format(multiplier))-s\(seed)"
        return c
    }

    /// The experiment with the `full` sweep's seeds, rows and days applied.
    public func applyingFullSweep() -> StabilityExperiment {
        var e = self
        guard let f = full else { return e }
        if let seeds = f.seeds { e.seeds = seeds }
        if let rows = f.rows, e.run.data.synthetic != nil { e.run.data.synthetic!.rows = rows }
        if let days = f.days, e.run.data.synthetic != nil { e.run.data.synthetic!.days = days }
        return e
    }

    /// Checks the sweep and every cell's run configuration.
    ///
    /// - Throws: `RunConfigurationError` (or the run's own validation errors).
    public func validate() throws {
        func fail(_ message: String) -> RunConfigurationError { RunConfigurationError(file: nil, message: message) }
        if !(baseLearningRate > 0 && baseLearningRate.isFinite) {
            throw fail("base_learning_rate must be a finite number > 0, got \(baseLearningRate)")
        }
        if multipliers.isEmpty || multipliers.contains(where: { !($0 > 0 && $0.isFinite) }) {
            throw fail("multipliers must be a non-empty list of finite numbers > 0")
        }
        if seeds.isEmpty { throw fail("seeds must not be empty") }
        if methods.isEmpty { throw fail("methods must not be empty") }
        if Set(methods.map(\.name)).count != methods.count { throw fail("method names must be distinct") }
        if let rows = full?.rows, rows < 1 { throw fail("full.rows must be >= 1, got \(rows)") }
        if let days = full?.days, days < 1 { throw fail("full.days must be >= 1, got \(days)") }
        if let seeds = full?.seeds, seeds.isEmpty { throw fail("full.seeds must not be empty") }
        for method in methods {
            for multiplier in multipliers {
                try configuration(method: method, multiplier: multiplier, seed: seeds[0]).validate()
            }
        }
    }

    /// Reads and decodes an experiment file; errors name the file.
    public static func load(path: String) throws -> StabilityExperiment {
        try decodeConfigurationFile(StabilityExperiment.self, path: path)
    }

    /// `8` for 8.0, `0.5` for 0.5.
    public static func format(_ multiplier: Double) -> String {
        multiplier == multiplier.rounded() && abs(multiplier) < 1e15 ? String(Int(multiplier)) : String(multiplier)
    }
}
