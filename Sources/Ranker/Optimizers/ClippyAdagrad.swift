/// Named settings of Clippy Adagrad (spec 4.2.4).
///
/// | preset | ordering | rel | acc_rel | abs | eps | acc init |
/// |---|---|---|---|---|---|---|
/// | `project` (default) | delayed | 0.5 | 0 | 1e-2 | 1e-7 | 0.1 |
/// | `paper` | standard | 0.5 | 0 | 1e-2 | 0 | 0.1 |
/// | `tfrs` | delayed | 0.1 | 0 | 1e-7 | 1e-7 | 0.1 |
public enum ClippyPreset: String, Codable, CaseIterable, Sendable {
    case project
    case paper
    case tfrs

    public var options: ClippyAdagradOptions {
        switch self {
        case .project:
            return ClippyAdagradOptions(variableRelativeThreshold: 0.5, absoluteThreshold: 1e-2, epsilon: 1e-7)
        case .paper:
            return ClippyAdagradOptions(variableRelativeThreshold: 0.5, absoluteThreshold: 1e-2, epsilon: 0,
                                        useStandardAccumulatorUpdate: true)
        case .tfrs:
            return ClippyAdagradOptions(variableRelativeThreshold: 0.1, absoluteThreshold: 1e-7, epsilon: 1e-7)
        }
    }
}

/// Settings of `ClippyAdagrad`, with the TFRS names (spec 4.2.2). The
/// memberwise defaults are the `project` preset.
public struct ClippyAdagradOptions: Equatable, Sendable {
    /// Accumulator start value (`>= 0`).
    public var initialAccumulatorValue: Float
    /// `rel`: bound term `rel * |w|` (`>= 0`; the paper's `lambda_rel`).
    public var variableRelativeThreshold: Float
    /// `acc_rel`: bound term `acc_rel / sqrt(acc + eps)` (`>= 0`).
    public var accumulatorRelativeThreshold: Float
    /// `abs`: constant bound term (`>= 0`; the paper's `lambda_abs`).
    public var absoluteThreshold: Float
    /// Added inside the square root of the preconditioner (`>= 0`).
    public var epsilon: Float
    /// Update the accumulator before the step (paper ordering) instead of after.
    public var useStandardAccumulatorUpdate: Bool
    /// Accumulate `(sigma*g)^2` instead of `g^2` (delayed ordering only).
    public var clipAccumulatorUpdate: Bool

    public init(initialAccumulatorValue: Float = 0.1, variableRelativeThreshold: Float = 0.5,
                accumulatorRelativeThreshold: Float = 0, absoluteThreshold: Float = 1e-2, epsilon: Float = 1e-7,
                useStandardAccumulatorUpdate: Bool = false, clipAccumulatorUpdate: Bool = false) {
        self.initialAccumulatorValue = initialAccumulatorValue
        self.variableRelativeThreshold = variableRelativeThreshold
        self.accumulatorRelativeThreshold = accumulatorRelativeThreshold
        self.absoluteThreshold = absoluteThreshold
        self.epsilon = epsilon
        self.useStandardAccumulatorUpdate = useStandardAccumulatorUpdate
        self.clipAccumulatorUpdate = clipAccumulatorUpdate
    }

    public static let project = ClippyPreset.project.options
    public static let paper = ClippyPreset.paper.options
    public static let tfrs = ClippyPreset.tfrs.options

    /// Checks: every threshold, the accumulator start value and epsilon are
    /// finite and `>= 0`; `initialAccumulatorValue + epsilon > 0`;
    /// `clipAccumulatorUpdate` is not combined with `useStandardAccumulatorUpdate`.
    ///
    /// - Throws: `OptimizerConfigurationError`.
    public func validate() throws {
        try OptimizerConfigurationError.requireNonNegative(initialAccumulatorValue, "initial_accumulator_value")
        try OptimizerConfigurationError.requireNonNegative(variableRelativeThreshold, "variable_relative_threshold")
        try OptimizerConfigurationError.requireNonNegative(accumulatorRelativeThreshold, "accumulator_relative_threshold")
        try OptimizerConfigurationError.requireNonNegative(absoluteThreshold, "absolute_threshold")
        try OptimizerConfigurationError.requireNonNegative(epsilon, "epsilon")
        guard initialAccumulatorValue + epsilon > 0 else { throw OptimizerConfigurationError.zeroAccumulatorAndEpsilon }
        if clipAccumulatorUpdate && useStandardAccumulatorUpdate {
            throw OptimizerConfigurationError.clipAccumulatorUpdateWithStandardUpdate
        }
    }
}

