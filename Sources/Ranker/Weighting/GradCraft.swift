/// GradCraft (Bai et al., KDD 2024; ALGORITHMS.md 6.1 with the project semantics of
/// 6.1.3) as a `TaskBalancer`.
///
/// After the multi-gradient pass, `combine` builds the Gram matrix of the raw
/// task gradients over the shared parameters of its `scope` (double precision,
/// `TaskGradientGram`), computes the coefficients `c` with `GradCraftProjection`
/// and writes `Σ_t c_t taskGradients[t]` as each such parameter's gradient: the
/// mean of the magnitude-adjusted, deconflicted task gradients. Task-specific
/// parameters keep their own task's plain gradient `∇L_k` (factor 1, paper
/// semantics). With `scope = .denseShared`, embedding tables are left out of
/// the Gram matrix and get `Σ_t taskGradients[t]` (see `SharedGradientScope`).
///
/// Defaults (ALGORITHMS.md 6.1.3): `tau = 1`, `epsilon = 0`, mean, no norm EMA.
/// Non-finite task gradients: nothing is written and
/// `TaskBalancingError.nonFiniteTaskGradient` is thrown (skip the step).
/// Small systems that needed the pseudo-inverse are counted in `telemetry`.
public final class GradCraft: GradientCombinationMethod, TaskCountBalancerMethod {
    public static let methodName = "gradcraft"

    /// Hyperparameters (JSON keys `tau`, `epsilon`, `scope`).
    public struct Options: TaskBalancerOptions {
        public typealias Method = GradCraft
        /// Magnitude adjustment `tau ∈ [0, 1]` (code name `r`): 1 scales every task
        /// to the largest norm, 0 keeps the norms.
        public var tau: Double
        /// Target `epsilon ≥ 0` (code name `e`): after projection
        /// `<g̃_i, ĝ_j> = epsilon ||ĝ_i|| ||ĝ_j||` for `j ∈ C_i`.
        public var epsilon: Double
        /// Which shared parameters take part.
        public var scope: SharedGradientScope

        public init() { self.init(tau: 1) }

        public init(tau: Double = 1, epsilon: Double = 0, scope: SharedGradientScope = .allShared) {
            self.tau = tau
            self.epsilon = epsilon
            self.scope = scope
        }

        public enum CodingKeys: String, CodingKey, CaseIterable { case tau, epsilon, scope }

        public init(from decoder: Decoder) throws {
            self.init()
            try decoder.decode(CodingKeys.tau, over: &tau)
            try decoder.decode(CodingKeys.epsilon, over: &epsilon)
            try decoder.decode(CodingKeys.scope, over: &scope)
        }

        /// Checks the ranges; returns a message for the first bad value.
        public func problem(taskCount: Int) -> String? {
            if !(tau >= 0 && tau <= 1) { return "gradcraft: tau must be in [0, 1], got \(tau)" }
            if !(epsilon >= 0 && epsilon.isFinite) { return "gradcraft: epsilon must be finite and >= 0, got \(epsilon)" }
            return nil
        }
    }

    /// Checkpointed state.
    public struct State: TaskBalancerMethodState {
        public var taskCount: Int
        public var steps: Int
        public var pseudoInverseFallbacksTotal: Int
    }

    public let taskCount: Int
    public let options: Options
    public private(set) var telemetry: TaskBalancerTelemetry
    /// The last step's projection (conflict sets, weights, coefficients).
    public private(set) var lastProjection: GradCraftProjection?

    private let gram: TaskGradientGram
    private let solver = SymmetricSolver()
    private var scratch: [Float]
    private let ones: [Double]

    public init(taskCount: Int, options: Options = Options()) {
        options.requireUsable(taskCount: taskCount)
        self.taskCount = taskCount
        self.options = options
        gram = TaskGradientGram(taskCount: taskCount)
        scratch = [Float](repeating: 0, count: taskCount)
        ones = [Double](repeating: 1, count: taskCount)
        telemetry = TaskBalancerTelemetry(weights: ones)
    }

    /// Ones: the multi-gradient pass runs on the raw task losses.
    public func lossWeights(losses: [Double]) throws -> [Double] {
        try validateLosses(losses)
        return ones
    }

    /// `Σ_k L_k` (the raw losses GradCraft balances).
    public func objective(losses: [Double]) -> Double { weightedObjective(weights: ones, losses: losses) }

    public func combine(parameters: [Parameter], losses: [Double]) throws {
        try validateLosses(losses)
        let scope = options.scope
        try gram.compute(parameters: parameters, include: scope.includes)
        let projection = try GradCraftProjection(gram: gram, tau: options.tau, epsilon: options.epsilon, solver: solver)
        scope.writeCombination(coefficients: projection.coefficients, parameters: parameters, scratch: &scratch)
        lastProjection = projection
        telemetry.weights = projection.coefficients
        telemetry.setGradientStatistics(from: gram)
        telemetry.pseudoInverseFallbacks = projection.pseudoInverseCount
        telemetry.pseudoInverseFallbacksTotal += projection.pseudoInverseCount
    }

    public func finishStep(losses: [Double], batchSize: Int) {
        telemetry.step += 1
    }

    public var methodState: State {
        State(taskCount: taskCount, steps: telemetry.step, pseudoInverseFallbacksTotal: telemetry.pseudoInverseFallbacksTotal)
    }

    public func restore(methodState saved: State) {
        telemetry = TaskBalancerTelemetry(step: saved.steps, weights: ones)
        telemetry.pseudoInverseFallbacksTotal = saved.pseudoInverseFallbacksTotal
        lastProjection = nil
    }
}
