/// Clippy Adagrad with the full TFRS semantics (ALGORITHMS.md 4.2.2), which contain
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
/// State: the accumulator `acc`. `ClippyAdagrad` is the optimizer that drives it.
public struct ClippyAdagradRule: UpdateRule {
    public let options: ClippyAdagradOptions
    private let preconditionScratch = ScratchBuffer<Float>()
    private let deltaScratch = ScratchBuffer<Float>()
    private let boundScratch = ScratchBuffer<Float>()

    public init(options: ClippyAdagradOptions) throws {
        try options.validate()
        self.options = options
    }

    public var initialStateValue: Float { options.initialAccumulatorValue }

    /// Dense tensor (one "row" of `count` coordinates): returns `sigma`.
    public func updateDense(weight w: UnsafeMutablePointer<Float>, state acc: UnsafeMutablePointer<Float>,
                            gradient g: UnsafePointer<Float>, rows: Int, cols: Int,
                            learningRate lr: Float, step: Int) -> Float {
        let n = rows * cols
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
    public func updateRows(weight w: UnsafeMutablePointer<Float>, state acc: UnsafeMutablePointer<Float>,
                           gradient g: UnsafePointer<Float>, rowIDs ids: UnsafeBufferPointer<Int32>, cols d: Int,
                           learningRate lr: Float, step: Int) -> Float {
        let k = ids.count, n = k * d
        let precondition = preconditionScratch.reserve(n), delta = deltaScratch.reserve(n)
        let bound = boundScratch.reserve(n)
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
