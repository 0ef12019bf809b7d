/// Named settings of Clippy Adagrad (ALGORITHMS.md 4.2.4).
///
/// | preset | ordering | rel | acc_rel | abs | eps | acc init |
/// |---|---|---|---|---|---|---|
/// | `project` (default) | delayed | 0.5 | 0 | 1e-2 | 1e-7 | 0.1 |
/// | `paper` | standard | 0.5 | 0 | 1e-2 | 0 | 0.1 |
/// | `tfrs` | delayed | 0.1 | 0 | 1e-7 | 1e-7 | 0.1 |
public enum ClippyPreset: String, Codable, CaseIterable, Sendable {
    case project
    case paper
    case tfrs

    public var options: ClippyAdagradOptions {
        switch self {
        case .project:
            return ClippyAdagradOptions(variableRelativeThreshold: 0.5, absoluteThreshold: 1e-2, epsilon: 1e-7)
        case .paper:
            return ClippyAdagradOptions(variableRelativeThreshold: 0.5, absoluteThreshold: 1e-2, epsilon: 0,
                                        useStandardAccumulatorUpdate: true)
        case .tfrs:
            return ClippyAdagradOptions(variableRelativeThreshold: 0.1, absoluteThreshold: 1e-7, epsilon: 1e-7)
        }
    }
}

/// Settings of `ClippyAdagrad`, with the TFRS names (ALGORITHMS.md 4.2.2). The
/// memberwise defaults are the `project` preset.
public struct ClippyAdagradOptions: Equatable, Sendable {
    /// Accumulator start value (`>= 0`).
    public var initialAccumulatorValue: Float
    /// `rel`: bound term `rel * |w|` (`>= 0`; the paper's `lambda_rel`).
    public var variableRelativeThreshold: Float
    /// `acc_rel`: bound term `acc_rel / sqrt(acc + eps)` (`>= 0`).
    public var accumulatorRelativeThreshold: Float
    /// `abs`: constant bound term (`>= 0`; the paper's `lambda_abs`).
    public var absoluteThreshold: Float
    /// Added inside the square root of the preconditioner (`>= 0`).
    public var epsilon: Float
    /// Update the accumulator before the step (paper ordering) instead of after.
    public var useStandardAccumulatorUpdate: Bool
    /// Accumulate `(sigma*g)^2` instead of `g^2` (delayed ordering only).
    public var clipAccumulatorUpdate: Bool

    public init(initialAccumulatorValue: Float = 0.1, variableRelativeThreshold: Float = 0.5,
                accumulatorRelativeThreshold: Float = 0, absoluteThreshold: Float = 1e-2, epsilon: Float = 1e-7,
                useStandardAccumulatorUpdate: Bool = false, clipAccumulatorUpdate: Bool = false) {
        self.initialAccumulatorValue = initialAccumulatorValue
        self.variableRelativeThreshold = variableRelativeThreshold
        self.accumulatorRelativeThreshold = accumulatorRelativeThreshold
        self.absoluteThreshold = absoluteThreshold
        self.epsilon = epsilon
        self.useStandardAccumulatorUpdate = useStandardAccumulatorUpdate
        self.clipAccumulatorUpdate = clipAccumulatorUpdate
    }

    public static let project = ClippyPreset.project.options
    public static let paper = ClippyPreset.paper.options
    public static let tfrs = ClippyPreset.tfrs.options

    /// Checks: every threshold, the accumulator start value and epsilon are
    /// finite and `>= 0`; `initialAccumulatorValue + epsilon > 0`;
    /// `clipAccumulatorUpdate` is not combined with `useStandardAccumulatorUpdate`.
    ///
    /// - Throws: `OptimizerConfigurationError`.
    public func validate() throws {
        try OptimizerConfigurationError.requireNonNegative(initialAccumulatorValue, "initial_accumulator_value")
        try OptimizerConfigurationError.requireNonNegative(variableRelativeThreshold, "variable_relative_threshold")
        try OptimizerConfigurationError.requireNonNegative(accumulatorRelativeThreshold, "accumulator_relative_threshold")
        try OptimizerConfigurationError.requireNonNegative(absoluteThreshold, "absolute_threshold")
        try OptimizerConfigurationError.requireNonNegative(epsilon, "epsilon")
        guard initialAccumulatorValue + epsilon > 0 else { throw OptimizerConfigurationError.zeroAccumulatorAndEpsilon }
        if clipAccumulatorUpdate && useStandardAccumulatorUpdate {
            throw OptimizerConfigurationError.clipAccumulatorUpdateWithStandardUpdate
        }
    }
}

