/// The loss-weighting and gradient-combination layer as the trainer sees it
/// (ALGORITHMS.md 5, 6 and 7).
///
/// A balancer is one of two kinds, told apart by `requiresPerTaskGradients`:
///
/// * **Loss weighting** (`FixedWeighting`, `DynamicWeightAverage`,
///   `UncertaintyWeighting`): `lossWeights(losses:)` returns `w_k`; the trainer
///   scales `dL_k/dlogits` by `w_k` and runs ONE ordinary backward pass, which
///   yields the gradient of `Σ_k w_k L_k` on every parameter.
/// * **Multi-gradient** (`GradNorm`, `GradCraft`, `PCGrad`): the trainer runs the
///   multi-gradient pass with UNIT weights (every shared parameter gets
///   `taskGradients`, `T × gradientCount`; every task-specific parameter of task `k`
///   gets `∇L_k` in `grad` / `sparseGrad.values`), then calls
///   `combine(parameters:losses:)`, which writes the final gradient the optimizer
///   applies: `Σ_t c_t · taskGradients[t]` into each shared parameter's
///   `gradientPointer`, and the task-specific gradients scaled in place by the
///   task's factor (1 for GradCraft and PCGrad, ALGORITHMS.md 6.1.3; `w_k` for GradNorm).
///
/// One training step, exactly in this order (ALGORITHMS.md 7):
///
/// ```swift
/// let weights = try balancer.lossWeights(losses: L)   // every method; throws on a non-finite loss
/// if balancer.requiresPerTaskGradients {
///     model.backwardPerTask(...)                       // unit weights, never `weights`
///     try balancer.combine(parameters: model.parameters, losses: L)
/// } else {
///     model.backward(logitGradient: dL/dz with column k scaled by weights[k])
/// }
/// // L2 gradient (if any) is added here, after weighting/combination.
/// optimizer.step(model.parameters + balancer.trainableParameters)
/// balancer.finishStep(losses: L, batchSize: B)          // only when the step was applied
/// ...
/// balancer.finishEpoch()                                 // at the end of every data epoch
/// ```
///
/// When `lossWeights` or `combine` throws, the trainer skips the step (no
/// optimizer step, no `finishStep`); the balancer's state is then unchanged
/// (PCGrad's order generator excepted, see `PCGrad`). `objective(losses:)` is
/// the scalar the step minimises, for logging. `telemetry` describes the last
/// `lossWeights`/`combine` call; `state` / `restore(_:)` carry everything a
/// resumed run needs to continue exactly.
public protocol TaskBalancer: AnyObject {
    /// Number of tasks `T`.
    var taskCount: Int { get }
    /// The configuration name of the method (`"fixed"`, `"dwa"`, `"gradnorm"`,
    /// `"uw"`, `"gradcraft"`, `"pcgrad"`, or a registered one).
    var methodName: String { get }
    /// Loss weighting or gradient combination: what `telemetry.weights` hold.
    var family: TaskBalancerFamily { get }
    /// `true` when the trainer must run the multi-gradient pass and call
    /// `combine(parameters:losses:)` instead of one weighted backward pass.
    var requiresPerTaskGradients: Bool { get }

    /// The weights `w_k` of this step's objective `Σ_k w_k L_k` (`T` values).
    ///
    /// Called first in every step, with the per-task UNWEIGHTED mean losses.
    /// Loss-weighting methods: these are the factors for the weighted backward
    /// pass. Multi-gradient methods: GradNorm returns its current weights (which
    /// `combine` applies), GradCraft and PCGrad return ones; the multi-gradient
    /// pass itself always uses unit weights. Uncertainty weighting also writes
    /// `dtotal/ds` into its log-variance parameter here.
    ///
    /// - Throws: `TaskBalancingError.nonFiniteLoss` for a NaN or infinite loss.
    func lossWeights(losses: [Double]) throws -> [Double]

    /// The scalar this step minimises (for logging): `Σ_k w_k L_k`, or
    /// uncertainty weighting's own total.
    func objective(losses: [Double]) -> Double

