/// Configuration of the balancing layer (ALGORITHMS.md 5, 6, 7), as JSON:
///
/// ```json
/// { "weighting":   { "method": "fixed" | "dwa" | "gradnorm" | "uw", ...options } }
/// { "combination": { "method": "gradcraft" | "pcgrad", ...options } }
/// ```
///
/// (or any method registered with `TaskBalancerRegistry`). At most one of the
/// two may be present: loss weighting and gradient combination are
/// alternatives (ALGORITHMS.md 7), and a configuration with both is rejected by
/// `validate` and `makeBalancer`. With neither, every task has weight 1
/// (`fixed`). Unknown keys and unknown methods are decoding errors; a key or
/// value in an old spelling (`windowSteps`, `"all-shared"`) is an error naming
/// the new one.
///
/// Options per built-in method (all optional; defaults shown):
///
/// | method | key | default | meaning |
/// |---|---|---|---|
/// | `fixed` | `weights` | all 1 | `T` finite weights `>= 0` |
/// | `dwa` | `temperature` | 2 | softmax temperature `> 0` |
/// | | `window_steps` | none | average over windows of this many steps instead of data epochs |
/// | `gradnorm` | `alpha` | 1.5 | asymmetry |
/// | | `learning_rate` | 0.025 | learning rate of the weights' own optimizer |
/// | | `optimizer` | `"adam"` | `"adam"` or `"sgd"` |
/// | | `beta1`, `beta2`, `adam_epsilon` | 0.9, 0.999, 1e-8 | Adam (PyTorch form) |
/// | | `scope` | `"last_shared_layer"` | or `"all_shared"` |
/// | | `variant` | `"paper"` | `"nextrec"` (NextRec 0.4.x epsilons), `"nextrec_clamp"` (0.6.x) |
/// | | `loss_ema_decay` | none | EMA of the ratio's numerator losses |
/// | | `initial_loss_ema_steps`, `initial_loss_ema_decay` | 0, 0.9 | `L(0)` as the EMA of the first steps |
/// | `uw` | `initial_log_variance` | -0.5 | initial `s_k` |
/// | `gradcraft` | `tau` | 1 | magnitude adjustment in [0, 1] |
/// | | `epsilon` | 0 | target inner product factor `>= 0` |
/// | | `scope` | `"all_shared"` | or `"dense_shared"` (embedding tables get the plain sum) |
/// | `pcgrad` | `reduction` | `"sum"` | or `"mean"` |
/// | | `scope` | `"all_shared"` | or `"dense_shared"` |
///
/// Examples: `{"weighting": {"method": "dwa", "window_steps": 500}}`,
/// `{"combination": {"method": "gradcraft", "tau": 0.1, "epsilon": 1e-10}}`.
public struct TaskBalancerConfiguration: Codable, Equatable, Sendable {
    /// A loss-weighting method (ALGORITHMS.md 5), or `nil`.
    public var weighting: TaskBalancerMethodConfiguration?
    /// A gradient-combination method (ALGORITHMS.md 6), or `nil`.
    public var combination: TaskBalancerMethodConfiguration?

    public init(weighting: TaskBalancerMethodConfiguration? = nil, combination: TaskBalancerMethodConfiguration? = nil) {
        self.weighting = weighting
        self.combination = combination
    }

    /// The method of `options`, under the key of its family.
    public init<Options: TaskBalancerOptions>(_ options: Options) {
        let method = TaskBalancerMethodConfiguration(options)
        switch method.family {
        case .lossWeighting: self.init(weighting: method)
        case .gradientCombination: self.init(combination: method)
        }
    }

    enum CodingKeys: String, CodingKey, CaseIterable { case weighting, combination }

    public init(from decoder: Decoder) throws {
        try BalancerConfigurationKeys.rejectUnknown(in: decoder, allowed: CodingKeys.allCases.map(\.stringValue),
                                                    what: "the balancing configuration")
        let c = try decoder.container(keyedBy: CodingKeys.self)
        if c.contains(.weighting) {
            weighting = try TaskBalancerMethodConfiguration(from: c.superDecoder(forKey: .weighting), family: .lossWeighting)
        }
        if c.contains(.combination) {
            combination = try TaskBalancerMethodConfiguration(from: c.superDecoder(forKey: .combination),
                                                              family: .gradientCombination)
        }
    }

    public func encode(to encoder: Encoder) throws {
        var c = encoder.container(keyedBy: CodingKeys.self)
        try c.encodeIfPresent(weighting, forKey: .weighting)
        try c.encodeIfPresent(combination, forKey: .combination)
    }

    /// Checks the configuration for a model with `taskCount` tasks.
    ///
    /// - Throws: `TaskBalancerConfigurationError` naming the problem.
    public func validate(taskCount: Int) throws {
        if taskCount < 1 { throw TaskBalancerConfigurationError("the model has no tasks") }
        if let weighting, let combination {
            throw TaskBalancerConfigurationError(
                "both a loss weighting (\(weighting.methodName)) and a gradient combination (\(combination.methodName)) "
                + "are configured; they are alternatives (ALGORITHMS.md 7): \(combination.methodName) works on the raw, unweighted "
                + "task gradients (and GradCraft with tau = 1 would undo any weights). Remove \"weighting\" or \"combination\".")
        }
        for (method, family) in [(weighting, TaskBalancerFamily.lossWeighting), (combination, .gradientCombination)] {
            guard let method else { continue }
            if method.family != family {
                throw TaskBalancerConfigurationError(
                    TaskBalancerMethodConfiguration.misplacedMessage(method.methodName, method.family))
            }
            if let problem = method.options.problem(taskCount: taskCount) { throw TaskBalancerConfigurationError(problem) }
        }
    }

    /// Validates and builds the balancer (`fixed` with unit weights when no
    /// method is configured).
    ///
    /// - Parameters:
    ///   - taskCount: `T`.
    ///   - lastSharedLayer: names of the model's last shared layer parameters
    ///     (GradNorm's default scope; the model decides them).
    ///   - seed: seed of PCGrad's visiting orders (the run's seed).
    /// - Throws: `TaskBalancerConfigurationError`, also for a method that
    ///   needs per-task gradients (GradNorm, GradCraft, PCGrad, …) with fewer
    ///   than two tasks.
    public func makeBalancer(taskCount: Int, lastSharedLayer: [String] = [], seed: UInt64 = 0) throws -> TaskBalancer {
        try validate(taskCount: taskCount)
        let method = weighting ?? combination ?? TaskBalancerMethodConfiguration(FixedWeighting.Options())
        let balancer = try method.makeBalancer(context: TaskBalancerContext(taskCount: taskCount, lastSharedLayer: lastSharedLayer,
                                                                            seed: seed))
        // The multi-gradient pass compares task gradients: with one task it
        // has nothing to compare (and the model's pass requires two).
        if balancer.requiresPerTaskGradients && taskCount < 2 {
            throw TaskBalancerConfigurationError(
                "\(method.methodName) needs the gradients of at least two tasks; the model has \(taskCount)"
                + ": select two or more label columns (data.tasks), or use a loss weighting such as \"fixed\"")
        }
        return balancer
    }
}

/// A configuration that cannot be used, with the reason.
public struct TaskBalancerConfigurationError: Error, CustomStringConvertible, Equatable {
    public let message: String
    public init(_ message: String) { self.message = message }
    public var description: String { "invalid loss weighting / gradient combination configuration: \(message)" }
}