/// Clippy Adagrad with the full TFRS semantics (spec 4.2.2), which contain
/// the paper's form (`paper` preset).
///
/// One step on one parameter tensor `w` with gradient `g` and accumulator `acc`:
///
///     if useStandardAccumulatorUpdate:  acc <- acc + g*g
///     P      = 1/sqrt(acc + eps)
///     delta  = lr * g * P
///     bound  = abs + rel*|w| + acc_rel*P            (w before the step)
///     sigma  = min(1, min over j with delta_j != 0 of bound_j / |delta_j|)
///     if not useStandardAccumulatorUpdate:
///         acc <- acc + (clipAccumulatorUpdate ? (sigma*g)^2 : g^2)
///     w      <- w - sigma * delta
///
/// `sigma` is computed by `ShrinkByReferences` (`delta` against references
/// `w` and `P`): one `sigma` per tensor and step — a weight matrix and its bias
/// are clipped independently. An embedding table gathers the rows touched in
/// this step (duplicates already summed) and treats them **as one tensor**:
/// one `sigma` over all their coordinates, and only those rows and their
/// accumulator rows change; an empty sparse gradient changes nothing
/// (factor 1).
///
/// Edge cases: `sigma = 1` for an empty or all-zero update; a coordinate with
/// `bound_j = 0` and `delta_j != 0` gives `sigma = 0` (no movement), which is
/// counted in the step report and listed by `zeroBoundParameters`; so does an
/// update that overflowed to infinity. Values are `Float`; the ratios
/// `bound_j/|delta_j|` and their minimum are formed in `Double`.
///
/// See `Optimizer` for non-finite gradients, binding, state and allocation.
public final class ClippyAdagrad: Optimizer {
    public let options: ClippyAdagradOptions
    private let store: AccumulatorStore
    private let preconditionScratch = ScratchBuffer<Float>()
    private let deltaScratch = ScratchBuffer<Float>()
    private let boundScratch = ScratchBuffer<Float>()

    /// - Throws: `OptimizerConfigurationError` when `options` are invalid.
    public init(options: ClippyAdagradOptions = .project) throws {
        try options.validate()
        self.options = options
        store = AccumulatorStore(initialValue: options.initialAccumulatorValue)
    }

    /// The optimizer with a preset's settings.
    public convenience init(preset: ClippyPreset) {
        // Presets are valid by construction.
        try! self.init(options: preset.options)
    }

    public func prepare(for parameters: [Parameter]) { store.bind(parameters) }

    public var parameterNames: [String] { store.names }
    public var scalarState: OptimizerScalarState { store.scalars }
    public func clippingFactor(at index: Int) -> Float { store.factor(at: index) }
    public func clippingFactor(named name: String) -> Float? { store.factor(named: name) }
    public func stateTensors() -> [(name: String, value: Matrix)] { store.stateTensors() }

    /// Names of the parameters whose factor the last applied step forced to 0
    /// (a zero bound with a non-zero update).
    public var zeroBoundParameters: [String] { store.zeroBoundParameters }

    public func restoreState(tensors: [(name: String, value: Matrix)], scalars: OptimizerScalarState,
                             parameters: [Parameter]) throws {
        try store.restore(tensors: tensors, scalars: scalars, parameters: parameters)
    }

    @discardableResult
    public func step(parameters: [Parameter], learningRate: Float) -> OptimizerStepReport {
        precondition(learningRate.isFinite && learningRate >= 0, "learning rate must be finite and >= 0, got \(learningRate)")
        store.bind(parameters)
        if let skipped = GradientScan.nonFiniteReport(parameters) {
            store.scalars.skippedStepCount += 1
            return skipped
        }
        var clipped = 0, zeroBound = 0
        for i in 0..<parameters.count {
            let p = parameters[i]
            let accumulator = store.accumulators[i]
            let sigma: Float
            switch p.kind {
            case .dense: sigma = updateDense(p, accumulator: accumulator, learningRate: learningRate)
            case .embedding: sigma = updateRows(p, accumulator: accumulator, learningRate: learningRate)
            }
            store.setFactor(sigma, zeroBound: sigma == 0, at: i)
            if sigma < 1 { clipped += 1 }
            if sigma == 0 { zeroBound += 1 }
        }
        store.scalars.stepCount += 1
        return OptimizerStepReport(applied: true, clippedParameterCount: clipped, zeroBoundParameterCount: zeroBound)
    }

