/// Fixed task weights (ALGORITHMS.md 5.1): `total = Σ_k w_k L_k`, `dtotal/dz_bk = w_k dL_k/dz_bk`.
///
/// Weights come from the configuration (default all 1; the GradCraft baseline
/// "average" is `1/T`, LibMTL's "EW" is 1) and must be finite and non-negative.
public final class FixedWeighting: LossWeightingMethod, TaskCountBalancerMethod {
    public static let methodName = "fixed"

    /// Hyperparameters (JSON key `weights`).
    public struct Options: TaskBalancerOptions {
        public typealias Method = FixedWeighting
        /// `T` weights, or `nil` for all 1.
        public var weights: [Double]?

        public init() {}

        public init(weights: [Double]?) {
            self.weights = weights
        }

        public enum CodingKeys: String, CodingKey, CaseIterable { case weights }

        /// Checks the weights against the task count; returns a message for the first problem.
        public func problem(taskCount: Int) -> String? {
            guard let weights else { return nil }
            if weights.count != taskCount {
                return "fixed: \(weights.count) weights given for \(taskCount) tasks"
            }
            if let k = weights.firstIndex(where: { !($0.isFinite && $0 >= 0) }) {
                return "fixed: weight \(k) is \(weights[k]); weights must be finite and >= 0"
            }
            return nil
        }
    }

    /// Checkpointed state (only the step counter).
    public struct State: TaskBalancerMethodState {
        public var taskCount: Int
        public var steps: Int
    }

    public let taskCount: Int
    /// `w`.
    public let weights: [Double]
    public private(set) var telemetry: TaskBalancerTelemetry

    public init(taskCount: Int, options: Options = Options()) {
        options.requireUsable(taskCount: taskCount)
        self.taskCount = taskCount
        weights = options.weights ?? [Double](repeating: 1, count: taskCount)
        telemetry = TaskBalancerTelemetry(weights: weights)
    }

    public func lossWeights(losses: [Double]) throws -> [Double] {
        try validateLosses(losses)
        return weights
    }

    public func objective(losses: [Double]) -> Double { weightedObjective(weights: weights, losses: losses) }

    public func finishStep(losses: [Double], batchSize: Int) {
        telemetry.step += 1
    }

    public var methodState: State { State(taskCount: taskCount, steps: telemetry.step) }

    public func restore(methodState saved: State) {
        telemetry.step = saved.steps
    }
}
