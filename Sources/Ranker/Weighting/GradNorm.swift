/// GradNorm (Chen et al., ICML 2018) with the project semantics of ALGORITHMS.md 5.3:
/// direct weights `w` (init 1), `alpha = 1.5`, a separate Adam optimizer for `w`
/// (lr 0.025, betas 0.9/0.999, eps 1e-8), `L_i(0)` = the first step's losses,
/// weights clamped at `>= 1e-8` and renormalised to sum `T` after each step.
///
/// It uses the multi-gradient pass. `combine` reads the unweighted task
/// gradients of its parameter set `W` — the model's last shared layer (the
/// parameter names given at construction; default scope) or every shared
/// parameter (`scope = .allShared`) — as the diagonal of their Gram matrix,
/// evaluates `GradNormRule` with the CURRENT weights, and writes the model's
/// gradient of `Σ_k w_k L_k`: `Σ_t w_t taskGradients[t]` on every shared parameter
/// and `w_k ∇L_k` on task `k`'s own parameters. `finishStep` then takes the
/// weight-optimizer step with the gradient computed in `combine`, clamps and
/// renormalises (ALGORITHMS.md 7, step 5).
///
/// Options beyond the paper (off by default), as in NextRec
/// (`nextrec/loss/grad_norm.py`): `variant` (`nextrec` = 0.4.x epsilons,
/// `nextrec_clamp` = 0.6.x clamps, see `GradNormRule`), `loss_ema_decay` (the
/// ratio's numerator is an EMA of the losses, seeded with the first step's
/// losses), `initial_loss_ema_steps`/`initial_loss_ema_decay` (`L(0)` is the EMA of
/// the first `N` steps' losses, frozen after step `N`; until then the running
/// EMA is the reference), and `optimizer = sgd` (plain `w ← w − lr·g`).
///
/// State changes (reference losses, EMAs, weights, Adam moments) happen only in
/// `finishStep`, so a step skipped after `combine` leaves no trace.
public final class GradNorm: LossWeightingMethod {
    public static let methodName = "gradnorm"

    /// Which parameters `W` the gradient norms are taken over.
    public enum Scope: String, TaskBalancerOptionValue {
        /// The model's last shared layer (the names passed at construction):
        /// Shared-Bottom the last bottom Linear weight, MMoE the experts' last
        /// Linear weights, PLE the last-level shared experts' last weights, ESMM
        /// the CTR tower's last hidden weight (ALGORITHMS.md 5.3).
        case lastSharedLayer = "last_shared_layer"
        /// Every shared parameter, embedding rows included.
        case allShared = "all_shared"
    }

    /// Numerical variant of the weight gradient (see `GradNormRule`).
    public enum Variant: String, TaskBalancerOptionValue {
        /// The spec's form: no epsilons except `max(L0, 1e-8)` and the clamp.
        case paper
        /// NextRec 0.4.x: `sqrt(·+1e-8)`, `+1e-8` denominators.
        case nextrec
        /// NextRec 0.6.x: the same guards as clamps.
        case nextrecClamp = "nextrec_clamp"
    }

    /// The optimizer of `w`.
    public enum WeightOptimizer: String, TaskBalancerOptionValue {
        case adam
        case sgd
    }

    /// Hyperparameters (JSON keys: the property names in snake_case).
    public struct Options: TaskBalancerOptions {
        public typealias Method = GradNorm
        public var alpha: Double
        public var learningRate: Double
        public var optimizer: WeightOptimizer
        public var beta1: Double
        public var beta2: Double
        public var adamEpsilon: Double
        public var scope: Scope
        public var variant: Variant
        /// EMA decay of the ratio's numerator losses (`nil` = current losses).
        public var lossEMADecay: Double?
        /// Steps whose loss EMA becomes `L(0)` (0 = the first step's losses).
        public var initialLossEMASteps: Int
        /// Decay of that EMA.
        public var initialLossEMADecay: Double

        public init() { self.init(alpha: 1.5) }