    /// Dense tensor (one "row" of `count` coordinates): returns `sigma`.
    private func updateDense(_ p: Parameter, accumulator: Matrix, learningRate lr: Float) -> Float {
        let n = p.count
        let w = p.value.data, acc = accumulator.data, g = p.grad.data
        let precondition = preconditionScratch.reserve(n), delta = deltaScratch.reserve(n)
        let bound = boundScratch.reserve(n)
        computeDelta(accumulator: acc, gradient: g, count: n, learningRate: lr, precondition: precondition, delta: delta)
        ShrinkByReferences.fillMaximumDelta(bound, count: n, absoluteFactor: options.absoluteThreshold)
        ShrinkByReferences.addReference(w, relativeFactor: options.variableRelativeThreshold, into: bound, count: n)
        ShrinkByReferences.addReference(precondition, relativeFactor: options.accumulatorRelativeThreshold,
                                        into: bound, count: n)
        let sigma = Float(ShrinkByReferences.scale(of: delta, maximumDelta: bound, count: n))
        finish(weight: w, accumulator: acc, gradient: g, delta: delta, count: n, sigma: sigma)
        return sigma
    }

    /// Embedding table: the touched rows as one tensor; returns `sigma`.
    private func updateRows(_ p: Parameter, accumulator: Matrix, learningRate lr: Float) -> Float {
        guard let sparse = p.sparseGrad, sparse.rowCount > 0 else { return 1 }
        let d = p.cols, k = sparse.rowCount, n = k * d
        let w = p.value.data, acc = accumulator.data, g = sparse.values.data
        let precondition = preconditionScratch.reserve(n), delta = deltaScratch.reserve(n)
        let bound = boundScratch.reserve(n)
        return sparse.rowIDs.withUnsafeBufferPointer { ids -> Float in
            for s in 0..<k {
                computeDelta(accumulator: acc + Int(ids[s]) * d, gradient: g + s * d, count: d, learningRate: lr,
                             precondition: precondition + s * d, delta: delta + s * d)
            }
            ShrinkByReferences.fillMaximumDelta(bound, count: n, absoluteFactor: options.absoluteThreshold)
            for s in 0..<k {
                ShrinkByReferences.addReference(w + Int(ids[s]) * d, relativeFactor: options.variableRelativeThreshold,
                                                into: bound + s * d, count: d)
            }
            ShrinkByReferences.addReference(precondition, relativeFactor: options.accumulatorRelativeThreshold,
                                            into: bound, count: n)
            let sigma = Float(ShrinkByReferences.scale(of: delta, maximumDelta: bound, count: n))
            for s in 0..<k {
                let row = Int(ids[s]) * d
                finish(weight: w + row, accumulator: acc + row, gradient: g + s * d, delta: delta + s * d,
                       count: d, sigma: sigma)
            }
            return sigma
        }
    }

    /// Standard ordering's accumulator update, then `P = 1/sqrt(acc + eps)`
    /// and `delta = lr * g * P`.
    @inline(__always)
    private func computeDelta(accumulator acc: UnsafeMutablePointer<Float>, gradient g: UnsafePointer<Float>,
                              count: Int, learningRate lr: Float,
                              precondition: UnsafeMutablePointer<Float>, delta: UnsafeMutablePointer<Float>) {
        let eps = options.epsilon
        if options.useStandardAccumulatorUpdate {
            for j in 0..<count { acc[j] += g[j] * g[j] }
        }
        // Eight lanes at a time (same arithmetic as the scalar tail).
        let one = SIMD8<Float>(repeating: 1), epsilon = SIMD8<Float>(repeating: eps), rate = SIMD8<Float>(repeating: lr)
        var j = 0
        while j + 8 <= count {
            let p = one / (VectorKernels.load(acc + j) + epsilon).squareRoot()
            VectorKernels.store(p, precondition + j)
            VectorKernels.store(rate * VectorKernels.load(g + j) * p, delta + j)
            j += 8
        }
        while j < count {
            let p = 1 / (acc[j] + eps).squareRoot()
            precondition[j] = p
            delta[j] = lr * g[j] * p
            j += 1
        }
    }

    /// Delayed ordering's accumulator update, then `w <- w - sigma * delta`
    /// (skipped when `sigma == 0`, so an infinite `delta` cannot leak a NaN).
    @inline(__always)
    private func finish(weight w: UnsafeMutablePointer<Float>, accumulator acc: UnsafeMutablePointer<Float>,
                        gradient g: UnsafePointer<Float>, delta: UnsafePointer<Float>, count: Int, sigma: Float) {
        if !options.useStandardAccumulatorUpdate {
            if options.clipAccumulatorUpdate {
                for j in 0..<count {
                    let clipped = sigma * g[j]
                    acc[j] += clipped * clipped
                }
            } else {
                for j in 0..<count { acc[j] += g[j] * g[j] }
            }
        }
        if sigma > 0 { VectorKernels.addScaled(delta, by: -sigma, into: w, count: count) }
    }
}
