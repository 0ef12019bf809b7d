/// Configuration of the balancing layer (spec 5, 6, 7), as JSON:
///
/// ```json
/// { "weighting":   { "method": "fixed" | "dwa" | "gradnorm" | "uw", ...options } }
/// { "combination": { "method": "gradcraft" | "pcgrad", ...options } }
/// ```
///
/// At most one of the two may be present: loss weighting and gradient
/// combination are alternatives (spec 7), and a configuration with both is
/// rejected by `validate` and `makeBalancer`. With neither, every task has
/// weight 1 (`fixed`). Unknown keys and unknown methods are decoding errors.
///
/// Options per method (all optional; defaults shown):
///
/// | method | key | default | meaning |
/// |---|---|---|---|
/// | `fixed` | `weights` | all 1 | `T` finite weights `>= 0` |
/// | `dwa` | `temperature` | 2 | softmax temperature `> 0` |
/// | | `windowSteps` | none | average over windows of this many steps instead of data epochs |
/// | `gradnorm` | `alpha` | 1.5 | asymmetry |
/// | | `learningRate` | 0.025 | learning rate of the weights' own optimizer |
/// | | `optimizer` | `"adam"` | `"adam"` or `"sgd"` |
/// | | `beta1`, `beta2`, `adamEpsilon` | 0.9, 0.999, 1e-8 | Adam (PyTorch form) |
/// | | `scope` | `"last-shared-layer"` | or `"all-shared"` |
/// | | `variant` | `"paper"` | `"nextrec"` (NextRec 0.4.x epsilons), `"nextrec-clamp"` (0.6.x) |
/// | | `lossEMADecay` | none | EMA of the ratio's numerator losses |
/// | | `initialLossEMASteps`, `initialLossEMADecay` | 0, 0.9 | `L(0)` as the EMA of the first steps |
/// | `uw` | `initialLogVariance` | -0.5 | initial `s_k` |
/// | `gradcraft` | `tau` | 1 | magnitude adjustment in [0, 1] |
/// | | `epsilon` | 0 | target inner product factor `>= 0` |
/// | | `scope` | `"all-shared"` | or `"dense-shared"` (embedding tables get the plain sum) |
/// | `pcgrad` | `reduction` | `"sum"` | or `"mean"` |
/// | | `scope` | `"all-shared"` | or `"dense-shared"` |
///
/// Examples: `{"weighting": {"method": "dwa", "windowSteps": 500}}`,
/// `{"combination": {"method": "gradcraft", "tau": 0.1, "epsilon": 1e-10}}`.
public struct TaskBalancerConfiguration: Codable, Equatable, Sendable {
    /// A loss-weighting method (spec 5), or `nil`.
    public var weighting: LossWeightingConfiguration?
    /// A gradient-combination method (spec 6), or `nil`.
    public var combination: GradientCombinationConfiguration?

    public init(weighting: LossWeightingConfiguration? = nil, combination: GradientCombinationConfiguration? = nil) {
        self.weighting = weighting
        self.combination = combination
    }

    enum CodingKeys: String, CodingKey, CaseIterable { case weighting, combination }

    public init(from decoder: Decoder) throws {
        try BalancerConfigurationKeys.rejectUnknown(in: decoder, allowed: CodingKeys.allCases.map(\.stringValue),
                                            what: "the balancing configuration")
        let c = try decoder.container(keyedBy: CodingKeys.self)
        weighting = try c.decodeIfPresent(LossWeightingConfiguration.self, forKey: .weighting)
        combination = try c.decodeIfPresent(GradientCombinationConfiguration.self, forKey: .combination)
    }

