/// Writes the gradients the optimizer applies after a multi-gradient pass.
///
/// * Shared parameters: `gradientPointer[0..<gradientCount] = Σ_t c_t · taskGrads[t]`
///   (overwritten; what was there before is ignored, NaN included).
/// * Task-specific parameters of task `k`: their own gradient `∇L_k`, already in
///   `grad` / `sparseGrad.values`, multiplied in place by `factors[k]`.
///
/// Arithmetic is in `Float` (the coefficients are rounded once to `Float`);
/// a coefficient of 0 still multiplies its row, so callers must reject
/// non-finite task gradients first (`TaskGradientGram` does).
public enum TaskGradientMixing {
    /// Writes `Σ_t coefficients[t] · taskGrads[t]` into every parameter for
    /// which `include` is true (each must be shared, with `taskGrads` shaped
    /// `T × gradientCount`).
    ///
    /// - Parameter scratch: `T` floats of workspace (kept by the caller to avoid
    ///   allocating in the step).
    public static func writeCombination(coefficients: [Double], parameters: [Parameter],
                                        scratch: inout [Float], include: (Parameter) -> Bool) {
        let t = coefficients.count
        if scratch.count != t { scratch = [Float](repeating: 0, count: t) }
        for k in 0..<t { scratch[k] = Float(coefficients[k]) }
        for parameter in parameters where include(parameter) {
            precondition(parameter.group == .shared, "parameter '\(parameter.name)' is not shared")
            let n = parameter.gradientCount
            if n == 0 { continue }   // e.g. an embedding table no example touched
            precondition(parameter.taskGrads.rows == t && parameter.taskGrads.cols == n,
                         "parameter '\(parameter.name)': taskGrads is \(parameter.taskGrads.rows) × \(parameter.taskGrads.cols), "
                         + "expected \(t) × \(n)")
            let out = parameter.gradientPointer
            let first = parameter.taskGradient(0)
            let c0 = scratch[0]
            for k in 0..<n { out[k] = c0 * first[k] }
            for task in 1..<t {
                BLAS.axpy(count: n, alpha: scratch[task], x: parameter.taskGradient(task), y: out)
            }
        }
    }

    /// Multiplies the gradient of every task-specific parameter of task `k` by
    /// `factors[k]` (no-op for a factor of exactly 1). Shared parameters are
    /// left alone.
    public static func scaleTaskSpecificGradients(factors: [Double], parameters: [Parameter]) {
        for parameter in parameters {
            guard case .task(let k) = parameter.group else { continue }
            precondition(k >= 0 && k < factors.count, "parameter '\(parameter.name)' belongs to task \(k) of \(factors.count)")
            let factor = Float(factors[k])
            if factor == 1 { continue }
            let n = parameter.gradientCount
            let g = parameter.gradientPointer
            for i in 0..<n { g[i] *= factor }
        }
    }
}
