/// Which optimizer a configuration builds.
public enum OptimizerKind: String, Codable, CaseIterable, Sendable {
    case adagrad
    case clippy
}

/// A serialisable description of the update layer that builds an optimizer;
/// the trainer and the command-line tool read it from JSON.
///
/// JSON keys are snake_case. `kind` is required; everything else is optional
/// and falls back to the defaults named here:
///
/// | key | applies to | default |
/// |---|---|---|
/// | `kind` | — | required: `"adagrad"` or `"clippy"` |
/// | `learning_rate` | both | 0.01 (library default, spec 4.2.4) |
/// | `initial_accumulator_value` | both | form / preset value |
/// | `epsilon` | both | form / preset value |
/// | `form` | adagrad | `"keras"` (acc 0.1, eps 1e-7); `"pytorch"` (acc 0, eps 1e-10) |
/// | `clipping` | adagrad | `{"method": "none"}`; see `GradientClipping` |
/// | `preset` | clippy | `"project"`; also `"paper"`, `"tfrs"` (see `ClippyPreset`) |
/// | `variable_relative_threshold` | clippy | preset value |
/// | `accumulator_relative_threshold` | clippy | preset value |
/// | `absolute_threshold` | clippy | preset value |
/// | `use_standard_accumulator_update` | clippy | preset value |
/// | `clip_accumulator_update` | clippy | false |
///
/// Example: `{"kind": "clippy", "preset": "project", "learning_rate": 0.05,
/// "absolute_threshold": 0.001}`. A key that does not apply to the kind, or an
/// unknown key, is an error (`OptimizerConfigurationError`) rather than
/// silently ignored; so are invalid values (see `validate()`).
public struct OptimizerConfiguration: Codable, Equatable, Sendable {
    /// Library default learning rate for Adagrad and Clippy (spec 4.2.4 **Decision**).
    public static let defaultLearningRate: Float = 0.01

    public var kind: OptimizerKind
    public var learningRate: Float
    public var initialAccumulatorValue: Float?
    public var epsilon: Float?
    public var form: AdagradForm?
    public var clipping: GradientClipping?
    public var preset: ClippyPreset?
    public var variableRelativeThreshold: Float?
    public var accumulatorRelativeThreshold: Float?
    public var absoluteThreshold: Float?
    public var useStandardAccumulatorUpdate: Bool?
    public var clipAccumulatorUpdate: Bool?

    public init(kind: OptimizerKind, learningRate: Float = OptimizerConfiguration.defaultLearningRate,
                initialAccumulatorValue: Float? = nil, epsilon: Float? = nil,
                form: AdagradForm? = nil, clipping: GradientClipping? = nil,
                preset: ClippyPreset? = nil, variableRelativeThreshold: Float? = nil,
                accumulatorRelativeThreshold: Float? = nil, absoluteThreshold: Float? = nil,
                useStandardAccumulatorUpdate: Bool? = nil, clipAccumulatorUpdate: Bool? = nil) {
        self.kind = kind
        self.learningRate = learningRate
        self.initialAccumulatorValue = initialAccumulatorValue
        self.epsilon = epsilon
        self.form = form
        self.clipping = clipping
        self.preset = preset
        self.variableRelativeThreshold = variableRelativeThreshold
        self.accumulatorRelativeThreshold = accumulatorRelativeThreshold
        self.absoluteThreshold = absoluteThreshold
        self.useStandardAccumulatorUpdate = useStandardAccumulatorUpdate
        self.clipAccumulatorUpdate = clipAccumulatorUpdate
    }

    /// Adagrad (Keras form by default) with optional GC/AGC clipping.
    public static func adagrad(learningRate: Float = defaultLearningRate, form: AdagradForm = .keras,
                               clipping: GradientClipping = .none) -> OptimizerConfiguration {
        OptimizerConfiguration(kind: .adagrad, learningRate: learningRate, form: form, clipping: clipping)
    }

    /// Clippy Adagrad with a preset (`project` by default).
    public static func clippy(learningRate: Float = defaultLearningRate,
                              preset: ClippyPreset = .project) -> OptimizerConfiguration {
        OptimizerConfiguration(kind: .clippy, learningRate: learningRate, preset: preset)
    }

    /// The Adagrad settings: the form's defaults with the overrides applied.
    public func adagradOptions() throws -> AdagradOptions {
        try rejectInapplicableKeys()
        var options = (form ?? .keras) == .keras ? AdagradOptions.keras : AdagradOptions.pytorch
        if let v = initialAccumulatorValue { options.initialAccumulatorValue = v }
        if let v = epsilon { options.epsilon = v }
        if let c = clipping { options.clipping = c }
        try options.validate()
        return options
    }

