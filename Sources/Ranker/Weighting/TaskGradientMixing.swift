/// Writes the gradients the optimizer applies after a multi-gradient pass.
///
/// * Shared parameters: `gradientPointer[0..<gradientCount] = Σ_t c_t · taskGradients[t]`
///   (overwritten; what was there before is ignored, NaN included).
/// * Task-specific parameters of task `k`: their own gradient `∇L_k`, already in
///   `grad` / `sparseGrad.values`, multiplied in place by `factors[k]`.
///
/// Arithmetic is in `Float` (the coefficients are rounded once to `Float`).
/// The combination is one `cblas_sgemv` per run of per-task gradients
/// (`TaskGradientRuns`): `out = Gᵀ c` with `G` the run's `T × n` block, so a
/// model's shared dense gradients (one run over its `T × d`
/// `TaskGradientMatrix`, written into the shared run of its gradient slab)
/// take one call, and each embedding table one more. How the `T` products of
/// a coordinate are added up is OpenBLAS's (fixed for a given build and
/// thread count). Alignment gaps inside a run receive `Σ_t c_t · 0`: zero for
/// finite coefficients. A coefficient of 0 still multiplies its row, so
/// callers must reject non-finite task gradients first (`TaskGradientGram` does).
public enum TaskGradientMixing {
    /// Writes `Σ_t coefficients[t] · taskGradients[t]` into every parameter
    /// for which `include` is true (each must be shared, with
    /// `taskGradients` shaped `T × gradientCount`).
    ///
    /// - Parameter scratch: `T` floats of workspace (kept by the caller to avoid
    ///   allocating in the step).
    public static func writeCombination(coefficients: [Double], parameters: [Parameter],
                                        scratch: inout [Float], include: (Parameter) -> Bool) {
        let t = coefficients.count
        if scratch.count != t { scratch = [Float](repeating: 0, count: t) }
        for k in 0..<t { scratch[k] = Float(coefficients[k]) }
        scratch.withUnsafeBufferPointer { c in
            TaskGradientRuns.forEach(parameters: parameters, taskCount: t, include: include) { first, g in
                precondition(first.group == .shared, "parameter '\(first.name)' is not shared")
                BLAS.gemv(g, x: c.baseAddress!, xCount: t, into: first.gradientPointer, yCount: g.cols, transposeA: true)
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