        public init(alpha: Double = 1.5, learningRate: Double = 0.025, optimizer: WeightOptimizer = .adam,
                    beta1: Double = 0.9, beta2: Double = 0.999, adamEpsilon: Double = 1e-8,
                    scope: Scope = .lastSharedLayer, variant: Variant = .paper, lossEMADecay: Double? = nil,
                    initialLossEMASteps: Int = 0, initialLossEMADecay: Double = 0.9) {
            self.alpha = alpha
            self.learningRate = learningRate
            self.optimizer = optimizer
            self.beta1 = beta1
            self.beta2 = beta2
            self.adamEpsilon = adamEpsilon
            self.scope = scope
            self.variant = variant
            self.lossEMADecay = lossEMADecay
            self.initialLossEMASteps = initialLossEMASteps
            self.initialLossEMADecay = initialLossEMADecay
        }

        public enum CodingKeys: String, CodingKey, CaseIterable {
            case alpha, optimizer, beta1, beta2, scope, variant
            case learningRate = "learning_rate", adamEpsilon = "adam_epsilon", lossEMADecay = "loss_ema_decay"
            case initialLossEMASteps = "initial_loss_ema_steps", initialLossEMADecay = "initial_loss_ema_decay"
        }

        public init(from decoder: Decoder) throws {
            self.init()
            try decoder.decode(CodingKeys.alpha, over: &alpha)
            try decoder.decode(CodingKeys.learningRate, over: &learningRate)
            try decoder.decode(CodingKeys.optimizer, over: &optimizer)
            try decoder.decode(CodingKeys.beta1, over: &beta1)
            try decoder.decode(CodingKeys.beta2, over: &beta2)
            try decoder.decode(CodingKeys.adamEpsilon, over: &adamEpsilon)
            try decoder.decode(CodingKeys.scope, over: &scope)
            try decoder.decode(CodingKeys.variant, over: &variant)
            try decoder.decode(CodingKeys.lossEMADecay, over: &lossEMADecay)
            try decoder.decode(CodingKeys.initialLossEMASteps, over: &initialLossEMASteps)
            try decoder.decode(CodingKeys.initialLossEMADecay, over: &initialLossEMADecay)
        }

        /// Checks the ranges; returns a message for the first bad value.
        public func problem(taskCount: Int) -> String? {
            if !(alpha >= 0 && alpha.isFinite) { return "gradnorm: alpha must be finite and >= 0, got \(alpha)" }
            if !(learningRate > 0 && learningRate.isFinite) { return "gradnorm: learning_rate must be finite and > 0, got \(learningRate)" }
            if !(beta1 >= 0 && beta1 < 1) { return "gradnorm: beta1 must be in [0, 1), got \(beta1)" }
            if !(beta2 >= 0 && beta2 < 1) { return "gradnorm: beta2 must be in [0, 1), got \(beta2)" }
            if !(adamEpsilon >= 0 && adamEpsilon.isFinite) { return "gradnorm: adam_epsilon must be finite and >= 0, got \(adamEpsilon)" }
            if let decay = lossEMADecay, !(decay >= 0 && decay < 1) {
                return "gradnorm: loss_ema_decay must be in [0, 1), got \(decay)"
            }
            if initialLossEMASteps < 0 { return "gradnorm: initial_loss_ema_steps must be >= 0, got \(initialLossEMASteps)" }
            if !(initialLossEMADecay >= 0 && initialLossEMADecay < 1) {
                return "gradnorm: initial_loss_ema_decay must be in [0, 1), got \(initialLossEMADecay)"
            }
            return nil
        }
    }

    /// Checkpointed state.
    public struct State: TaskBalancerMethodState {
        public var taskCount: Int
        public var steps: Int
        /// `w` (used by the next step).
        public var weights: [Double]
        /// Adam's first and second moments of `w` and its step count.
        public var firstMoment: [Double]
        public var secondMoment: [Double]
        public var optimizerSteps: Int
        /// `L(0)` once fixed.
        public var initialLosses: [Double]?
        /// The running EMA towards `L(0)` and its step count (`initial_loss_ema_steps > 0`).
        public var initialLossEMA: [Double]?
        public var initialLossEMACount: Int
        /// The EMA of the losses (`loss_ema_decay`).
        public var lossEMA: [Double]?
    }

    /// What `combine` computed for `finishStep` to apply.
    private struct Pending {
        var weightGradient: [Double]
        var initialLosses: [Double]?
        var initialLossEMA: [Double]?
        var initialLossEMACount: Int
        var lossEMA: [Double]?
    }

