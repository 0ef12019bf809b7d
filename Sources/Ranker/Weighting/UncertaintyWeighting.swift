import Foundation

/// Uncertainty weighting (Kendall et al., CVPR 2018; LibMTL `UW`; ALGORITHMS.md 5.4).
///
/// Trainable log-variances `s_k = log σ_k²` (init −0.5), trained by the model's
/// optimizer:
///
///     total  = Σ_k [ L_k / (2 exp(s_k)) + s_k / 2 ]
///     w_k    = 1 / (2 exp(s_k))                  (the weights of the backward pass)
///     dtotal/ds_k = −L_k / (2 exp(s_k)) + 1/2
///
/// `s` lives in `logVariance`, a `1 × T` dense `Parameter` the trainer adds to
/// the optimizer's list (`trainableParameters`); `lossWeights(losses:)` writes
/// `dtotal/ds` into its `grad` each step. The arithmetic is in double from the
/// `Float` values of `s`.
public final class UncertaintyWeighting: LossWeightingMethod, TaskCountBalancerMethod {
    public static let methodName = "uw"

    /// Hyperparameters (JSON key `initial_log_variance`).
    public struct Options: TaskBalancerOptions {
        public typealias Method = UncertaintyWeighting
        /// Initial `s_k` (LibMTL: −0.5).
        public var initialLogVariance: Double

        public init() { self.init(initialLogVariance: -0.5) }

        public init(initialLogVariance: Double) {
            self.initialLogVariance = initialLogVariance
        }

        public enum CodingKeys: String, CodingKey, CaseIterable { case initialLogVariance = "initial_log_variance" }

        public init(from decoder: Decoder) throws {
            self.init()
            try decoder.decode(CodingKeys.initialLogVariance, over: &initialLogVariance)
        }

        public func problem(taskCount: Int) -> String? {
            initialLogVariance.isFinite ? nil : "uw: initial_log_variance must be finite, got \(initialLogVariance)"
        }
    }

    /// Checkpointed state (the optimizer's own state for `logVariance` is the
    /// optimizer's to save).
    public struct State: TaskBalancerMethodState {
        public var taskCount: Int
        public var steps: Int
        /// `s`, exactly the `Float` values of the parameter.
        public var logVariances: [Float]
    }

    /// The pure formulas of the type's documentation.
    public struct Evaluation: Equatable, Sendable {
        public var total: Double
        public var weights: [Double]
        public var logVarianceGradient: [Double]

        public init(losses: [Double], logVariances: [Double]) {
            precondition(losses.count == logVariances.count)
            total = 0
            weights = []
            logVarianceGradient = []
            for k in losses.indices {
                let w = 1 / (2 * Foundation.exp(logVariances[k]))
                weights.append(w)
                total += w * losses[k] + logVariances[k] / 2
                logVarianceGradient.append(-losses[k] * w + 0.5)
            }
        }
    }

    /// Name of the log-variance parameter.
    public static let parameterName = "balancer.uw.logVariance"

    public let taskCount: Int
    public let options: Options
    /// `s`, `1 × T`.
    public let logVariance: Parameter
    public private(set) var telemetry: TaskBalancerTelemetry

    public init(taskCount: Int, options: Options = Options()) {
        options.requireUsable(taskCount: taskCount)
        self.taskCount = taskCount
        self.options = options
        logVariance = Parameter(name: UncertaintyWeighting.parameterName, rows: 1, cols: taskCount, group: .shared)
        logVariance.value.fill(Float(options.initialLogVariance))
        telemetry = TaskBalancerTelemetry()
        telemetry.weights = evaluation(losses: [Double](repeating: 0, count: taskCount)).weights
    }

    public var trainableParameters: [Parameter] { [logVariance] }

    private var logVariances: [Double] { (0..<taskCount).map { Double(logVariance.value.data[$0]) } }

    private func evaluation(losses: [Double]) -> Evaluation {
        Evaluation(losses: losses, logVariances: logVariances)
    }

    /// `w_k = 1/(2 exp(s_k))`; also writes `dtotal/ds` into `logVariance.grad`.
    public func lossWeights(losses: [Double]) throws -> [Double] {
        try validateLosses(losses)
        let result = evaluation(losses: losses)
        for k in 0..<taskCount { logVariance.grad.data[k] = Float(result.logVarianceGradient[k]) }
        telemetry.weights = result.weights
        return result.weights
    }

    /// `Σ_k [L_k / (2 exp(s_k)) + s_k / 2]`.
    public func objective(losses: [Double]) -> Double { evaluation(losses: losses).total }

    public func finishStep(losses: [Double], batchSize: Int) {
        telemetry.step += 1
    }

    public var methodState: State {
        State(taskCount: taskCount, steps: telemetry.step, logVariances: logVariance.value.toArray())
    }

    public func restore(methodState saved: State) throws {
        guard saved.logVariances.count == taskCount else {
            throw TaskBalancingError.stateMismatch("state has \(saved.taskCount) tasks, balancer has \(taskCount)")
        }
        logVariance.value.copy(from: saved.logVariances)
        telemetry = TaskBalancerTelemetry(step: saved.steps)
        telemetry.weights = evaluation(losses: [Double](repeating: 0, count: taskCount)).weights
    }
}
