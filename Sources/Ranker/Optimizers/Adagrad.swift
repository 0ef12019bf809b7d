import CBLAS

/// Adagrad (ALGORITHMS.md 4.1), with optional GC/AGC gradient clipping (ALGORITHMS.md 4.3), as
/// an update rule; `Adagrad` is the optimizer that drives it.
///
/// Per coordinate, with the (possibly clipped) gradient `g`, standard ordering:
///
///     acc <- acc + g*g
///     keras:    w <- w - lr * g / sqrt(acc + eps)
///     pytorch:  w <- w - lr * g / (sqrt(acc) + eps)
///
/// State: the accumulator `acc` (the parameter's shape, starts at
/// `initialAccumulatorValue`). Embedding tables apply the rule to the touched
/// rows and their accumulator rows only. Each tensor is clipped on its own
/// unless global GC is chosen. The clipping factor of a tensor is 1 without
/// clipping, `min(1, c/||g||)` for GC and the smallest unit factor for AGC.
/// All arithmetic is `Float`; norms for clipping are accumulated in `Double`.
public struct AdagradRule: UpdateRule {
    public let options: AdagradOptions
    private let unitFactors = ScratchBuffer<Float>()
    private let weightSquares = ScratchBuffer<Double>()
    private let gradientSquares = ScratchBuffer<Double>()
    /// Global GC: `min(1, c/||g||)` over every gradient of this step.
    private var globalFactor: Float = 1

    public init(options: AdagradOptions) throws {
        try options.validate()
        self.options = options
    }

    public var initialStateValue: Float { options.initialAccumulatorValue }

    public mutating func beginStep(parameters: [Parameter]) {
        guard case .gradientNorm(let threshold, true) = options.clipping else { return }
        var sum = 0.0
        for p in parameters { sum += GradientScan.sumOfSquares(p) }
        globalFactor = GradientClipping.normFactor(sumOfSquares: sum, threshold: threshold)
    }

    public func updateDense(weight w: UnsafeMutablePointer<Float>, state acc: UnsafeMutablePointer<Float>,
                            gradient g: UnsafePointer<Float>, rows: Int, cols: Int,
                            learningRate lr: Float, step: Int) -> Float {
        let count = rows * cols
        switch options.clipping {
        case .none:
            apply(weight: w, accumulator: acc, gradient: g, count: count, gradientScale: 1, learningRate: lr)
            return 1
        case .gradientNorm(let threshold, let global):
            let factor = global ? globalFactor
                : GradientClipping.normFactor(sumOfSquares: GradientScan.sumOfSquares(g, count: count), threshold: threshold)
            apply(weight: w, accumulator: acc, gradient: g, count: count, gradientScale: factor, learningRate: lr)
            return factor
        case .adaptive(let lambda, let epsilon):
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

    public func updateRows(weight w: UnsafeMutablePointer<Float>, state acc: UnsafeMutablePointer<Float>,
                           gradient g: UnsafePointer<Float>, rowIDs ids: UnsafeBufferPointer<Int32>, cols d: Int,
                           learningRate lr: Float, step: Int) -> Float {
        let k = ids.count
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
