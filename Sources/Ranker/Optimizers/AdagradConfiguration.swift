/// Which Adagrad update formula to use (ALGORITHMS.md 4.1).
public enum AdagradForm: String, Codable, CaseIterable, Sendable {
    /// Keras/TF: `w <- w - lr * g / sqrt(acc + eps)` (project default).
    case keras
    /// PyTorch: `w <- w - lr * g / (sqrt(acc) + eps)`.
    case pytorch
}

/// Settings of `Adagrad`.
public struct AdagradOptions: Equatable, Sendable {
    public var form: AdagradForm
    /// Value every accumulator starts from (`>= 0`).
    public var initialAccumulatorValue: Float
    /// `eps` of the update formula (`>= 0`).
    public var epsilon: Float
    /// Gradient clipping applied before the step (GC/AGC baselines, ALGORITHMS.md 4.3).
    public var clipping: GradientClipping

    public init(form: AdagradForm = .keras, initialAccumulatorValue: Float = 0.1, epsilon: Float = 1e-7,
                clipping: GradientClipping = .none) {
        self.form = form
        self.initialAccumulatorValue = initialAccumulatorValue
        self.epsilon = epsilon
        self.clipping = clipping
    }

    /// Project default (**Decision**, ALGORITHMS.md 4.1): Keras form, accumulator 0.1, eps 1e-7.
    public static let keras = AdagradOptions()
    /// PyTorch defaults: accumulator 0, eps 1e-10.
    public static let pytorch = AdagradOptions(form: .pytorch, initialAccumulatorValue: 0, epsilon: 1e-10)

    /// Checks: accumulator and epsilon finite and `>= 0` with a positive sum,
    /// and valid clipping settings.
    ///
    /// - Throws: `OptimizerConfigurationError`.
    public func validate() throws {
        try OptimizerConfigurationError.requireNonNegative(initialAccumulatorValue, "initial_accumulator_value")
        try OptimizerConfigurationError.requireNonNegative(epsilon, "epsilon")
        guard initialAccumulatorValue + epsilon > 0 else { throw OptimizerConfigurationError.zeroAccumulatorAndEpsilon }
        try clipping.validate()
    }
}

/// Adagrad's keys of the optimizer JSON object, as written (unset keys fall
/// back to the form's defaults):
///
/// | key | default |
/// |---|---|
/// | `form` | `"keras"` (acc 0.1, eps 1e-7); `"pytorch"` (acc 0, eps 1e-10) |
/// | `initial_accumulator_value` | the form's value |
/// | `epsilon` | the form's value |
/// | `clipping` | `{"method": "none"}`; see `GradientClipping` |
public struct AdagradConfiguration: Codable, Equatable, Sendable, CodingKeysListing {
    public var form: AdagradForm?
    public var initialAccumulatorValue: Float?
    public var epsilon: Float?
    public var clipping: GradientClipping?

    /// A form and clipping; set the other overrides on the value.
    public init(form: AdagradForm? = nil, clipping: GradientClipping? = nil) {
        self.form = form
        self.clipping = clipping
    }

    public enum CodingKeys: String, CodingKey, CaseIterable {
        case form
        case initialAccumulatorValue = "initial_accumulator_value"
        case epsilon
        case clipping
    }
}

extension AdagradRule: RegisteredOptimizer {
    public static let configurationName = "adagrad"
    public static let telemetryName = "adagrad"
    public static var defaultConfiguration: AdagradConfiguration { AdagradConfiguration() }

    /// The form's defaults with the overrides applied, validated.
    public static func options(from c: AdagradConfiguration) throws -> AdagradOptions {
        var options = (c.form ?? .keras) == .keras ? AdagradOptions.keras : AdagradOptions.pytorch
        if let v = c.initialAccumulatorValue { options.initialAccumulatorValue = v }
        if let v = c.epsilon { options.epsilon = v }
        if let v = c.clipping { options.clipping = v }
        try options.validate()
        return options
    }

    /// GC and AGC runs log their clipping factors; plain Adagrad's are all 1.
    public static func reportsClippingFactors(_ options: AdagradOptions) -> Bool { options.clipping != .none }

    public static func summary(of c: AdagradConfiguration) -> String {
        switch c.clipping ?? .none {
        case .none: return "Adagrad"
        case .gradientNorm(let threshold, let global):
            return "Adagrad, gradient clipped to norm \(threshold) " + (global ? "(global)" : "per tensor")
        case .adaptive(let lambda, let epsilon):
            return "Adagrad, AGC lambda \(lambda), eps \(epsilon) (per unit)"
        }
    }
}

/// Adagrad (`AdagradRule`) over a parameter list.
public typealias Adagrad = OptimizerDriver<AdagradRule>

extension OptimizerDriver where Rule == AdagradRule {
    /// - Throws: `OptimizerConfigurationError` when the settings are invalid.
    public convenience init(form: AdagradForm = .keras, initialAccumulatorValue: Float = 0.1,
                            epsilon: Float = 1e-7, clipping: GradientClipping = .none) throws {
        try self.init(options: AdagradOptions(form: form, initialAccumulatorValue: initialAccumulatorValue,
                                              epsilon: epsilon, clipping: clipping))
    }
}

extension OptimizerConfiguration {
    /// Adagrad (Keras form by default) with optional GC/AGC clipping.
    public static func adagrad(learningRate: Float = defaultLearningRate, form: AdagradForm = .keras,
                               clipping: GradientClipping = .none) -> OptimizerConfiguration {
        OptimizerConfiguration(AdagradRule.self, learningRate: learningRate,
                               configuration: AdagradConfiguration(form: form, clipping: clipping))
    }

    /// The Adagrad settings: the form's defaults with the overrides applied.
    public func adagradOptions() throws -> AdagradOptions { try options(of: AdagradRule.self) }
}
