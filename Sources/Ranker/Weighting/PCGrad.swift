/// PCGrad (Yu et al., NeurIPS 2020; LibMTL semantics, ALGORITHMS.md 6.2) as a
/// `TaskBalancer`.
///
/// After the multi-gradient pass, `combine` builds the Gram matrix of the raw
/// task gradients over the shared parameters of its `scope`, draws one random
/// visiting order per task (a permutation of all `T` tasks, from the seeded
/// generator, independently for every task as LibMTL does), computes the
/// coefficients with `PCGradProjection` and writes `Σ_t c_t taskGradients[t]` into
/// each such parameter. Task-specific parameters keep `∇L_k`. Combination
/// `sum` by default (LibMTL and the paper; ALGORITHMS.md 6.2 Decision).
///
/// The generator's state is part of `state`, so a resumed run draws the same
/// orders. Orders are drawn only after the Gram matrix was found finite; a step
/// the trainer skips after a successful `combine` has still consumed its draws.
public final class PCGrad: GradientCombinationMethod {
    public static let methodName = "pcgrad"

    /// How the projected task gradients are combined.
    public enum Reduction: String, TaskBalancerOptionValue {
        /// `Σ_i pc_i` (LibMTL, paper; project default).
        case sum
        /// `(1/T) Σ_i pc_i`.
        case mean
    }

    /// Hyperparameters (JSON keys `reduction`, `scope`).
    public struct Options: TaskBalancerOptions {
        public typealias Method = PCGrad
        public var reduction: Reduction
        public var scope: SharedGradientScope

        public init() { self.init(reduction: .sum) }

        public init(reduction: Reduction = .sum, scope: SharedGradientScope = .allShared) {
            self.reduction = reduction
            self.scope = scope
        }

        public enum CodingKeys: String, CodingKey, CaseIterable { case reduction, scope }

        public init(from decoder: Decoder) throws {
            self.init()
            try decoder.decode(CodingKeys.reduction, over: &reduction)
            try decoder.decode(CodingKeys.scope, over: &scope)
        }
    }

    /// Checkpointed state.
    public struct State: TaskBalancerMethodState {
        public var taskCount: Int
        public var steps: Int
        public var generator: RandomGenerator
    }

    public let taskCount: Int
    public let options: Options
    public private(set) var telemetry: TaskBalancerTelemetry
    /// The last step's orders and projection.
    public private(set) var lastOrders: [[Int]] = []
    public private(set) var lastProjection: PCGradProjection?

    private var generator: RandomGenerator
    private let gram: TaskGradientGram
    private var scratch: [Float]
    private let ones: [Double]

    /// - Parameter seed: seeds the generator of the visiting orders (the run's seed).
    public init(taskCount: Int, options: Options = Options(), seed: UInt64) {
        options.requireUsable(taskCount: taskCount)
        self.taskCount = taskCount
        self.options = options
        generator = RandomGenerator(seed: seed)
        gram = TaskGradientGram(taskCount: taskCount)
        scratch = [Float](repeating: 0, count: taskCount)
        ones = [Double](repeating: 1, count: taskCount)
        telemetry = TaskBalancerTelemetry(weights: ones)
    }

    public convenience init(options: Options, context: TaskBalancerContext) {
        self.init(taskCount: context.taskCount, options: options, seed: context.seed)
    }

    /// Ones: the multi-gradient pass runs on the raw task losses.
    public func lossWeights(losses: [Double]) throws -> [Double] {
        try validateLosses(losses)
        return ones
    }

    /// `Σ_k L_k`.
    public func objective(losses: [Double]) -> Double { weightedObjective(weights: ones, losses: losses) }

    public func combine(parameters: [Parameter], losses: [Double]) throws {
        try combine(parameters: parameters, losses: losses, orders: nil)
    }

    /// `combine` with explicit visiting orders (`T` permutations of `0..<T`)
    /// instead of drawn ones; `nil` draws them. For tests and reproductions.
    public func combine(parameters: [Parameter], losses: [Double], orders explicitOrders: [[Int]]?) throws {
        try validateLosses(losses)
        let scope = options.scope
        try gram.compute(parameters: parameters, include: scope.includes)
        let orders = explicitOrders ?? (0..<taskCount).map { _ in generator.permutation(taskCount) }
        let projection = PCGradProjection(gram: gram, orders: orders, reduction: options.reduction)
        scope.writeCombination(coefficients: projection.coefficients, parameters: parameters, scratch: &scratch)
        lastOrders = orders
        lastProjection = projection
        telemetry.weights = projection.coefficients
        telemetry.setGradientStatistics(from: gram)
    }

    public func finishStep(losses: [Double], batchSize: Int) {
        telemetry.step += 1
    }

    public var methodState: State { State(taskCount: taskCount, steps: telemetry.step, generator: generator) }

    public func restore(methodState saved: State) {
        generator = saved.generator
        telemetry = TaskBalancerTelemetry(step: saved.steps, weights: ones)
        lastOrders = []
        lastProjection = nil
    }
}
