import Foundation

/// Dynamic Weight Average (Liu et al., CVPR 2019; LibMTL `DWA`; ALGORITHMS.md 5.2).
///
///     r_k(e−1) = L̄_k(e−1) / L̄_k(e−2)
///     w_k(e)   = T · exp(r_k/temp) / Σ_i exp(r_i/temp)
///
/// `L̄_k(e)` is the per-example mean of task `k`'s UNWEIGHTED loss over averaging
/// period `e`: batch means weighted by batch size (`finishStep(losses:batchSize:)`).
/// A period is a data epoch (closed by `finishEpoch()`), or, with `window_steps =
/// N`, a window of `N` steps (streaming / one-pass training; `finishEpoch()` is
/// then ignored). Periods 0 and 1 use `w = 1`; from period 2 on the weights are
/// fixed for the whole period. Edge rule: if `L̄_k(e−2) <= 0` or the ratio is not
/// finite, `r_k = 1`. A period in which no step finished is not counted.
/// Weights are positive and sum to `T`.
public final class DynamicWeightAverage: LossWeightingMethod, TaskCountBalancerMethod {
    public static let methodName = "dwa"

    /// Hyperparameters (JSON keys `temperature`, `window_steps`).
    public struct Options: TaskBalancerOptions {
        public typealias Method = DynamicWeightAverage
        /// `temp > 0` (default 2).
        public var temperature: Double
        /// Steps per averaging period; `nil` = data epochs.
        public var windowSteps: Int?

        public init() { self.init(temperature: 2) }

        public init(temperature: Double = 2, windowSteps: Int? = nil) {
            self.temperature = temperature
            self.windowSteps = windowSteps
        }

        public enum CodingKeys: String, CodingKey, CaseIterable {
            case temperature
            case windowSteps = "window_steps"
        }

        public init(from decoder: Decoder) throws {
            self.init()
            try decoder.decode(CodingKeys.temperature, over: &temperature)
            try decoder.decode(CodingKeys.windowSteps, over: &windowSteps)
        }

        public func problem(taskCount: Int) -> String? {
            if !(temperature > 0 && temperature.isFinite) { return "dwa: temperature must be finite and > 0, got \(temperature)" }
            if let n = windowSteps, n < 1 { return "dwa: window_steps must be >= 1, got \(n)" }
            return nil
        }
    }

    /// Checkpointed state.
    public struct State: TaskBalancerMethodState {
        public var taskCount: Int
        public var steps: Int
        /// Weights of the current period.
        public var weights: [Double]
        /// Number of closed periods.
        public var completedPeriods: Int
        /// `L̄(e−1)` and `L̄(e−2)` of the last two closed periods.
        public var previousAverages: [Double]?
        public var earlierAverages: [Double]?
        /// Running `Σ batchSize · L_k` and `Σ batchSize` of the open period.
        public var lossSums: [Double]
        public var exampleCount: Int
        /// Steps in the open period.
        public var periodSteps: Int
    }

    public let taskCount: Int
    public let options: Options
    public private(set) var telemetry: TaskBalancerTelemetry
    private var current: State

    public init(taskCount: Int, options: Options = Options()) {
        options.requireUsable(taskCount: taskCount)
        self.taskCount = taskCount
        self.options = options
        let ones = [Double](repeating: 1, count: taskCount)
        current = State(taskCount: taskCount, steps: 0, weights: ones, completedPeriods: 0,
                        previousAverages: nil, earlierAverages: nil,
                        lossSums: [Double](repeating: 0, count: taskCount), exampleCount: 0, periodSteps: 0)
        telemetry = TaskBalancerTelemetry(weights: ones)
    }

    /// `w_k(e)` from the last two period averages (`previous = L̄(e−1)`,
    /// `earlier = L̄(e−2)`), with the edge rule of the type's documentation.
    public static func weights(previous: [Double], earlier: [Double], temperature: Double) -> [Double] {
        precondition(previous.count == earlier.count && temperature > 0)
        let ratios = previous.indices.map { k -> Double in
            let r = previous[k] / earlier[k]
            return earlier[k] > 0 && r.isFinite ? r : 1
        }
        let top = ratios.max() ?? 0
        let e = ratios.map { Foundation.exp(($0 - top) / temperature) }
        let sum = e.reduce(0, +)
        let t = Double(ratios.count)
        return e.map { t * $0 / sum }
    }

    /// The weights of the current period (the `losses` are only validated).
    public func lossWeights(losses: [Double]) throws -> [Double] {
        try validateLosses(losses)
        telemetry.weights = current.weights
        return current.weights
    }

    public func objective(losses: [Double]) -> Double { weightedObjective(weights: current.weights, losses: losses) }

    /// Adds the batch to the period's averages; closes a window after `window_steps` steps.
    public func finishStep(losses: [Double], batchSize: Int) {
        precondition(losses.count == taskCount && losses.allSatisfy(\.isFinite),
                     "DWA.finishStep needs \(taskCount) finite losses (skipped steps must not be reported)")
        precondition(batchSize >= 1, "DWA.finishStep needs a positive batch size")
        for k in 0..<taskCount { current.lossSums[k] += Double(batchSize) * losses[k] }
        current.exampleCount += batchSize
        current.periodSteps += 1
        current.steps += 1
        telemetry.step = current.steps
        if let window = options.windowSteps, current.periodSteps >= window { closePeriod() }
    }

    /// Closes the epoch (unless the method runs on windows of steps).
    public func finishEpoch() {
        if options.windowSteps == nil { closePeriod() }
    }

    private func closePeriod() {
        guard current.exampleCount > 0 else { return }
        let count = Double(current.exampleCount)
        let averages = current.lossSums.map { $0 / count }
        current.earlierAverages = current.previousAverages
        current.previousAverages = averages
        current.completedPeriods += 1
        if let earlier = current.earlierAverages {
            current.weights = DynamicWeightAverage.weights(previous: averages, earlier: earlier,
                                                           temperature: options.temperature)
        }
        for k in 0..<taskCount { current.lossSums[k] = 0 }
        current.exampleCount = 0
        current.periodSteps = 0
    }

    public var methodState: State { current }

    public func restore(methodState saved: State) throws {
        guard saved.weights.count == taskCount, saved.lossSums.count == taskCount else {
            throw TaskBalancingError.stateMismatch("state has \(saved.taskCount) tasks, balancer has \(taskCount)")
        }
        current = saved
        telemetry = TaskBalancerTelemetry(step: saved.steps, weights: saved.weights)
    }
}