    /// Writes the final gradients after the multi-gradient pass (see the type's
    /// documentation). Only for methods with `requiresPerTaskGradients`; the
    /// default stops the program.
    ///
    /// - Throws: `TaskBalancingError.nonFiniteTaskGradient` (nothing is
    ///   written), `TaskBalancingError.missingParameter` (GradNorm's layer), or a
    ///   `LAPACKError` from a small solve.
    func combine(parameters: [Parameter], losses: [Double]) throws

    /// Per-step state update after the optimizer step (GradNorm's weight step
    /// and renormalisation; DWA's loss accumulators and windows; step counters).
    /// `batchSize` is the number of examples behind the batch-mean `losses`.
    func finishStep(losses: [Double], batchSize: Int)

    /// Marks the end of a data epoch (DWA closes its averaging epoch unless it
    /// runs on windows of steps; the other methods ignore it).
    func finishEpoch()

    /// Parameters the balancer trains with the model's optimizer (uncertainty
    /// weighting's log-variances); empty for the other methods.
    var trainableParameters: [Parameter] { get }

    /// What the last step did (weights or coefficients, gradient statistics).
    var telemetry: TaskBalancerTelemetry { get }

    /// Everything needed to resume (Codable, for checkpoints; `TaskBalancerMethod`
    /// supplies it from the method's own `State`).
    var state: TaskBalancerState { get }

    /// Restores a state taken from a balancer of the same method and task count.
    ///
    /// - Throws: `TaskBalancingError.stateMismatch` otherwise.
    func restore(_ state: TaskBalancerState) throws
}

extension TaskBalancer {
    public func finishEpoch() {}

    public var trainableParameters: [Parameter] { [] }

    public func combine(parameters: [Parameter], losses: [Double]) throws {
        preconditionFailure("\(methodName) uses one weighted backward pass, not combine")
    }

    /// Checks the loss vector of a step: `T` values (programmer error otherwise),
    /// all finite (runtime error otherwise).
    ///
    /// - Throws: `TaskBalancingError.nonFiniteLoss` for the first NaN or infinity.
    public func validateLosses(_ losses: [Double]) throws {
        precondition(losses.count == taskCount, "\(methodName): \(losses.count) losses for \(taskCount) tasks")
        for (k, value) in losses.enumerated() where !value.isFinite {
            throw TaskBalancingError.nonFiniteLoss(task: k, value: value)
        }
    }

    /// `Σ_k w_k L_k`, summed in task order from 0 (`weights` and `losses`: `T`
    /// values each).
    public func weightedObjective(weights: [Double], losses: [Double]) -> Double {
        var total = 0.0
        for k in 0..<taskCount { total += weights[k] * losses[k] }
        return total
    }
}

/// Runtime faults of the balancing layer (bad numbers, not bad code).
public enum TaskBalancingError: Error, CustomStringConvertible, Equatable {
    /// A task's mean loss is NaN or infinite; the step must be skipped.
    case nonFiniteLoss(task: Int, value: Double)
    /// A task gradient of a parameter holds NaN or infinity; nothing was combined
    /// and the step must be skipped.
    case nonFiniteTaskGradient(parameter: String, task: Int)
    /// A parameter the balancer was configured with (GradNorm's layer) is not in
    /// the list, or is not a shared parameter.
    case missingParameter(name: String, reason: String)
    /// `restore(_:)` got a state of another method or task count.
    case stateMismatch(String)

    public var description: String {
        switch self {
        case let .nonFiniteLoss(task, value):
            return "task \(task) has a non-finite loss (\(value)); the step is skipped — check the data and the learning rate"
        case let .nonFiniteTaskGradient(parameter, task):
            return "task \(task)'s gradient of parameter '\(parameter)' is not finite; nothing was combined and the step is skipped"
        case let .missingParameter(name, reason):
            return "parameter '\(name)': \(reason)"
        case let .stateMismatch(message):
            return "cannot restore the balancer state: \(message)"
        }
    }
}
