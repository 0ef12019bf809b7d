/// Why a step computed no usable gradient.
public enum StepFailure: Error, Equatable, CustomStringConvertible {
    /// Task `task`'s mean loss is NaN or infinite.
    case nonFiniteLoss(task: Int, value: Double)
    /// A gradient holds NaN or infinity (named parameter; task when known).
    case nonFiniteGradient(parameter: String, task: Int?)
    /// The balancing layer refused the step for another reason.
    case balancer(String)

    public var description: String {
        switch self {
        case let .nonFiniteLoss(task, value): return "task \(task) loss is \(value)"
        case let .nonFiniteGradient(parameter, task):
            return "non-finite gradient in \(parameter)" + (task.map { " (task \($0))" } ?? "")
        case let .balancer(message): return message
        }
    }
}

/// One optimisation step as ALGORITHMS.md 7 composes it, split in two so that
/// the stability monitor can look at the losses and gradients before anything
/// changes:
///
/// 1. `computeGradients(_:)`: forward, per-task losses, the balancer's weights,
///    then one weighted backward pass (loss weighting) or the multi-gradient
///    pass and the balancer's combination (GradNorm, GradCraft, PCGrad);
/// 2. `applyUpdate(learningRate:batchSize:)`: the optimizer step over the model's
///    and the balancer's parameters, then the balancer's per-step state update.
///
/// Buffers are allocated once; a steady-state step allocates nothing in the
/// model, the loss head or the optimizer. Setting `phaseTimes` to
/// `TrainingStepPhaseTimes()` makes the step add the wall-clock time of each
/// phase to it (for benchmarks; `nil`, the default, reads no clock).
public final class TrainingStep {
    public let model: MultiTaskModel
    public let optimizer: Optimizer
    public let balancer: TaskBalancer
    /// The model's parameters, cached (stable order).
    public let modelParameters: [Parameter]
    /// What the optimizer updates: the model's parameters, then the balancer's.
    public let parameters: [Parameter]
    /// Unweighted per-task mean losses of the last `computeGradients`.
    public private(set) var losses: [Double]
    /// The loss weights of the last step (ones for GradCraft/PCGrad).
    public private(set) var weights: [Double]
    /// Where the training forward pass draws its dropout masks (ALGORITHMS.md
    /// 3.2.1); untouched by a model without dropout. The trainer checkpoints it.
    public let dropoutGenerator: DropoutGenerator
    /// Per-phase wall-clock totals while not `nil` (see `TrainingStepPhaseTimes`).
    public var phaseTimes: TrainingStepPhaseTimes?
    /// Written into the next `computeGradients` only, then cleared (`InjectedFault`; tests).
    var pendingFault: InjectedFault?
    private var phaseStart: UInt64 = 0
    private let taskGradients = Matrix(rows: 0, cols: 0)
    private let logitGradient = Matrix(rows: 0, cols: 0)

    /// - Parameter dropoutSeed: seeds `dropoutGenerator`.
    public init(model: MultiTaskModel, optimizer: Optimizer, balancer: TaskBalancer, dropoutSeed: UInt64 = 0) {
        precondition(balancer.taskCount == model.taskCount,
                     "balancer for \(balancer.taskCount) tasks, model with \(model.taskCount)")
        self.model = model
        self.optimizer = optimizer
        self.balancer = balancer
        dropoutGenerator = DropoutGenerator(RandomGenerator(seed: dropoutSeed))
        modelParameters = model.parameters
        parameters = modelParameters + balancer.trainableParameters
        losses = [Double](repeating: 0, count: model.taskCount)
        weights = [Double](repeating: 1, count: model.taskCount)
        optimizer.prepare(for: parameters)
    }

    /// Forward (training mode: BatchNorm batch statistics, which moves the
    /// running statistics; dropout), losses and backward for `batch`; every
    /// parameter holds its final gradient afterwards. No parameter is updated.
    ///
    /// - Returns: the failure when a loss or a gradient is not finite (the
    ///   caller must not apply the update), otherwise `nil`.
    @discardableResult
    public func computeGradients(_ batch: Batch) -> StepFailure? {
        do {
            return try computeGradients(batch, replicas: nil)
        } catch {
            preconditionFailure("one process exchanges nothing and cannot fail: \(error)")
        }
    }

