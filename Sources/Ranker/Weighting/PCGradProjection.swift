/// PCGrad's projections as a pure function of the Gram matrix of the raw task
/// gradients and the visiting orders (ALGORITHMS.md 6.2, LibMTL semantics).
///
/// For every task `i`, `pc_i = Σ_k a_ik g_k` starts at `a_i = e_i`; for each `j`
/// in `orders[i]` (a permutation of ALL tasks, `i` included):
///
///     d = <pc_i, g_j> = Σ_k a_ik P_kj
///     if d < 0:  a_ij -= d / (P_jj + 1e-8)          (g_j the ORIGINAL gradient)
///
/// so projections within task `i` are sequential, and `pc_i` is projected
/// against `g_i` itself when earlier projections made `<pc_i, g_i>` negative.
/// The combined gradient is `Σ_i pc_i` (`sum`, the project default) or its mean,
/// i.e. `Σ_k c_k g_k` with `c_k = Σ_i a_ik` (divided by `T` for `mean`).
///
/// The `+1e-8` in the denominator is LibMTL's (absolute, so it shortens the
/// projections of gradients whose squared norm is near 1e-8). A zero gradient
/// has `d = 0` against everything and is never projected on.
public struct PCGradProjection: Equatable, Sendable {
    /// LibMTL's denominator guard.
    public static let denominatorEpsilon = 1e-8

    /// Number of tasks `T`.
    public let taskCount: Int
    /// `a`, `T × T` row-major: `projectionCoefficients[i * T + k]` is the
    /// coefficient of raw `g_k` in `pc_i`.
    public var projectionCoefficients: [Double]
    /// `c_k`, the coefficient of raw `g_k` in the combined gradient.
    public var coefficients: [Double]
    /// Number of projections applied (pairs `(i, j)` visited with `d < 0`).
    public var projectionCount: Int

    /// `a_ik`.
    public func projectionCoefficient(_ i: Int, _ k: Int) -> Double { projectionCoefficients[i * taskCount + k] }

    /// - Parameters:
    ///   - gram: `P`, finite.
    ///   - orders: `T` permutations of `0..<T`; `orders[i]` is task `i`'s visiting order.
    ///   - reduction: `sum` (LibMTL, project default) or `mean`.
    ///   - denominatorEpsilon: the guard added to `P_jj` (LibMTL's 1e-8; 0 gives
    ///     the exact projection, as in GradCraft's two-task identity).
    public init(gram: TaskGradientGram, orders: [[Int]], reduction: PCGrad.Reduction,
                denominatorEpsilon: Double = PCGradProjection.denominatorEpsilon) {
        let t = gram.taskCount
        precondition(orders.count == t && orders.allSatisfy { $0.sorted() == Array(0..<t) },
                     "PCGrad needs one permutation of 0..<\(t) per task")
        taskCount = t
        var a = [Double](repeating: 0, count: t * t)
        var projections = 0
        for i in 0..<t {
            a[i * t + i] = 1
            for j in orders[i] {
                var d = 0.0
                for k in 0..<t { d += a[i * t + k] * gram[k, j] }
                if d < 0 {
                    a[i * t + j] -= d / (gram[j, j] + denominatorEpsilon)
                    projections += 1
                }
            }
        }
        let divisor = reduction == .mean ? Double(t) : 1
        coefficients = (0..<t).map { k in
            var sum = 0.0
            for i in 0..<t { sum += a[i * t + k] }
            return sum / divisor
        }
        projectionCoefficients = a
        projectionCount = projections
    }
}
