/// The two kinds of balancing method (ALGORITHMS.md 7), which are alternatives.
///
/// The family decides where a method is configured (`{"weighting": {...}}` or
/// `{"combination": {...}}`) and what the `T` values of
/// `TaskBalancerTelemetry.weights` mean (telemetry's `combiner_kind`). It
/// only sets the default of whether a method needs per-task gradients
/// (`TaskBalancer.requiresPerTaskGradients`; `LossWeightingMethod`,
/// `GradientCombinationMethod`): GradNorm is a loss weighting that reads them.
public enum TaskBalancerFamily: String, Sendable, CaseIterable {
    /// The step minimises `Σ_k w_k L_k`; telemetry's weights are the `w_k`.
    case lossWeighting = "weighting"
    /// The shared gradient is `Σ_t c_t ∇L_t` of the raw task gradients;
    /// telemetry's weights are the coefficients `c_t`.
    case gradientCombination = "combination"

    /// The key of the balancing configuration the method is configured under.
    public var configurationKey: String { rawValue }

    /// The family in words, for messages ("loss weighting").
    public var title: String {
        switch self {
        case .lossWeighting: return "loss weighting"
        case .gradientCombination: return "gradient combination"
        }
    }

    /// Telemetry's `combiner_kind`: what a step line's `weights` hold.
    public var combinerKind: String {
        switch self {
        case .lossWeighting: return "loss_weights"
        case .gradientCombination: return "coefficients"
        }
    }
}
