import Foundation

/// Adam (Kingma & Ba, 2015) in PyTorch's form (`torch.optim.Adam`, no weight
/// decay, no AMSGrad) as an update rule (ALGORITHMS.md 4.4); `Adam` is
/// the optimizer that drives it.
///
/// Per coordinate, with gradient `g` and the index `t` of the applied step
/// (from 1; skipped steps do not count):
///
///     m <- beta1 * m + (1 - beta1) * g
///     v <- beta2 * v + (1 - beta2) * g * g
///     c1 = 1 - beta1^t,  c2 = sqrt(1 - beta2^t)
///     w <- w - lr / c1 * m / (sqrt(v) / c2 + eps)
///
/// State: the first moment `m` and the second moment `v` (state names `"m"`,
/// `"v"`; each the parameter's shape, starting at 0; `m` may hold any finite
/// value, `v` is `>= 0`). Nothing is clipped (factor 1).
///
/// **Embedding tables (decision): lazy Adam.** Only the rows of this step's
/// sparse gradient change, and only their `m` and `v` rows decay; the bias
/// corrections use the global step count `t`, as PyTorch's `SparseAdam` and
/// TensorFlow's `LazyAdam` do. A row untouched for a while therefore keeps
/// moments from the last step that touched it (dense Adam would have decayed
/// them and moved the row with them); this keeps a step's cost proportional
/// to the batch, not the vocabulary.
///
/// The arithmetic is written once, generic over the scalar (`update(weight:…)`,
/// `update(weights:…)`): model parameters run it in `Float`, GradNorm's task
/// weights in `Double` (ALGORITHMS.md 5.3). The powers `beta^t` of the bias
/// corrections are computed in `Double` and rounded to the scalar type.
public struct AdamRule: UpdateRule {
    public let options: AdamOptions

    public init(options: AdamOptions) throws {
        try options.validate()
        self.options = options
    }

    public static let stateNames = ["m", "v"]

    public var initialStateValue: Float { 0 }

    /// `m` (state 0): any finite value; `v` (state 1): `>= 0`.
    public static func isValidStateValue(_ value: Float, state: Int) -> Bool { state == 0 || value >= 0 }

    public func updateDense(weight w: UnsafeMutablePointer<Float>, states: UnsafePointer<UnsafeMutablePointer<Float>>,
                            gradient g: UnsafePointer<Float>, rows: Int, cols: Int,
                            learningRate lr: Float, step: Int) -> Float {
        let corrections = AdamRule.biasCorrections(beta1: options.beta1, beta2: options.beta2, step: step)
        update(weight: w, firstMoment: states[0], secondMoment: states[1], gradient: g, count: rows * cols,
               learningRate: lr, corrections: corrections)
        return 1
    }

    public func updateRows(weight w: UnsafeMutablePointer<Float>, states: UnsafePointer<UnsafeMutablePointer<Float>>,
                           gradient g: UnsafePointer<Float>, rowIDs ids: UnsafeBufferPointer<Int32>, cols d: Int,
                           learningRate lr: Float, step: Int) -> Float {
        let corrections = AdamRule.biasCorrections(beta1: options.beta1, beta2: options.beta2, step: step)
        for s in 0..<ids.count {
            let row = Int(ids[s]) * d
            update(weight: w + row, firstMoment: states[0] + row, secondMoment: states[1] + row, gradient: g + s * d,
                   count: d, learningRate: lr, corrections: corrections)
        }
        return 1
    }

    @inline(__always)
    private func update(weight w: UnsafeMutablePointer<Float>, firstMoment m: UnsafeMutablePointer<Float>,
                        secondMoment v: UnsafeMutablePointer<Float>, gradient g: UnsafePointer<Float>, count: Int,
                        learningRate lr: Float, corrections: (first: Float, secondRoot: Float)) {
        for j in 0..<count {
            AdamRule.update(weight: &w[j], firstMoment: &m[j], secondMoment: &v[j], gradient: g[j], learningRate: lr,
                            beta1: options.beta1, beta2: options.beta2, epsilon: options.epsilon,
                            corrections: corrections)
        }
    }

    /// The bias corrections of step `step` (from 1): `c1 = 1 - beta1^step`
    /// and `c2 = sqrt(1 - beta2^step)`, the powers taken in `Double`.
    @inlinable
    public static func biasCorrections<F: BinaryFloatingPoint>(beta1: F, beta2: F,
                                                               step: Int) -> (first: F, secondRoot: F) {
        precondition(step >= 1, "Adam steps count from 1")
        let first = 1 - F(Foundation.pow(Double(beta1), Double(step)))
        let secondRoot = (1 - F(Foundation.pow(Double(beta2), Double(step)))).squareRoot()
        return (first, secondRoot)
    }

    /// One Adam update of one coordinate `w` with moments `m`, `v` and
    /// gradient `g`, given the step's `biasCorrections` (the formula of the
    /// type, evaluated in this order).
    @inlinable @inline(__always)
    public static func update<F: BinaryFloatingPoint>(weight w: inout F, firstMoment m: inout F, secondMoment v: inout F,
                                                      gradient g: F, learningRate lr: F, beta1: F, beta2: F,
                                                      epsilon: F, corrections: (first: F, secondRoot: F)) {
        m = beta1 * m + (1 - beta1) * g
        v = beta2 * v + (1 - beta2) * g * g
        let denominator = v.squareRoot() / corrections.secondRoot + epsilon
        w -= lr / corrections.first * m / denominator
    }

    /// One Adam step `step` (from 1) over the vectors `weights`, `gradient`
    /// and the moments (all of one length): `update(weight:…)` per
    /// coordinate. GradNorm's task weights take their step here.
    @inlinable
    public static func update<F: BinaryFloatingPoint>(weights: inout [F], gradient: [F], firstMoment: inout [F],
                                                      secondMoment: inout [F], step: Int, learningRate: F,
                                                      beta1: F, beta2: F, epsilon: F) {
        precondition(gradient.count == weights.count && firstMoment.count == weights.count
                     && secondMoment.count == weights.count, "Adam: weights, gradient and moments differ in length")
        let corrections = biasCorrections(beta1: beta1, beta2: beta2, step: step)
        for i in weights.indices {
            update(weight: &weights[i], firstMoment: &firstMoment[i], secondMoment: &secondMoment[i],
                   gradient: gradient[i], learningRate: learningRate, beta1: beta1, beta2: beta2, epsilon: epsilon,
                   corrections: corrections)
        }
    }
}