    public let taskCount: Int
    public let options: Options
    /// Parameter names of `W` for `.lastSharedLayer` (empty for `.allShared`).
    public let layerParameterNames: Set<String>
    /// A loss weighting that reads the per-task gradients of its layer.
    public var requiresPerTaskGradients: Bool { true }
    public private(set) var telemetry: TaskBalancerTelemetry
    /// The last `combine`'s evaluation.
    public private(set) var lastRule: GradNormRule?

    private var current: State
    private var pending: Pending?
    private let gram: TaskGradientGram
    private var scratch: [Float]

    /// - Parameter lastSharedLayer: names of the parameters forming the model's
    ///   last shared layer (required, non-empty, for `scope = .lastSharedLayer`).
    public init(taskCount: Int, options: Options = Options(), lastSharedLayer: [String] = []) {
        options.requireUsable(taskCount: taskCount)
        precondition(options.scope == .allShared || !lastSharedLayer.isEmpty,
                     "GradNorm with scope last_shared_layer needs the layer's parameter names")
        self.taskCount = taskCount
        self.options = options
        layerParameterNames = options.scope == .lastSharedLayer ? Set(lastSharedLayer) : []
        let ones = [Double](repeating: 1, count: taskCount)
        let zeros = [Double](repeating: 0, count: taskCount)
        current = State(taskCount: taskCount, steps: 0, weights: ones, firstMoment: zeros, secondMoment: zeros,
                        optimizerSteps: 0, initialLosses: nil, initialLossEMA: nil, initialLossEMACount: 0, lossEMA: nil)
        gram = TaskGradientGram(taskCount: taskCount)
        scratch = [Float](repeating: 0, count: taskCount)
        telemetry = TaskBalancerTelemetry(weights: ones)
    }

    /// - Throws: `TaskBalancerConfigurationError` for scope `last_shared_layer`
    ///   when the model named no last shared layer.
    public convenience init(options: Options, context: TaskBalancerContext) throws {
        if options.scope == .lastSharedLayer && context.lastSharedLayer.isEmpty {
            throw TaskBalancerConfigurationError(
                "gradnorm: scope \"last_shared_layer\" but the model named no last shared layer; use \"scope\": \"all_shared\"")
        }
        self.init(taskCount: context.taskCount, options: options, lastSharedLayer: context.lastSharedLayer)
    }

    /// The current weights `w`.
    public var weights: [Double] { current.weights }

    public func lossWeights(losses: [Double]) throws -> [Double] {
        try validateLosses(losses)
        telemetry.weights = current.weights
        return current.weights
    }

    public func objective(losses: [Double]) -> Double { weightedObjective(weights: current.weights, losses: losses) }

    private func isInLayer(_ parameter: Parameter) -> Bool {
        parameter.group == .shared && (options.scope == .allShared || layerParameterNames.contains(parameter.name))
    }

    public func combine(parameters: [Parameter], losses: [Double]) throws {
        try validateLosses(losses)
        if options.scope == .lastSharedLayer { try checkLayerParameters(parameters) }
        try gram.compute(parameters: parameters, include: isInLayer)
        prepareWeightStep(squaredGradientNorms: (0..<taskCount).map { gram[$0, $0] }, losses: losses)

        // The model's gradient of Σ_k w_k L_k.
        TaskGradientMixing.writeCombination(coefficients: current.weights, parameters: parameters, scratch: &scratch,
                                            include: { $0.group == .shared })
        TaskGradientMixing.scaleTaskSpecificGradients(factors: current.weights, parameters: parameters)

        telemetry.weights = current.weights
        telemetry.setGradientStatistics(from: gram)
    }

