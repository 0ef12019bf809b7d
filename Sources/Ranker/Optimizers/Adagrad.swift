import CBLAS
/// Which Adagrad update formula to use (spec 4.1).
public enum AdagradForm: String, Codable, CaseIterable, Sendable {
    /// Keras/TF: `w <- w - lr * g / sqrt(acc + eps)` (project default).
    case keras
    /// PyTorch: `w <- w - lr * g / (sqrt(acc) + eps)`.
    case pytorch
}

/// Settings of `Adagrad`.
public struct AdagradOptions: Equatable, Sendable {
    public var form: AdagradForm
    /// Value every accumulator starts from (`>= 0`).
    public var initialAccumulatorValue: Float
    /// `eps` of the update formula (`>= 0`).
    public var epsilon: Float
    /// Gradient clipping applied before the step (GC/AGC baselines, spec 4.3).
    public var clipping: GradientClipping

    public init(form: AdagradForm = .keras, initialAccumulatorValue: Float = 0.1, epsilon: Float = 1e-7,
                clipping: GradientClipping = .none) {
        self.form = form
        self.initialAccumulatorValue = initialAccumulatorValue
        self.epsilon = epsilon
        self.clipping = clipping
    }

    /// Project default (**Decision**, spec 4.1): Keras form, accumulator 0.1, eps 1e-7.
    public static let keras = AdagradOptions()
    /// PyTorch defaults: accumulator 0, eps 1e-10.
    public static let pytorch = AdagradOptions(form: .pytorch, initialAccumulatorValue: 0, epsilon: 1e-10)

    /// Checks: accumulator and epsilon finite and `>= 0` with a positive sum,
    /// and valid clipping settings.
    ///
    /// - Throws: `OptimizerConfigurationError`.
    public func validate() throws {
        try OptimizerConfigurationError.requireNonNegative(initialAccumulatorValue, "initial_accumulator_value")
        try OptimizerConfigurationError.requireNonNegative(epsilon, "epsilon")
        guard initialAccumulatorValue + epsilon > 0 else { throw OptimizerConfigurationError.zeroAccumulatorAndEpsilon }
        try clipping.validate()
    }
}

/// Adagrad (spec 4.1), with optional GC/AGC gradient clipping (spec 4.3).
///
/// Per coordinate, with the (possibly clipped) gradient `g`, standard ordering:
///
///     acc <- acc + g*g
///     keras:    w <- w - lr * g / sqrt(acc + eps)
///     pytorch:  w <- w - lr * g / (sqrt(acc) + eps)
///
/// Dense parameters use `grad`; embedding tables apply the same rule to the
/// touched rows of `sparseGrad` (duplicates already summed) and their
/// accumulator rows only; untouched rows and an empty sparse gradient change
/// nothing. Each tensor is clipped on its own unless global GC is chosen.
/// The clipping factor of a parameter is 1 without clipping, `min(1, c/||g||)`
/// for GC and the smallest unit factor for AGC. All arithmetic is `Float`;
/// norms for clipping are accumulated in `Double`.
///
/// See `Optimizer` for non-finite gradients, binding, state and allocation.
public final class Adagrad: Optimizer {
    public let options: AdagradOptions
    private let store: AccumulatorStore
    private let unitFactors = ScratchBuffer<Float>()
    private let weightSquares = ScratchBuffer<Double>()
    private let gradientSquares = ScratchBuffer<Double>()

    /// - Throws: `OptimizerConfigurationError` when `options` are invalid.
    public init(options: AdagradOptions = .keras) throws {
        try options.validate()
        self.options = options
        store = AccumulatorStore(initialValue: options.initialAccumulatorValue)
    }

    /// - Throws: `OptimizerConfigurationError` when the settings are invalid.
    public convenience init(form: AdagradForm = .keras, initialAccumulatorValue: Float = 0.1,
                            epsilon: Float = 1e-7, clipping: GradientClipping = .none) throws {
        try self.init(options: AdagradOptions(form: form, initialAccumulatorValue: initialAccumulatorValue,
                                              epsilon: epsilon, clipping: clipping))
    }

