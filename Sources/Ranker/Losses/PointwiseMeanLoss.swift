/// The double-precision batch form shared by the pointwise losses: the mean
/// `L = (1/B) Σ_b ℓ_b` and its gradient `dL/dz_b = ℓ'_b / B` (allocates; for
/// evaluation and tests, not the training path).
enum PointwiseMeanLoss {
    /// `term(b)` gives example `b`'s loss `ℓ_b` and its derivative `ℓ'_b`;
    /// `count > 0`. Sums in order `b = 0, 1, …`.
    static func mean(count: Int, _ term: (Int) -> (loss: Double, derivative: Double)) -> (loss: Double, gradient: [Double]) {
        let n = Double(count)
        var sum = 0.0
        var gradient = [Double](repeating: 0, count: count)
        for b in 0..<count {
            let (loss, derivative) = term(b)
            sum += loss
            gradient[b] = derivative / n
        }
        return (sum / n, gradient)
    }
}