/// Clippy's keys of the optimizer JSON object, as written (unset keys fall
/// back to the preset's values; `preset` defaults to `"project"`, see
/// `ClippyPreset`): `preset`, `initial_accumulator_value`, `epsilon`,
/// `variable_relative_threshold`, `accumulator_relative_threshold`,
/// `absolute_threshold`, `use_standard_accumulator_update`,
/// `clip_accumulator_update` (default false).
public struct ClippyAdagradConfiguration: Codable, Equatable, Sendable, CodingKeysListing {
    public var preset: ClippyPreset?
    public var initialAccumulatorValue: Float?
    public var epsilon: Float?
    public var variableRelativeThreshold: Float?
    public var accumulatorRelativeThreshold: Float?
    public var absoluteThreshold: Float?
    public var useStandardAccumulatorUpdate: Bool?
    public var clipAccumulatorUpdate: Bool?

    /// A preset; set the overrides on the value.
    public init(preset: ClippyPreset? = nil) {
        self.preset = preset
    }

    public enum CodingKeys: String, CodingKey, CaseIterable {
        case preset
        case initialAccumulatorValue = "initial_accumulator_value"
        case epsilon
        case variableRelativeThreshold = "variable_relative_threshold"
        case accumulatorRelativeThreshold = "accumulator_relative_threshold"
        case absoluteThreshold = "absolute_threshold"
        case useStandardAccumulatorUpdate = "use_standard_accumulator_update"
        case clipAccumulatorUpdate = "clip_accumulator_update"
    }
}

extension ClippyAdagradRule: RegisteredOptimizer {
    public static let configurationName = "clippy"
    public static let telemetryName = "clippy_adagrad"
    public static var defaultConfiguration: ClippyAdagradConfiguration { ClippyAdagradConfiguration() }

    /// The preset's values with the overrides applied, validated.
    public static func options(from c: ClippyAdagradConfiguration) throws -> ClippyAdagradOptions {
        var options = (c.preset ?? .project).options
        if let v = c.initialAccumulatorValue { options.initialAccumulatorValue = v }
        if let v = c.epsilon { options.epsilon = v }
        if let v = c.variableRelativeThreshold { options.variableRelativeThreshold = v }
        if let v = c.accumulatorRelativeThreshold { options.accumulatorRelativeThreshold = v }
        if let v = c.absoluteThreshold { options.absoluteThreshold = v }
        if let v = c.useStandardAccumulatorUpdate { options.useStandardAccumulatorUpdate = v }
        if let v = c.clipAccumulatorUpdate { options.clipAccumulatorUpdate = v }
        try options.validate()
        return options
    }

    public static func reportsClippingFactors(_ options: ClippyAdagradOptions) -> Bool { true }

    public static func summary(of c: ClippyAdagradConfiguration) -> String {
        "Clippy Adagrad, preset \((c.preset ?? .project).rawValue)"
    }
}

/// Clippy Adagrad (`ClippyAdagradRule`) over a parameter list.
public typealias ClippyAdagrad = OptimizerDriver<ClippyAdagradRule>

extension OptimizerDriver where Rule == ClippyAdagradRule {
    /// The optimizer with a preset's settings.
    public convenience init(preset: ClippyPreset = .project) {
        // Presets are valid by construction.
        try! self.init(options: preset.options)
    }
}

extension OptimizerConfiguration {
    /// Clippy Adagrad with a preset (`project` by default).
    public static func clippy(learningRate: Float = defaultLearningRate,
                              preset: ClippyPreset = .project) -> OptimizerConfiguration {
        OptimizerConfiguration(ClippyAdagradRule.self, learningRate: learningRate,
                               configuration: ClippyAdagradConfiguration(preset: preset))
    }

    /// The Clippy settings: the preset's values with the overrides applied.
    public func clippyOptions() throws -> ClippyAdagradOptions { try options(of: ClippyAdagradRule.self) }
}