    public func prepare(for parameters: [Parameter]) { store.bind(parameters) }

    public var parameterNames: [String] { store.names }
    public var scalarState: OptimizerScalarState { store.scalars }
    public func clippingFactor(at index: Int) -> Float { store.factor(at: index) }
    public func clippingFactor(named name: String) -> Float? { store.factor(named: name) }
    public func stateTensors() -> [(name: String, value: Matrix)] { store.stateTensors() }

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
        var globalFactor: Float = 1
        if case .gradientNorm(let threshold, true) = options.clipping {
            var sum = 0.0
            for p in parameters { sum += GradientScan.sumOfSquares(p) }
            globalFactor = GradientClipping.normFactor(sumOfSquares: sum, threshold: threshold)
        }
        var clipped = 0
        for i in 0..<parameters.count {
            let p = parameters[i]
            let accumulator = store.accumulators[i]
            let factor: Float
            switch p.kind {
            case .dense:
                factor = updateDense(p, accumulator: accumulator, learningRate: learningRate, globalFactor: globalFactor)
            case .embedding:
                factor = updateRows(p, accumulator: accumulator, learningRate: learningRate, globalFactor: globalFactor)
            }
            store.setFactor(factor, zeroBound: false, at: i)
            if factor < 1 { clipped += 1 }
        }
        store.scalars.stepCount += 1
        return OptimizerStepReport(applied: true, clippedParameterCount: clipped)
    }

    /// Dense tensor: returns its clipping factor.
    private func updateDense(_ p: Parameter, accumulator: Matrix, learningRate lr: Float, globalFactor: Float) -> Float {
        let w = p.value.data, acc = accumulator.data, g = p.grad.data
        switch options.clipping {
        case .none:
            apply(weight: w, accumulator: acc, gradient: g, count: p.count, gradientScale: 1, learningRate: lr)
            return 1
        case .gradientNorm(let threshold, let global):
            let factor = global ? globalFactor
                : GradientClipping.normFactor(sumOfSquares: GradientScan.sumOfSquares(g, count: p.count), threshold: threshold)
            apply(weight: w, accumulator: acc, gradient: g, count: p.count, gradientScale: factor, learningRate: lr)
            return factor
        case .adaptive(let lambda, let epsilon):
            let rows = p.rows, cols = p.cols
            let factors = unitFactors.reserve(cols)
            let smallest = GradientClipping.columnFactors(
                weight: w, gradient: g, rows: rows, cols: cols, lambda: lambda, epsilon: epsilon,
                weightSquares: weightSquares.reserve(cols), gradientSquares: gradientSquares.reserve(cols),
                factors: factors)
            for r in 0..<rows {
                apply(weight: w + r * cols, accumulator: acc + r * cols, gradient: g + r * cols, count: cols,
                      gradientScales: factors, learningRate: lr)
            }
            return smallest
        }
    }

    /// Embedding table: the touched rows only; returns its clipping factor.
    private func updateRows(_ p: Parameter, accumulator: Matrix, learningRate lr: Float, globalFactor: Float) -> Float {
        guard let sparse = p.sparseGrad, sparse.rowCount > 0 else { return 1 }
        let d = p.cols, k = sparse.rowCount
        let w = p.value.data, acc = accumulator.data, g = sparse.values.data
        return sparse.rowIDs.withUnsafeBufferPointer { ids -> Float in
            switch options.clipping {
            case .none, .gradientNorm:
                var factor: Float = 1
                if case .gradientNorm(let threshold, let global) = options.clipping {
                    factor = global ? globalFactor
                        : GradientClipping.normFactor(sumOfSquares: GradientScan.sumOfSquares(g, count: k * d),
                                                      threshold: threshold)
                }
                for s in 0..<k {
                    if s + prefetchDistance < k {
                        prefetchRow(Int(ids[s + prefetchDistance]) * d, count: d, w, acc)
                    }
                    let row = Int(ids[s]) * d
                    apply(weight: w + row, accumulator: acc + row, gradient: g + s * d, count: d,
                          gradientScale: factor, learningRate: lr)
                }
                return factor
            case .adaptive(let lambda, let epsilon):
                var smallest: Float = 1
                for s in 0..<k {
                    let row = Int(ids[s]) * d
                    let factor = GradientClipping.unitFactor(
                        weightSumOfSquares: GradientScan.sumOfSquares(w + row, count: d),
                        gradientSumOfSquares: GradientScan.sumOfSquares(g + s * d, count: d),
                        lambda: lambda, epsilon: epsilon)
                    smallest = min(smallest, factor)
                    apply(weight: w + row, accumulator: acc + row, gradient: g + s * d, count: d,
                          gradientScale: factor, learningRate: lr)
                }
                return smallest
            }
        }
    }

    /// Rows ahead whose cache lines are requested before they are updated: the
    /// rows of a batch are scattered over the table, so without it every row
    /// waits for two cache misses (weight and accumulator) in turn.
    private let prefetchDistance = 8

    @inline(__always)
    private func prefetchRow(_ offset: Int, count: Int, _ w: UnsafeMutablePointer<Float>, _ acc: UnsafeMutablePointer<Float>) {
        var i = 0
        while i < count {
            ranker_prefetch_for_write(w + offset + i)
            ranker_prefetch_for_write(acc + offset + i)
            i += 16
        }
    }

    /// The Adagrad rule on `count` coordinates with gradient `gradientScale * g`
    /// (eight lanes at a time: the pointers may alias as far as the compiler
    /// knows, so it would not vectorize the plain loop; same arithmetic order,
    /// same results).
    @inline(__always)
    private func apply(weight w: UnsafeMutablePointer<Float>, accumulator acc: UnsafeMutablePointer<Float>,
                       gradient g: UnsafePointer<Float>, count: Int, gradientScale: Float, learningRate lr: Float) {
        let eps = options.epsilon
        let scale = SIMD8<Float>(repeating: gradientScale), rate = SIMD8<Float>(repeating: lr)
        let epsilon = SIMD8<Float>(repeating: eps)
        var j = 0
        switch options.form {
        case .keras:
            while j + 8 <= count {
                let gj = VectorKernels.load(g + j) * scale
                let a = VectorKernels.load(acc + j) + gj * gj
                VectorKernels.store(a, acc + j)
                VectorKernels.store(VectorKernels.load(w + j) - rate * gj / (a + epsilon).squareRoot(), w + j)
                j += 8
            }
            while j < count {
                let gj = g[j] * gradientScale
                let a = acc[j] + gj * gj
                acc[j] = a
                w[j] -= lr * gj / (a + eps).squareRoot()
                j += 1
            }
        case .pytorch:
            while j + 8 <= count {
                let gj = VectorKernels.load(g + j) * scale
                let a = VectorKernels.load(acc + j) + gj * gj
                VectorKernels.store(a, acc + j)
                VectorKernels.store(VectorKernels.load(w + j) - rate * gj / (a.squareRoot() + epsilon), w + j)
                j += 8
            }
            while j < count {
                let gj = g[j] * gradientScale
                let a = acc[j] + gj * gj
                acc[j] = a
                w[j] -= lr * gj / (a.squareRoot() + eps)
                j += 1
            }
        }
    }

    /// The Adagrad rule on `count` coordinates with gradient `scales[j] * g[j]`.
    @inline(__always)
    private func apply(weight w: UnsafeMutablePointer<Float>, accumulator acc: UnsafeMutablePointer<Float>,
                       gradient g: UnsafePointer<Float>, count: Int, gradientScales scales: UnsafePointer<Float>,
                       learningRate lr: Float) {
        let eps = options.epsilon
        switch options.form {
        case .keras:
            for j in 0..<count {
                let gj = g[j] * scales[j]
                let a = acc[j] + gj * gj
                acc[j] = a
                w[j] -= lr * gj / (a + eps).squareRoot()
            }
        case .pytorch:
            for j in 0..<count {
                let gj = g[j] * scales[j]
                let a = acc[j] + gj * gj
                acc[j] = a
                w[j] -= lr * gj / (a.squareRoot() + eps)
            }
        }
    }
}
