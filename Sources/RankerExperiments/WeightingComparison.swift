import Foundation
import Ranker

/// Several task-balancing methods (loss weightings and gradient combinations)
/// trained on the same data with the same model, optimizer, training settings
/// and seeds — the experiment of `examples/weighting` (its `config.json`):
///
/// ```json
/// {
///   "name": "weighting",
///   "data": {"source": "synthetic", "synthetic": {"rows": 300000, "tasks": 5}},
///   "model": {"model": "ple", "levels": 1, "specific_experts": 1, "shared_experts": 1,
///             "expert_hidden": [128, 64], "tower_hidden": [32]},
///   "optimizer": {"kind": "adagrad", "form": "pytorch", "learning_rate": 0.02},
///   "training": {"epochs": 3, "batch_size": 512},
///   "seeds": [1, 2, 3],
///   "baseline": "Fixed",
///   "methods": [
///     {"name": "Fixed", "balancer": {"weighting": {"method": "fixed"}}},
///     {"name": "GradCraft", "balancer": {"combination": {"method": "gradcraft", "tau": 1, "epsilon": 0}}}
///   ],
///   "full": {"seeds": [1, 2, 3, 4, 5], "rows": 1000000, "epochs": 4}
/// }
/// ```
///
/// Every run is `configuration(method:seed:)`: the shared sections with the
/// method's `balancer` and `training.seed = seed` (model initialisation,
/// shuffling, PCGrad's visiting orders). The data is the same for every run
/// (a synthetic log's own `seed` is part of `data`). `baseline` names the
/// method the relative improvements are measured against (default: the first).
/// `full` (optional) is what `--full` switches to: other seeds, and for
/// synthetic data more rows and epochs. Unknown keys are errors; so are a
/// run file's `balancer` and `output` (each method has its balancer, and the
/// comparison prints its own table).
@dynamicMemberLookup
public struct WeightingComparison: Decodable, Equatable, Sendable {
    /// One compared method: a display name and its balancing configuration.
    public struct Method: Codable, Equatable, Sendable {
        public var name: String
        public var balancer: TaskBalancerConfiguration

        public init(name: String, balancer: TaskBalancerConfiguration) {
            self.name = name
            self.balancer = balancer
        }

        enum CodingKeys: String, CodingKey, CaseIterable { case name, balancer }

        public init(from decoder: Decoder) throws {
            let c = try StrictDecoding.container(decoder, CodingKeys.self, section: "method")
            name = try c.decode(String.self, forKey: .name)
            balancer = try c.decode(TaskBalancerConfiguration.self, forKey: .balancer)
        }
    }

    /// The longer run `--full` selects; absent keys keep the quick values.
    public struct FullRun: Codable, Equatable, Sendable {
        public var seeds: [UInt64]?
        /// Rows of the synthetic log (ignored for other sources).
        public var rows: Int?
        public var epochs: Int?

        public init(seeds: [UInt64]? = nil, rows: Int? = nil, epochs: Int? = nil) {
            self.seeds = seeds
            self.rows = rows
            self.epochs = epochs
        }

        enum CodingKeys: String, CodingKey, CaseIterable { case seeds, rows, epochs }

        public init(from decoder: Decoder) throws {
            let c = try StrictDecoding.container(decoder, CodingKeys.self, section: "full")
            seeds = try c.decodeIfPresent([UInt64].self, forKey: .seeds)
            rows = try c.decodeIfPresent(Int.self, forKey: .rows)
            epochs = try c.decodeIfPresent(Int.self, forKey: .epochs)
        }
    }

    /// The sections every run shares (`name`, `data`, `model`, `optimizer`,
    /// `training`, `stability`), read and set through the comparison
    /// (`comparison.training.epochs`); its `balancer` and `output` are not
    /// used (`configuration(method:seed:)` sets both).
    public var shared: RunConfiguration
    public var methods: [Method]
    public var seeds: [UInt64]
    public var baseline: String
    public var full: FullRun?

    enum CodingKeys: String, CodingKey, CaseIterable {
        case name, data, model, optimizer, training, stability, methods, seeds, baseline, full
    }

