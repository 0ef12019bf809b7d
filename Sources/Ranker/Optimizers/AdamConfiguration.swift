/// Settings of `Adam`, also its keys of the optimizer JSON object (unset keys
/// take PyTorch's defaults):
///
/// | key | default | range |
/// |---|---|---|
/// | `beta1` | 0.9 | `[0, 1)` |
/// | `beta2` | 0.999 | `[0, 1)` |
/// | `epsilon` | 1e-8 | finite, `> 0` |
///
/// `epsilon` must be positive for model parameters: a coordinate whose
/// gradient has always been 0 has `m = v = 0`, and `eps = 0` would make its
/// update `0 / 0`.
public struct AdamOptions: Codable, Equatable, Sendable, CodingKeysListing {
    /// Decay of the first moment `m`.
    public var beta1: Float
    /// Decay of the second moment `v`.
    public var beta2: Float
    /// Added to `sqrt(v) / c2` in the denominator.
    public var epsilon: Float

    public init(beta1: Float = 0.9, beta2: Float = 0.999, epsilon: Float = 1e-8) {
        self.beta1 = beta1
        self.beta2 = beta2
        self.epsilon = epsilon
    }

    public enum CodingKeys: String, CodingKey, CaseIterable {
        case beta1, beta2, epsilon
    }

    public init(from decoder: Decoder) throws {
        self.init()
        try decoder.decode(CodingKeys.beta1, over: &beta1)
        try decoder.decode(CodingKeys.beta2, over: &beta2)
        try decoder.decode(CodingKeys.epsilon, over: &epsilon)
    }

    /// Checks: betas in `[0, 1)`, epsilon finite and `> 0`.
    ///
    /// - Throws: `OptimizerConfigurationError`.
    public func validate() throws {
        for (name, beta) in [("beta1", beta1), ("beta2", beta2)] where !(beta >= 0 && beta < 1) {
            throw OptimizerConfigurationError.outOfRange(name: name, value: beta, range: "[0, 1)")
        }
        try OptimizerConfigurationError.requirePositive(epsilon, "epsilon")
    }
}

extension AdamRule: RegisteredOptimizer {
    public static let configurationName = "adam"
    public static let telemetryName = "adam"
    public static var defaultConfiguration: AdamOptions { AdamOptions() }

    public static func summary(of c: AdamOptions) -> String {
        "Adam, betas \(c.beta1)/\(c.beta2), eps \(c.epsilon)"
    }
}

/// Adam (`AdamRule`) over a parameter list.
public typealias Adam = OptimizerDriver<AdamRule>

extension OptimizerConfiguration {
    /// Adam with PyTorch's defaults (betas 0.9/0.999, eps 1e-8).
    public static func adam(learningRate: Float = defaultLearningRate,
                            options: AdamOptions = AdamOptions()) -> OptimizerConfiguration {
        OptimizerConfiguration(AdamRule.self, learningRate: learningRate, configuration: options)
    }
}
