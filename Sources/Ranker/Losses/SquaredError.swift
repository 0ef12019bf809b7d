/// Squared error for regression tasks (ALGORITHMS.md 1.4); the prediction is the raw
/// logit (no output activation).
///
///     loss(z, y) = (z - y)²,      dloss/dz = 2 (z - y)
///
/// The batch form is the mean, `L = (1/B) Σ_b (z_b - y_b)²`, with
/// `dL/dz_b = 2 (z_b - y_b) / B`. NaN and infinities propagate.
public enum SquaredError {
    /// `(z - y)²`.
    @inlinable
    public static func loss(prediction z: Double, target y: Double) -> Double {
        let d = z - y
        return d * d
    }

    /// `2 (z - y)`.
    @inlinable
    public static func gradient(prediction z: Double, target y: Double) -> Double {
        2 * (z - y)
    }

    /// Mean squared error over one task column: `predictions`, `targets` and
    /// `gradient` are `B × 1` views (any leading dimension).
    ///
    /// Differences are taken and summed in double precision. When `gradient`
    /// is given, `gradient[b]` receives `gradientScale · 2 (z_b - y_b) / B`:
    /// overwritten, or added to what it holds when `accumulate` is set.
    ///
    /// - Returns: `(1/B) Σ_b (z_b - y_b)²` (unscaled).
    /// - Precondition: `B > 0`; every view is `B × 1`.
    public static func meanLoss(predictions: MatrixView, targets: MatrixView,
                                gradient: MatrixView?, gradientScale: Float = 1,
                                accumulate: Bool = false) -> Double {
        let count = predictions.rows
        precondition(count > 0, "SquaredError: empty batch")
        precondition(predictions.cols == 1 && targets.cols == 1 && targets.rows == count,
                     "SquaredError: predictions \(predictions.rows)×\(predictions.cols) and targets \(targets.rows)×\(targets.cols) must be B × 1")
        if let g = gradient {
            precondition(g.cols == 1 && g.rows == count, "SquaredError: gradient is \(g.rows)×\(g.cols), expected \(count) × 1")
        }
        let z = predictions.data, zStride = predictions.ld
        let y = targets.data, yStride = targets.ld
        let factor = 2 * Double(gradientScale) / Double(count)
        var sum = 0.0
        for b in 0..<count {
            let d = Double(z[b * zStride]) - Double(y[b * yStride])
            sum += d * d
            if let g = gradient {
                let value = Float(factor * d)
                if accumulate { g.data[b * g.ld] += value } else { g.data[b * g.ld] = value }
            }
        }
        return sum / Double(count)
    }

    /// Double-precision batch form: the mean loss and `2 (z_b - y_b) / B` (allocates).
    public static func meanLoss(predictions: [Double], targets: [Double]) -> (loss: Double, gradient: [Double]) {
        precondition(!predictions.isEmpty && predictions.count == targets.count,
                     "SquaredError: \(predictions.count) predictions and \(targets.count) targets")
        return PointwiseMeanLoss.mean(count: predictions.count) { b in
            let d = predictions[b] - targets[b]
            return (d * d, 2 * d)
        }
    }
}
