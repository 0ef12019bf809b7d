/// Makes a finite set of vectors zero-mean and identity-covariance under
/// given sampling weights, so that a vector drawn with those weights has
/// `E[y] = 0` and `E[y yᵀ] = I` exactly.
///
/// With `μ = Σ_v π_v y_v` and `Σ = Σ_v π_v (y_v − μ)(y_v − μ)ᵀ = L Lᵀ`
/// (Cholesky, double precision), each vector becomes `L⁻¹ (y_v − μ)`.
/// Needs `Σ` positive definite: more distinct vectors (with positive weight)
/// than dimensions, in general position — true almost surely for Gaussian draws.
enum WeightedWhitening {
    /// Whitens `vectors` (`count × k`, row-major) in place under `weights`
    /// (summing to 1). Returns false, leaving `vectors` unchanged, when the
    /// weighted covariance is not positive definite.
    @discardableResult
    static func whiten(_ vectors: inout [Double], count: Int, dimension k: Int, weights: [Double]) -> Bool {
        precondition(vectors.count == count * k && weights.count == count)
        if k == 0 { return true }
        var mean = [Double](repeating: 0, count: k)
        for v in 0..<count { for a in 0..<k { mean[a] += weights[v] * vectors[v * k + a] } }
        var covariance = [Double](repeating: 0, count: k * k)
        for v in 0..<count {
            for a in 0..<k {
                let da = vectors[v * k + a] - mean[a]
                for b in 0...a { covariance[a * k + b] += weights[v] * da * (vectors[v * k + b] - mean[b]) }
            }
        }
        // Cholesky: covariance = L Lᵀ, L lower triangular (stored in the lower half).
        var l = [Double](repeating: 0, count: k * k)
        for a in 0..<k {
            for b in 0...a {
                var s = covariance[a * k + b]
                for c in 0..<b { s -= l[a * k + c] * l[b * k + c] }
                if a == b {
                    guard s > 1e-12 else { return false }
                    l[a * k + a] = s.squareRoot()
                } else {
                    l[a * k + b] = s / l[b * k + b]
                }
            }
        }
        // Forward substitution per vector: L z = y − μ.
        var z = [Double](repeating: 0, count: k)
        for v in 0..<count {
            for a in 0..<k {
                var s = vectors[v * k + a] - mean[a]
                for c in 0..<a { s -= l[a * k + c] * z[c] }
                z[a] = s / l[a * k + a]
            }
            for a in 0..<k { vectors[v * k + a] = z[a] }
        }
        return true
    }
}