    /// Checks the configuration for a model with `taskCount` tasks.
    ///
    /// - Throws: `TaskBalancerConfigurationError` naming the problem.
    public func validate(taskCount: Int) throws {
        if taskCount < 1 { throw TaskBalancerConfigurationError("the model has no tasks") }
        if let weighting, let combination {
            throw TaskBalancerConfigurationError(
                "both a loss weighting (\(weighting.methodName)) and a gradient combination (\(combination.methodName)) "
                + "are configured; they are alternatives (spec 7): \(combination.methodName) works on the raw, unweighted "
                + "task gradients (and GradCraft with tau = 1 would undo any weights). Remove \"weighting\" or \"combination\".")
        }
        let problem: String?
        switch weighting {
        case .fixed(let o)?: problem = o.problem(taskCount: taskCount)
        case .dwa(let o)?: problem = o.problem()
        case .gradNorm(let o)?: problem = o.problem()
        case .uncertainty(let o)?: problem = o.problem()
        case nil:
            switch combination {
            case .gradCraft(let o)?: problem = o.problem()
            case .pcGrad?, nil: problem = nil
            }
        }
        if let problem { throw TaskBalancerConfigurationError(problem) }
    }

    /// Validates and builds the balancer.
    ///
    /// - Parameters:
    ///   - taskCount: `T`.
    ///   - lastSharedLayer: names of the model's last shared layer parameters
    ///     (GradNorm's default scope; the model decides them).
    ///   - seed: seed of PCGrad's visiting orders (the run's seed).
    public func makeBalancer(taskCount: Int, lastSharedLayer: [String] = [], seed: UInt64 = 0) throws -> TaskBalancer {
        try validate(taskCount: taskCount)
        switch (weighting, combination) {
        case (.fixed(let o)?, _): return FixedWeighting(taskCount: taskCount, options: o)
        case (.dwa(let o)?, _): return DynamicWeightAverage(taskCount: taskCount, options: o)
        case (.gradNorm(let o)?, _):
            if o.scope == .lastSharedLayer && lastSharedLayer.isEmpty {
                throw TaskBalancerConfigurationError(
                    "gradnorm: scope \"last-shared-layer\" but the model named no last shared layer; use \"scope\": \"all-shared\"")
            }
            return GradNorm(taskCount: taskCount, options: o, lastSharedLayer: lastSharedLayer)
        case (.uncertainty(let o)?, _): return UncertaintyWeighting(taskCount: taskCount, options: o)
        case (nil, .gradCraft(let o)?): return GradCraft(taskCount: taskCount, options: o)
        case (nil, .pcGrad(let o)?): return PCGrad(taskCount: taskCount, options: o, seed: seed)
        case (nil, nil): return FixedWeighting(taskCount: taskCount)
        }
    }
}

/// A loss-weighting method and its options (`{"method": ..., ...}`).
public enum LossWeightingConfiguration: Codable, Equatable, Sendable {
    case fixed(FixedWeighting.Options)
    case dwa(DynamicWeightAverage.Options)
    case gradNorm(GradNorm.Options)
    case uncertainty(UncertaintyWeighting.Options)

    /// The JSON method name.
    public var methodName: String {
        switch self {
        case .fixed: return "fixed"
        case .dwa: return "dwa"
        case .gradNorm: return "gradnorm"
        case .uncertainty: return "uw"
        }
    }

    public init(from decoder: Decoder) throws {
        let method = try BalancerConfigurationKeys.method(in: decoder)
        func allowing(_ keys: [String]) throws {
            try BalancerConfigurationKeys.rejectUnknown(in: decoder, allowed: ["method"] + keys, what: "method \"\(method)\"")
        }
        switch method {
        case "fixed":
            try allowing(FixedWeighting.Options.CodingKeys.allCases.map(\.stringValue))
            self = .fixed(try FixedWeighting.Options(from: decoder))
        case "dwa":
            try allowing(DynamicWeightAverage.Options.CodingKeys.allCases.map(\.stringValue))
            self = .dwa(try DynamicWeightAverage.Options(from: decoder))
        case "gradnorm":
            try allowing(GradNorm.Options.CodingKeys.allCases.map(\.stringValue))
            self = .gradNorm(try GradNorm.Options(from: decoder))
        case "uw":
            try allowing(UncertaintyWeighting.Options.CodingKeys.allCases.map(\.stringValue))
            self = .uncertainty(try UncertaintyWeighting.Options(from: decoder))
        case "gradcraft", "pcgrad":
            throw BalancerConfigurationKeys.error(in: decoder,
                                          "\"\(method)\" is a gradient combination, not a loss weighting: configure it under \"combination\"")
        default:
            throw BalancerConfigurationKeys.error(in: decoder,
                                          "unknown loss weighting method \"\(method)\"; known: fixed, dwa, gradnorm, uw")
        }
    }