    /// The weight-side half of `combine`: from the squared norms `||g_i||²` of the
    /// unweighted task gradients over `W` and this step's losses, computes the
    /// reference losses, EMAs and `dL_grad/dw` with the current weights, for
    /// `finishStep` to apply. Returns the evaluation. (`combine` calls it; tests
    /// and reproductions that have the norms already can call it directly.)
    @discardableResult
    public func prepareWeightStep(squaredGradientNorms: [Double], losses: [Double]) -> GradNormRule {
        precondition(squaredGradientNorms.count == taskCount && losses.count == taskCount)
        var next = Pending(weightGradient: [], initialLosses: current.initialLosses,
                           initialLossEMA: current.initialLossEMA, initialLossEMACount: current.initialLossEMACount,
                           lossEMA: current.lossEMA)
        if next.initialLosses == nil {
            if options.initialLossEMASteps > 0 {
                if let ema = next.initialLossEMA {
                    let decay = options.initialLossEMADecay
                    next.initialLossEMA = (0..<taskCount).map { decay * ema[$0] + (1 - decay) * losses[$0] }
                } else {
                    next.initialLossEMA = losses
                }
                next.initialLossEMACount += 1
                if next.initialLossEMACount >= options.initialLossEMASteps { next.initialLosses = next.initialLossEMA }
            } else {
                next.initialLosses = losses
            }
        }
        var numerator = losses
        if let decay = options.lossEMADecay {
            if let ema = next.lossEMA {
                next.lossEMA = (0..<taskCount).map { decay * ema[$0] + (1 - decay) * losses[$0] }
            } else {
                next.lossEMA = losses
            }
            numerator = next.lossEMA!
        }
        let reference = next.initialLosses ?? next.initialLossEMA!
        let rule = GradNormRule(weights: current.weights, squaredGradientNorms: squaredGradientNorms, losses: numerator,
                                initialLosses: reference, alpha: options.alpha, variant: options.variant)
        next.weightGradient = rule.weightGradient
        pending = next
        lastRule = rule
        return rule
    }

    /// Every configured layer name must name a shared parameter of the list.
    private func checkLayerParameters(_ parameters: [Parameter]) throws {
        var found = 0
        for parameter in parameters where layerParameterNames.contains(parameter.name) {
            if parameter.group != .shared {
                throw TaskBalancingError.missingParameter(
                    name: parameter.name, reason: "GradNorm's layer must consist of shared parameters, this one is \(parameter.group)")
            }
            found += 1
        }
        if found < layerParameterNames.count {
            let present = Set(parameters.map(\.name))
            let missing = layerParameterNames.subtracting(present).sorted()
            throw TaskBalancingError.missingParameter(
                name: missing.first ?? "?", reason: "GradNorm's last shared layer names it, but the model has no such parameter (missing: \(missing))")
        }
    }

    public func finishStep(losses: [Double], batchSize: Int) {
        guard let step = pending else {
            preconditionFailure("GradNorm.finishStep called without a successful combine in this step")
        }
        pending = nil
        current.initialLosses = step.initialLosses
        current.initialLossEMA = step.initialLossEMA
        current.initialLossEMACount = step.initialLossEMACount
        current.lossEMA = step.lossEMA
        switch options.optimizer {
        case .adam:
            // The optimizer core's Adam (ALGORITHMS.md 4.4), in Double.
            current.optimizerSteps += 1
            var weights = current.weights, firstMoment = current.firstMoment, secondMoment = current.secondMoment
            AdamRule.update(weights: &weights, gradient: step.weightGradient,
                            firstMoment: &firstMoment, secondMoment: &secondMoment,
                            step: current.optimizerSteps, learningRate: options.learningRate,
                            beta1: options.beta1, beta2: options.beta2, epsilon: options.adamEpsilon)
            current.weights = weights
            current.firstMoment = firstMoment
            current.secondMoment = secondMoment
        case .sgd:
            current.optimizerSteps += 1
            for k in 0..<taskCount { current.weights[k] -= options.learningRate * step.weightGradient[k] }
        }
        GradNormRule.renormalize(&current.weights, variant: options.variant)
        current.steps += 1
        telemetry.step = current.steps
    }

    public var methodState: State { current }

    public func restore(methodState saved: State) throws {
        guard saved.weights.count == taskCount, saved.firstMoment.count == taskCount,
              saved.secondMoment.count == taskCount else {
            throw TaskBalancingError.stateMismatch("state has \(saved.taskCount) tasks, balancer has \(taskCount)")
        }
        current = saved
        pending = nil
        lastRule = nil
        telemetry = TaskBalancerTelemetry(step: saved.steps, weights: saved.weights)
    }
}