    /// `computeGradients(_:)` for one replica of a data-parallel run: `batch`
    /// is this rank's slice of the global batch, and every exchange of
    /// `ReplicaGradientReduction` runs at its point (global losses before the
    /// balancer; summed gradients before the combination or the update), so
    /// that every rank ends with the gradients of the global batch.
    ///
    /// - Throws: `DataParallelError` when an exchange fails (the run must stop).
    @discardableResult
    public func computeGradients(_ batch: Batch, replicas: ReplicaGradientReduction?) throws -> StepFailure? {
        startPhases()
        let fault = pendingFault
        pendingFault = nil
        if fault?.site == .input, batch.size > 0, batch.denseCount > 0 { batch.dense[0, 0] = fault!.value }
        let logits = model.forward(batch, mode: .training(dropout: dropoutGenerator))
        try replicas?.raisePendingError()
        endPhase(.forward)
        model.computeLosses(logits: logits, labels: batch.labels.view, taskGradients: taskGradients, into: &losses)
        try replicas?.reduceLosses(&losses, logitGradients: taskGradients)
        if case let .loss(task)? = fault?.site, losses.indices.contains(task) { losses[task] = Double(fault!.value) }
        for (k, value) in losses.enumerated() where !value.isFinite {
            return .nonFiniteLoss(task: k, value: value)
        }
        do {
            weights = try balancer.lossWeights(losses: losses)
            if balancer.requiresPerTaskGradients {
                endPhase(.losses)
                model.backwardPerTask(taskLogitGradients: taskGradients.view)
                try replicas?.reduceGradients(perTask: true)
                endPhase(.backward)
                try balancer.combine(parameters: modelParameters, losses: losses)
                endPhase(.combination)
            } else {
                weightedLogitGradient(taskGradients: taskGradients.view, weights: weights, into: logitGradient)
                endPhase(.losses)
                model.backward(logitGradient: logitGradient.view)
                try replicas?.reduceGradients(perTask: false)
                endPhase(.backward)
            }
        } catch let error as DataParallelError {
            throw error
        } catch let error as TaskBalancingError {
            switch error {
            case let .nonFiniteLoss(task, value): return .nonFiniteLoss(task: task, value: value)
            case let .nonFiniteTaskGradient(parameter, task): return .nonFiniteGradient(parameter: parameter, task: task)
            default: return .balancer(error.description)
            }
        } catch {
            return .balancer("\(error)")
        }
        if case let .gradient(name)? = fault?.site, let p = parameters.first(where: { $0.name == name }), p.gradientCount > 0 {
            p.gradientPointer[p.gradientCount / 2] = fault!.value
        }
        return nil
    }

    /// The optimizer step (which refuses non-finite gradients and names them),
    /// then — when it was applied — the balancer's per-step update.
    @discardableResult
    public func applyUpdate(learningRate: Float, batchSize: Int) -> OptimizerStepReport {
        if phaseTimes != nil { phaseStart = MonotonicClock.now }
        let report = optimizer.step(parameters: parameters, learningRate: learningRate)
        if report.applied { balancer.finishStep(losses: losses, batchSize: batchSize) }
        endPhase(.update)
        return report
    }

    /// Counts a step and starts its first phase (when recording).
    private func startPhases() {
        guard phaseTimes != nil else { return }
        phaseTimes!.steps += 1
        phaseStart = MonotonicClock.now
    }

    /// Adds the time since the last phase boundary to `phase` (when recording).
    private func endPhase(_ phase: TrainingStepPhaseTimes.Phase) {
        guard phaseTimes != nil else { return }
        let now = MonotonicClock.now
        phaseTimes!.add(now - phaseStart, to: phase)
        phaseStart = now
    }

    /// The weighted objective of the last step (`Σ w_k L_k`, or uncertainty
    /// weighting's total).
    public var objective: Double { balancer.objective(losses: losses) }

    /// The parameter whose current gradient has the largest Euclidean norm,
    /// and that norm (O(parameters); for stability events, not every step).
    public func largestGradient() -> (name: String, norm: Double) {
        var best = (name: "", norm: -1.0)
        for p in parameters {
            let n = p.gradientCount
            let g = p.gradientPointer
            let norm = BLAS.dotDouble(count: n, x: g, y: g).squareRoot()
            if norm > best.norm || norm.isNaN { best = (p.name, norm) }
            if norm.isNaN { break }
        }
        return best
    }
}