    public func encode(to encoder: Encoder) throws {
        var c = encoder.container(keyedBy: BalancerConfigurationKeys.Method.self)
        try c.encode(methodName, forKey: .method)
        switch self {
        case .fixed(let o): try o.encode(to: encoder)
        case .dwa(let o): try o.encode(to: encoder)
        case .gradNorm(let o): try o.encode(to: encoder)
        case .uncertainty(let o): try o.encode(to: encoder)
        }
    }
}

/// A gradient-combination method and its options (`{"method": ..., ...}`).
public enum GradientCombinationConfiguration: Codable, Equatable, Sendable {
    case gradCraft(GradCraft.Options)
    case pcGrad(PCGrad.Options)

    /// The JSON method name.
    public var methodName: String {
        switch self {
        case .gradCraft: return "gradcraft"
        case .pcGrad: return "pcgrad"
        }
    }

    public init(from decoder: Decoder) throws {
        let method = try BalancerConfigurationKeys.method(in: decoder)
        func allowing(_ keys: [String]) throws {
            try BalancerConfigurationKeys.rejectUnknown(in: decoder, allowed: ["method"] + keys, what: "method \"\(method)\"")
        }
        switch method {
        case "gradcraft":
            try allowing(GradCraft.Options.CodingKeys.allCases.map(\.stringValue))
            self = .gradCraft(try GradCraft.Options(from: decoder))
        case "pcgrad":
            try allowing(PCGrad.Options.CodingKeys.allCases.map(\.stringValue))
            self = .pcGrad(try PCGrad.Options(from: decoder))
        case "fixed", "dwa", "gradnorm", "uw":
            throw BalancerConfigurationKeys.error(in: decoder,
                                          "\"\(method)\" is a loss weighting, not a gradient combination: configure it under \"weighting\"")
        default:
            throw BalancerConfigurationKeys.error(in: decoder, "unknown gradient combination method \"\(method)\"; known: gradcraft, pcgrad")
        }
    }

    public func encode(to encoder: Encoder) throws {
        var c = encoder.container(keyedBy: BalancerConfigurationKeys.Method.self)
        try c.encode(methodName, forKey: .method)
        switch self {
        case .gradCraft(let o): try o.encode(to: encoder)
        case .pcGrad(let o): try o.encode(to: encoder)
        }
    }
}

/// A configuration that cannot be used, with the reason.
public struct TaskBalancerConfigurationError: Error, CustomStringConvertible, Equatable {
    public let message: String
    public init(_ message: String) { self.message = message }
    public var description: String { "invalid loss weighting / gradient combination configuration: \(message)" }
}

/// Key handling shared by the configuration decoders.
enum BalancerConfigurationKeys {
    enum Method: String, CodingKey { case method }

    static func method(in decoder: Decoder) throws -> String {
        try decoder.container(keyedBy: Method.self).decode(String.self, forKey: .method)
    }

    static func rejectUnknown(in decoder: Decoder, allowed: [String], what: String) throws {
        if let key = try StrictDecoding.unknownKeys(in: decoder, allowed: Set(allowed)).first {
            throw DecodingError.dataCorrupted(DecodingError.Context(
                codingPath: decoder.codingPath + [AnyCodingKey(stringValue: key)],
                debugDescription: "unknown key \"\(key)\" for \(what); known keys: \(allowed.joined(separator: ", "))"))
        }
    }

    static func error(in decoder: Decoder, _ message: String) -> DecodingError {
        DecodingError.dataCorrupted(DecodingError.Context(codingPath: decoder.codingPath, debugDescription: message))
    }
}
