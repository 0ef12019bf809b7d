/// GradCraft's combination rule as a pure function of the Gram matrix of the
/// raw task gradients (ALGORITHMS.md 6.1.1 with the project semantics of 6.1.3).
///
/// Input: `P = G Gᵀ` (`T × T`, double), `tau ∈ [0, 1]`, `epsilon ≥ 0`. With
/// `n_i = sqrt(P_ii)` and `m = max_i n_i`:
///
/// 1. scale factors `s_i = tau · m / n_i + 1 − tau` (`s_i = 1` when `n_i = 0`),
///    `ĝ_i = s_i g_i`, `P̂ = diag(s) P diag(s)`;
/// 2. conflict sets `C_i = { j : P̂_ij < 0 }` (strict; `i ∉ C_i`; a zero gradient
///    is in no set and has an empty set);
/// 3. for `C_i ≠ ∅`: solve `P̂[C_i, C_i] w = z − P̂[C_i, i]` with
///    `z_j = epsilon · n̂_i · n̂_j` (`n̂ = s ⊙ n`): `n = 1` by the closed form
///    `w = (z − P̂_ji) / P̂_jj`, `n ≥ 2` through `SymmetricSolver` (Cholesky, or the
///    eigen pseudo-inverse fallback, which is recorded). `W[i][j] = w_j`
///    (weight of `ĝ_j` in `g̃_i = ĝ_i + Σ_{j∈C_i} W_ij ĝ_j`);
/// 4. `combined = (1/T) Σ_i g̃_i = Σ_j c_j g_j` with
///    `c_j = s_j (1 + Σ_i W_ij) / T`.
///
/// Everything is `O(T³)` work on `T × T` numbers; the `T × d` gradients are only
/// touched to build `P` and to form `Σ_j c_j g_j`. All gradients zero gives
/// `s = 1`, no conflicts, `c = 1/T` and a zero combination (ALGORITHMS.md 6.1.3).
/// Projections of different tasks do not see each other and are not
/// re-checked (ALGORITHMS.md 6.1.1, step 3).
public struct GradCraftProjection: Equatable, Sendable {
    /// Number of tasks `T`.
    public let taskCount: Int
    /// `||g_i||` (raw).
    public var norms: [Double]
    /// `s_i`.
    public var scales: [Double]
    /// `C_i`, ascending task indices.
    public var conflicts: [[Int]]
    /// `W`, `T × T` row-major: `projectionWeights[i * T + j]` is the weight of
    /// `ĝ_j` in `g̃_i` (0 outside `C_i`).
    public var projectionWeights: [Double]
    /// `c_j`, the coefficient of raw `g_j` in the combined (mean) gradient.
    public var coefficients: [Double]
    /// Whether task `i`'s system used the pseudo-inverse fallback.
    public var usedPseudoInverse: [Bool]

    /// Number of systems solved through the pseudo-inverse.
    public var pseudoInverseCount: Int { usedPseudoInverse.filter { $0 }.count }

    /// `W[i][j]`.
    public func projectionWeight(_ i: Int, _ j: Int) -> Double { projectionWeights[i * taskCount + j] }

    /// Coefficient of raw `g_j` in `g̃_i`: `(I + W)_ij · s_j`.
    public func rawCoefficient(_ i: Int, _ j: Int) -> Double {
        ((i == j ? 1 : 0) + projectionWeight(i, j)) * scales[j]
    }

    /// Runs steps 1–4 on a Gram matrix.
    ///
    /// - Parameters:
    ///   - gram: `P`, finite (check with `TaskGradientGram`; a non-finite entry is
    ///     a programmer error here).
    ///   - solver: reused workspace for the `n ≥ 2` systems.
    /// - Throws: `LAPACKError` if an eigenvalue iteration fails.
    public init(gram: TaskGradientGram, tau: Double, epsilon: Double, solver: SymmetricSolver) throws {
        let t = gram.taskCount
        precondition(tau >= 0 && tau <= 1 && epsilon >= 0 && epsilon.isFinite, "GradCraft needs tau in [0, 1] and epsilon >= 0")
        precondition(gram.values.allSatisfy { $0.isFinite }, "GradCraft: non-finite Gram matrix")
        taskCount = t
        let norms = (0..<t).map { gram.norm($0) }
        let largest = norms.max() ?? 0
        let scales = norms.map { $0 > 0 ? tau * largest / $0 + 1 - tau : 1 }
        self.norms = norms
        self.scales = scales
        var adjusted = [Double](repeating: 0, count: t * t)   // P̂
        for i in 0..<t {
            for j in 0..<t { adjusted[i * t + j] = scales[i] * scales[j] * gram[i, j] }
        }
        let adjustedNorms = (0..<t).map { norms[$0] * scales[$0] }
        conflicts = (0..<t).map { i in (0..<t).filter { j in adjusted[i * t + j] < 0 } }
        projectionWeights = [Double](repeating: 0, count: t * t)
        usedPseudoInverse = [Bool](repeating: false, count: t)

        var system = [Double]()
        var rightHandSide = [Double]()
        for i in 0..<t {
            let set = conflicts[i]
            let n = set.count
            if n == 0 { continue }
            if n == 1 {
                let j = set[0]
                let target = epsilon * adjustedNorms[i] * adjustedNorms[j]
                projectionWeights[i * t + j] = (target - adjusted[j * t + i]) / adjusted[j * t + j]
                continue
            }
            system.removeAll(keepingCapacity: true)
            rightHandSide.removeAll(keepingCapacity: true)
            for a in set {
                for b in set { system.append(adjusted[a * t + b]) }
                rightHandSide.append(epsilon * adjustedNorms[i] * adjustedNorms[a] - adjusted[a * t + i])
            }
            let solution = try solver.solve(matrix: system, n: n, b: rightHandSide)
            usedPseudoInverse[i] = solution.usedPseudoInverse
            for (position, j) in set.enumerated() { projectionWeights[i * t + j] = solution.x[position] }
        }

        coefficients = [Double](repeating: 0, count: t)
        for j in 0..<t {
            var columnSum = 1.0
            for i in 0..<t { columnSum += projectionWeights[i * t + j] }
            coefficients[j] = scales[j] * columnSum / Double(t)
        }
    }
}
