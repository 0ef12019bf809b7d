import Foundation

/// The ESMM CTCVR loss (ALGORITHMS.md 1.2): cross-entropy of the label
/// `y = click AND conversion` against `pCTCVR = p·q`, with `p = σ(a)` from the
/// CTR logit `a` and `q = σ(b)` from the CVR logit `b`:
///
///     loss = -[ y·log(pq) + (1-y)·log(1-pq) ]
///
/// Everything is computed in log space, so `1 - pq` keeps its precision for
/// confident predictions:
///
///     u          = log p + log q = -softplus(-a) - softplus(-b)        (u ≤ 0)
///     log(1-pq)  = log1mexp(u) = u > -ln 2 ? log(-expm1(u)) : log1p(-exp(u))
///     c          = -y + (1-y) / expm1(-u)          (= dloss/dlog p = dloss/dlog q)
///     dloss/da   = (1-p)·c,   1-p = σ(-a)
///     dloss/db   = (1-q)·c,   1-q = σ(-b)
///
/// For `y = 1` the `(1-y)` terms are dropped explicitly (`loss = -u`,
/// `dloss/da = -(1-p)`, `dloss/db = -(1-q)`), so `0·∞` never appears when `u`
/// rounds to 0; for `y = 0` the `y` terms are dropped. Soft labels in (0, 1)
/// use the full formula.
///
/// Edge behaviour: loss and gradients keep full relative precision (a few
/// ulps; checked against an independent probability-space evaluation from
/// |logit| = 800 down) unless both `a` and `b` exceed ≈ 745, where `exp(-a)`
/// and `exp(-b)` underflow, `u` rounds to 0 and `pq` to 1: there a label
/// `y = 0` gives `loss = +∞` and non-finite gradients (`y = 1` stays finite).
/// NaN logits propagate.
public enum CTCVRCrossEntropy {
    /// `softplus(x) = log(1 + eˣ) = max(x, 0) + log1p(exp(-|x|))`, overflow-free.
    @inlinable
    static func softplus(_ x: Double) -> Double {
        max(x, 0) + log1p(exp(-abs(x)))
    }

    /// `log(1 - eᵘ)` for `u ≤ 0`, with the branch at `-ln 2` that keeps full precision.
    @inlinable
    static func log1mexp(_ u: Double) -> Double {
        u > -0.693_147_180_559_945_309_42 ? log(-expm1(u)) : log1p(-exp(u))
    }

    /// Loss and both logit gradients of one example.
    ///
    /// - Parameters:
    ///   - a: the CTR logit.
    ///   - b: the CVR logit.
    ///   - y: the CTCVR label (`click · conversion`), in [0, 1].
    /// - Returns: `loss`, `ctrGradient = dloss/da`, `cvrGradient = dloss/db`.
    @inlinable
    public static func evaluate(ctrLogit a: Double, cvrLogit b: Double, label y: Double)
        -> (loss: Double, ctrGradient: Double, cvrGradient: Double) {
        let u = -softplus(-a) - softplus(-b)
        let oneMinusP = sigmoid(-a)
        let oneMinusQ = sigmoid(-b)
        if y == 1 {
            return (-u, -oneMinusP, -oneMinusQ)
        }
        let c: Double
        let loss: Double
        if y == 0 {
            loss = -log1mexp(u)
            c = 1 / expm1(-u)
        } else {
            loss = -(y * u + (1 - y) * log1mexp(u))
            c = -y + (1 - y) / expm1(-u)
        }
        return (loss, oneMinusP * c, oneMinusQ * c)
    }

    /// The loss of one example (see `evaluate`).
    @inlinable
    public static func loss(ctrLogit a: Double, cvrLogit b: Double, label y: Double) -> Double {
        evaluate(ctrLogit: a, cvrLogit: b, label: y).loss
    }

    /// Mean loss over one batch, from `B × 1` views (task columns of logit and
    /// label matrices, any leading dimension).
    ///
    /// Each example is evaluated in double precision, the sum accumulated in
    /// double. When given, `ctrGradient[b]` and `cvrGradient[b]` receive
    /// `gradientScale · dloss_b/da_b / B` and `gradientScale · dloss_b/db_b / B`:
    /// overwritten, or added to what they hold when `accumulate` is set (ESMM
    /// adds this to the CTR loss's gradient on the same logit `a`).
    ///
    /// - Returns: `(1/B) Σ_b loss_b` (unscaled).
    /// - Precondition: `B > 0`; every view is `B × 1`.
    public static func meanLoss(ctrLogits: MatrixView, cvrLogits: MatrixView, labels: MatrixView,
                                ctrGradient: MatrixView?, cvrGradient: MatrixView?,
                                gradientScale: Float = 1, accumulate: Bool = false) -> Double {
        let count = ctrLogits.rows
        precondition(count > 0, "CTCVRCrossEntropy: empty batch")
        func check(_ v: MatrixView?, _ name: StaticString) {
            if let v = v {
                precondition(v.rows == count && v.cols == 1,
                             "CTCVRCrossEntropy: \(name) is \(v.rows)×\(v.cols), expected \(count) × 1")
            }
        }
        check(cvrLogits, "cvrLogits")
        check(labels, "labels")
        check(ctrGradient, "ctrGradient")
        check(cvrGradient, "cvrGradient")
        precondition(ctrLogits.cols == 1, "CTCVRCrossEntropy: ctrLogits must be B × 1")
        let a = ctrLogits.data, aStride = ctrLogits.ld
        let b = cvrLogits.data, bStride = cvrLogits.ld
        let y = labels.data, yStride = labels.ld
        let factor = Double(gradientScale) / Double(count)
        var sum = 0.0
        for i in 0..<count {
            let e = evaluate(ctrLogit: Double(a[i * aStride]), cvrLogit: Double(b[i * bStride]),
                             label: Double(y[i * yStride]))
            sum += e.loss
            if let g = ctrGradient {
                let value = Float(factor * e.ctrGradient)
                if accumulate { g.data[i * g.ld] += value } else { g.data[i * g.ld] = value }
            }
            if let g = cvrGradient {
                let value = Float(factor * e.cvrGradient)
                if accumulate { g.data[i * g.ld] += value } else { g.data[i * g.ld] = value }
            }
        }
        return sum / Double(count)
    }

    /// Double-precision batch form: the mean loss and the gradients of the mean
    /// with respect to each `a_b` and `b_b` (already divided by `B`; allocates).
    public static func meanLoss(ctrLogits: [Double], cvrLogits: [Double], labels: [Double])
        -> (loss: Double, ctrGradient: [Double], cvrGradient: [Double]) {
        let count = ctrLogits.count
        precondition(count > 0 && cvrLogits.count == count && labels.count == count,
                     "CTCVRCrossEntropy: \(ctrLogits.count) CTR logits, \(cvrLogits.count) CVR logits, \(labels.count) labels")
        let n = Double(count)
        var sum = 0.0
        var da = [Double](repeating: 0, count: count)
        var db = [Double](repeating: 0, count: count)
        for i in 0..<count {
            let e = evaluate(ctrLogit: ctrLogits[i], cvrLogit: cvrLogits[i], label: labels[i])
            sum += e.loss
            da[i] = e.ctrGradient / n
            db[i] = e.cvrGradient / n
        }
        return (sum / n, da, db)
    }
}