    /// `baseline` defaults to the first method's name.
    public init(shared: RunConfiguration, methods: [Method], seeds: [UInt64], baseline: String? = nil,
                full: FullRun? = nil) {
        self.shared = shared
        self.methods = methods
        self.seeds = seeds
        self.baseline = baseline ?? methods.first?.name ?? ""
        self.full = full
    }

    /// The shared sections as a run file has them (`name` defaults to
    /// `weighting`), except that `optimizer` is required.
    public init(from decoder: Decoder) throws {
        let c = try StrictDecoding.container(decoder, CodingKeys.self, section: "weighting comparison")
        let shared = try RunConfiguration(sectionsOf: decoder, defaultName: "weighting") {
            let model = try c.decode(ModelConfiguration.self, forKey: .model)
            // Read here, in the order of the sections, only to fail when it is missing.
            _ = try c.decode(OptimizerConfiguration.self, forKey: .optimizer)
            return model
        }
        self.init(shared: shared,
                  methods: try c.decode([Method].self, forKey: .methods),
                  seeds: try c.decode([UInt64].self, forKey: .seeds),
                  baseline: try c.decodeIfPresent(String.self, forKey: .baseline),
                  full: try c.decodeIfPresent(FullRun.self, forKey: .full))
    }

    public subscript<Value>(dynamicMember section: WritableKeyPath<RunConfiguration, Value>) -> Value {
        get { shared[keyPath: section] }
        set { shared[keyPath: section] = newValue }
    }

    /// Reads and decodes a file; errors name the file and the key.
    public static func load(path: String) throws -> WeightingComparison {
        try decodeConfigurationFile(WeightingComparison.self, path: path) { try $0.validate() }
    }

    /// The run of `method` with `seed`: the shared sections, the method's
    /// balancer, the seed; no progress display and no report (the comparison
    /// prints its own table), a step telemetry line every 50 steps.
    public func configuration(method: Method, seed: UInt64) -> RunConfiguration {
        var run = shared
        run.name = "\(shared.name)-\(method.name)-seed\(seed)"
        run.balancer = method.balancer
        run.training.seed = seed
        run.output = OutputSettings()
        run.output.progress = .none
        run.output.report = false
        run.output.telemetryEverySteps = 50
        return run
    }

    /// The comparison `--full` selects: `full`'s seeds, and (synthetic data)
    /// its rows and epochs; unchanged when there is no `full` section.
    public func applyingFull() -> WeightingComparison {
        guard let full else { return self }
        var c = self
        if let seeds = full.seeds { c.seeds = seeds }
        if let epochs = full.epochs { c.training.epochs = epochs }
        if let rows = full.rows, c.data.source == .synthetic {
            var synthetic = c.data.synthetic ?? SyntheticClickLogConfig()
            synthetic.rows = rows
            c.data.synthetic = synthetic
        }
        return c
    }

    /// Checks the comparison and every run configuration it makes.
    ///
    /// - Throws: `RunConfigurationError` for no or duplicate methods or seeds,
    ///   an unknown baseline, or a run configuration that does not validate;
    ///   `TaskBalancerConfigurationError` for a balancer with both sections.
    public func validate() throws {
        func fail(_ message: String) -> RunConfigurationError { RunConfigurationError(file: nil, message: message) }
        if methods.isEmpty { throw fail("methods: at least one method is needed") }
        if Set(methods.map(\.name)).count != methods.count { throw fail("methods: names must be unique") }
        if seeds.isEmpty { throw fail("seeds: at least one seed is needed") }
        if Set(seeds).count != seeds.count { throw fail("seeds: seeds must be unique") }
        if !methods.contains(where: { $0.name == baseline }) {
            throw fail("baseline \"\(baseline)\" is not one of the methods (\(methods.map(\.name).joined(separator: ", ")))")
        }
        if let seeds = full?.seeds, seeds.isEmpty || Set(seeds).count != seeds.count {
            throw fail("full.seeds: at least one seed, all unique")
        }
        for method in methods {
            try configuration(method: method, seed: seeds[0]).validate()
            if method.balancer.weighting != nil && method.balancer.combination != nil {
                try method.balancer.validate(taskCount: 1)  // throws the "alternatives" error
            }
        }
    }
}