    /// The Clippy settings: the preset's values with the overrides applied.
    public func clippyOptions() throws -> ClippyAdagradOptions {
        try rejectInapplicableKeys()
        var options = (preset ?? .project).options
        if let v = initialAccumulatorValue { options.initialAccumulatorValue = v }
        if let v = epsilon { options.epsilon = v }
        if let v = variableRelativeThreshold { options.variableRelativeThreshold = v }
        if let v = accumulatorRelativeThreshold { options.accumulatorRelativeThreshold = v }
        if let v = absoluteThreshold { options.absoluteThreshold = v }
        if let v = useStandardAccumulatorUpdate { options.useStandardAccumulatorUpdate = v }
        if let v = clipAccumulatorUpdate { options.clipAccumulatorUpdate = v }
        try options.validate()
        return options
    }

    /// Checks the learning rate (finite, `> 0`), that every key set applies to
    /// `kind`, and the resulting optimizer settings.
    ///
    /// - Throws: `OptimizerConfigurationError`.
    public func validate() throws {
        try OptimizerConfigurationError.requirePositive(learningRate, "learning_rate")
        switch kind {
        case .adagrad: _ = try adagradOptions()
        case .clippy: _ = try clippyOptions()
        }
    }

    /// A new optimizer with these settings (validated first).
    ///
    /// - Throws: `OptimizerConfigurationError`.
    public func makeOptimizer() throws -> any Optimizer {
        try validate()
        switch kind {
        case .adagrad: return try Adagrad(options: try adagradOptions())
        case .clippy: return try ClippyAdagrad(options: try clippyOptions())
        }
    }

    private func rejectInapplicableKeys() throws {
        let adagradOnly: [(String, Bool)] = [("form", form != nil), ("clipping", clipping != nil)]
        let clippyOnly: [(String, Bool)] = [
            ("preset", preset != nil),
            ("variable_relative_threshold", variableRelativeThreshold != nil),
            ("accumulator_relative_threshold", accumulatorRelativeThreshold != nil),
            ("absolute_threshold", absoluteThreshold != nil),
            ("use_standard_accumulator_update", useStandardAccumulatorUpdate != nil),
            ("clip_accumulator_update", clipAccumulatorUpdate != nil),
        ]
        let foreign = kind == .adagrad ? clippyOnly : adagradOnly
        if let key = foreign.first(where: { $0.1 })?.0 {
            throw OptimizerConfigurationError.optionNotApplicable(key: key, kind: kind.rawValue)
        }
    }

    enum CodingKeys: String, CodingKey, CaseIterable {
        case kind
        case learningRate = "learning_rate"
        case initialAccumulatorValue = "initial_accumulator_value"
        case epsilon
        case form
        case clipping
        case preset
        case variableRelativeThreshold = "variable_relative_threshold"
        case accumulatorRelativeThreshold = "accumulator_relative_threshold"
        case absoluteThreshold = "absolute_threshold"
        case useStandardAccumulatorUpdate = "use_standard_accumulator_update"
        case clipAccumulatorUpdate = "clip_accumulator_update"
    }

    /// Decodes and rejects unknown keys (`OptimizerConfigurationError.unknownKey`).
    /// Values are checked by `validate()` / `makeOptimizer()`.
    public init(from decoder: Decoder) throws {
        let known = Set(CodingKeys.allCases.map(\.stringValue))
        if let key = try StrictDecoding.unknownKeys(in: decoder, allowed: known).first {
            throw OptimizerConfigurationError.unknownKey(key)
        }
        let c = try decoder.container(keyedBy: CodingKeys.self)
        self.init(
            kind: try c.decode(OptimizerKind.self, forKey: .kind),
            learningRate: try c.decodeIfPresent(Float.self, forKey: .learningRate) ?? Self.defaultLearningRate,
            initialAccumulatorValue: try c.decodeIfPresent(Float.self, forKey: .initialAccumulatorValue),
            epsilon: try c.decodeIfPresent(Float.self, forKey: .epsilon),
            form: try c.decodeIfPresent(AdagradForm.self, forKey: .form),
            clipping: try c.decodeIfPresent(GradientClipping.self, forKey: .clipping),
            preset: try c.decodeIfPresent(ClippyPreset.self, forKey: .preset),
            variableRelativeThreshold: try c.decodeIfPresent(Float.self, forKey: .variableRelativeThreshold),
            accumulatorRelativeThreshold: try c.decodeIfPresent(Float.self, forKey: .accumulatorRelativeThreshold),
            absoluteThreshold: try c.decodeIfPresent(Float.self, forKey: .absoluteThreshold),
            useStandardAccumulatorUpdate: try c.decodeIfPresent(Bool.self, forKey: .useStandardAccumulatorUpdate),
            clipAccumulatorUpdate: try c.decodeIfPresent(Bool.self, forKey: .clipAccumulatorUpdate))
    }
}
