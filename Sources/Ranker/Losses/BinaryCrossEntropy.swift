import Foundation

/// Binary cross-entropy on logits (ALGORITHMS.md 1.1), the loss of every binary task.
///
/// For a logit `z` and a label `y` in {0, 1} (soft labels in [0, 1] also work):
///
///     loss(z, y) = max(z, 0) - z·y + log1p(exp(-|z|))
///     dloss/dz   = σ(z) - y
///
/// This form never overflows: it is finite for |z| = 800 and beyond (as long
/// as `z` itself is finite), and `σ` is the overflow-free `sigmoid(_:)`.
/// Non-finite logits give a non-finite loss (NaN propagates; `z = +∞` with
/// `y = 1` is NaN), never a silently finite number.
///
/// The batch form is the per-task loss of a model head: the mean over the
/// batch, `L = (1/B) Σ_b loss(z_b, y_b)`, with `dL/dz_b = (σ(z_b) - y_b)/B`.
public enum BinaryCrossEntropy {
    /// `max(z, 0) - z·y + log1p(exp(-|z|))`.
    @inlinable
    public static func loss(logit z: Double, label y: Double) -> Double {
        max(z, 0) - z * y + log1p(exp(-abs(z)))
    }

    /// `σ(z) - y`.
    @inlinable
    public static func gradient(logit z: Double, label y: Double) -> Double {
        sigmoid(z) - y
    }

    /// Mean loss over `count` examples of one task, reading `Float` logits and
    /// labels with arbitrary strides (a task column of a `B × T` matrix has
    /// stride `T`).
    ///
    /// Every example is evaluated in double precision and the sum accumulated in
    /// double. When `gradient` is given, `gradient[b · gradientStride]` receives
    /// `gradientScale · (σ(z_b) - y_b) / count`: overwritten, or added to what it
    /// holds when `accumulate` is set (ESMM adds its CTCVR gradient to the same
    /// CTR logit).
    ///
    /// - Returns: `(1/count) Σ_b loss(z_b, y_b)` (unscaled).
    /// - Precondition: `count > 0`, strides ≥ 1.
    public static func meanLoss(count: Int,
                                logits: UnsafePointer<Float>, logitStride: Int,
                                labels: UnsafePointer<Float>, labelStride: Int,
                                gradient: UnsafeMutablePointer<Float>?, gradientStride: Int,
                                gradientScale: Float = 1, accumulate: Bool = false) -> Double {
        precondition(count > 0, "BinaryCrossEntropy: empty batch")
        precondition(logitStride >= 1 && labelStride >= 1 && gradientStride >= 1,
                     "BinaryCrossEntropy: strides must be positive")
        let factor = Double(gradientScale) / Double(count)
        var sum = 0.0
        if let gradient = gradient {
            for b in 0..<count {
                let z = Double(logits[b * logitStride])
                let y = Double(labels[b * labelStride])
                sum += loss(logit: z, label: y)
                let g = Float(factor * (sigmoid(z) - y))
                if accumulate { gradient[b * gradientStride] += g } else { gradient[b * gradientStride] = g }
            }
        } else {
            for b in 0..<count {
                sum += loss(logit: Double(logits[b * logitStride]), label: Double(labels[b * labelStride]))
            }
        }
        return sum / Double(count)
    }

    /// Mean loss over one task column: `logits`, `labels` and `gradient` are
    /// `B × 1` views (for example `logits.cols(k ..< k + 1)` of a `B × T`
    /// logit matrix); see the pointer form for the semantics.
    public static func meanLoss(logits: MatrixView, labels: MatrixView,
                                gradient: MatrixView?, gradientScale: Float = 1,
                                accumulate: Bool = false) -> Double {
        precondition(logits.cols == 1 && labels.cols == 1 && logits.rows == labels.rows,
                     "BinaryCrossEntropy: logits \(logits.rows)×\(logits.cols) and labels \(labels.rows)×\(labels.cols) must be B × 1")
        if let g = gradient {
            precondition(g.cols == 1 && g.rows == logits.rows,
                         "BinaryCrossEntropy: gradient is \(g.rows)×\(g.cols), expected \(logits.rows) × 1")
        }
        return meanLoss(count: logits.rows,
                        logits: logits.data, logitStride: logits.ld,
                        labels: labels.data, labelStride: labels.ld,
                        gradient: gradient?.data, gradientStride: gradient?.ld ?? 1,
                        gradientScale: gradientScale, accumulate: accumulate)
    }

    /// Double-precision batch form: the mean loss and `dL/dz_b = (σ(z_b) - y_b)/B`
    /// (allocates; for evaluation and tests).
    public static func meanLoss(logits: [Double], labels: [Double]) -> (loss: Double, gradient: [Double]) {
        precondition(!logits.isEmpty && logits.count == labels.count,
                     "BinaryCrossEntropy: \(logits.count) logits and \(labels.count) labels")
        return PointwiseMeanLoss.mean(count: logits.count) { b in
            (loss(logit: logits[b], label: labels[b]), sigmoid(logits[b]) - labels[b])
        }
    }
}
