import Foundation

/// ReLU, `h = max(z, 0)`, applied in place to a `B × n` view.
///
/// Backward uses the output itself as the mask (`h > 0 ⇔ z > 0`), so no
/// separate mask buffer is kept.
public enum ReLU {
    /// `v ← max(v, 0)` elementwise.
    @inlinable
    public static func forward(_ v: MatrixView) {
        if v.isContiguous {
            VectorKernels.relu(v.data, count: v.count)
        } else {
            for r in 0..<v.rows { VectorKernels.relu(v.row(r), count: v.cols) }
        }
    }

    /// `dZ = dH · [h > 0]`, in place on `gradient` (`S·B × n`, `S` stacked copies)
    /// with the forward output `output` (`B × n`) as the mask for every copy.
    @inlinable
    public static func backward(gradient: MatrixView, output: MatrixView) {
        precondition(gradient.cols == output.cols && output.rows > 0 && gradient.rows % output.rows == 0,
                     "ReLU backward: gradient \(gradient.rows)×\(gradient.cols) vs output \(output.rows)×\(output.cols)")
        let batch = output.rows
        if gradient.isContiguous && output.isContiguous {
            // One run per stacked copy.
            for t in 0..<(gradient.rows / batch) {
                VectorKernels.reluMask(gradient.row(t * batch), output: output.data, count: output.count)
            }
            return
        }
        for r in 0..<gradient.rows {
            VectorKernels.reluMask(gradient.row(r), output: output.row(r % batch), count: gradient.cols)
        }
    }
}

/// The logistic function `σ(z) = 1 / (1 + e^{-z})`, evaluated without overflow
/// (ALGORITHMS.md 1.1): `1/(1+e^{-z})` for `z ≥ 0`, `e^{z}/(1+e^{z})` otherwise.
@inlinable
public func sigmoid(_ z: Double) -> Double {
    if z >= 0 {
        return 1 / (1 + exp(-z))
    }
    let e = exp(z)
    return e / (1 + e)
}

/// `σ(z)` in single precision, overflow-free.
@inlinable
public func sigmoid(_ z: Float) -> Float {
    if z >= 0 {
        return 1 / (1 + expf(-z))
    }
    let e = expf(z)
    return e / (1 + e)
}

/// Sigmoid as a layer over a view (in place); backward `dz = dp · p (1 - p)`.
public enum Sigmoid {
    /// `v ← σ(v)` elementwise.
    public static func forward(_ v: MatrixView) {
        for r in 0..<v.rows {
            let p = v.row(r)
            for c in 0..<v.cols { p[c] = sigmoid(p[c]) }
        }
    }

    /// `gradient ← gradient · p (1 - p)` with `p` the forward output
    /// (`output` is `B × n`; `gradient` stacks `S` copies).
    public static func backward(gradient: MatrixView, output: MatrixView) {
        precondition(gradient.cols == output.cols && output.rows > 0 && gradient.rows % output.rows == 0)
        let batch = output.rows
        for r in 0..<gradient.rows {
            let g = gradient.row(r)
            let p = output.row(r % batch)
            for c in 0..<gradient.cols { g[c] *= p[c] * (1 - p[c]) }
        }
    }
}

/// Softmax over each row (ALGORITHMS.md 1.3): `p_e = exp(a_e - max a) / Σ_f exp(a_f - max a)`.
public enum RowSoftmax {
    /// `v ← softmax(v)` row by row, in place.
    public static func forward(_ v: MatrixView) {
        for r in 0..<v.rows {
            let p = v.row(r)
            var m = -Float.infinity
            for c in 0..<v.cols { m = max(m, p[c]) }
            var s: Float = 0
            for c in 0..<v.cols {
                let e = expf(p[c] - m)
                p[c] = e
                s += e
            }
            let inv = 1 / s
            for c in 0..<v.cols { p[c] *= inv }
        }
    }

    /// `da_e = p_e (dp_e - Σ_f p_f dp_f)`, in place on `gradient`
    /// (`S·B × n`, stacked copies) with the forward output `probabilities` (`B × n`).
    public static func backward(gradient: MatrixView, probabilities: MatrixView) {
        precondition(gradient.cols == probabilities.cols && probabilities.rows > 0
                     && gradient.rows % probabilities.rows == 0)
        let batch = probabilities.rows
        for r in 0..<gradient.rows {
            let g = gradient.row(r)
            let p = probabilities.row(r % batch)
            var dot: Float = 0
            for c in 0..<gradient.cols { dot += p[c] * g[c] }
            for c in 0..<gradient.cols { g[c] = p[c] * (g[c] - dot) }
        }
    }
}
