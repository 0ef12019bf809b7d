/// The `T × T` Gram matrix `P = G Gᵀ` of the per-task gradients over a set of
/// shared parameters, accumulated in double precision (docs: GradCraft,
/// PCGrad and GradNorm need nothing else from the `T × d` gradients).
///
/// `P[i][j] = Σ_k G[i][k] · G[j][k]` over every included coordinate `k`, with
/// every product exact and every sum in double: the float gradients are
/// widened to double (exact), so each product of two 24-bit significands is
/// exact in a 53-bit double, and `cblas_ddot` adds them up in double. (Not
/// `cblas_dsdot`: OpenBLAS sums it in single precision — enough to flip a
/// near-threshold conflict decision.)
///
/// How: the included parameters are grouped into runs (`TaskGradientRuns`):
/// for a model, the shared dense tensors are one run over its whole
/// `TaskGradientMatrix` (`T × d`), each touched embedding table one more. A
/// run is cut into column blocks of `blockColumns`; each block `B` is widened
/// into a `T × blockColumns` double scratch (allocated once, at `init`, small
/// enough to stay in cache), and each pair `i ≤ j` of the upper triangle is
/// accumulated by one `cblas_ddot`: `P[i][j] += B[i, :] · B[j, :]`
/// (`T(T+1)/2` calls per block; measured 0.6–0.8 ms cheaper per Gram than one
/// `cblas_dgemv` per row at T = 2 on W2, equal at T = 6); the lower triangle
/// is mirrored at the end. The float gradients are read once; nothing of size
/// `d` is copied or allocated. Block boundaries only change the order of the
/// double sums.
///
/// Why not one `cblas_dsyrk`/`cblas_dgemm` over the slab: no BLAS call
/// multiplies `Float` inputs with `Double` sums at level 3 (`cblas_dsdot` is
/// level 1 and sums in single precision in OpenBLAS; `sbgemm` is bfloat16),
/// so one call needs a `T × d` double mirror of `G`, `8 T d` bytes (W2's
/// dense shared run, d = 1,143,808: 18 MB at T = 2, 55 MB at T = 6), filled
/// by widening, and then reads twice the bytes this scheme reads. Measured
/// on that shape (C replay, d = 1.2 M; OpenBLAS 0.3.21 Zen kernels, one thread, thread CPU
/// time): the one `dsyrk` over an already widened mirror took 21–25 ms at
/// T = 6 and 6–7.4 ms at T = 2, against 12–16 ms and 3.9–4.4 ms for this
/// whole scheme; widening the mirror costs 9–14 ms more at T = 6. The
/// level-3 kernels pad the `T × T` result to their register tile and pack
/// both operands, and the Gram is memory-bound: reading the `4 T d` float
/// bytes once is what counts (BENCHMARKS.md, "Issue 11: the Gram as one BLAS
/// call", has `ranker bench --balancers` with that design).
///
/// Non-finite gradients: a NaN or ±infinity anywhere in task `t`'s gradient
/// makes `P[t][t]` non-finite (squares of finite floats cannot overflow a
/// double, nor can their sum over fewer than 2^700 coordinates), so the
/// diagonal detects it exactly; only then does a per-tensor scan find the
/// first included tensor (in list order) and, in it, the first task whose
/// gradient is not finite, and `compute` throws
/// `TaskBalancingError.nonFiniteTaskGradient` naming them.
public final class TaskGradientGram {
    /// Number of tasks `T`.
    public let taskCount: Int
    /// `P`, `T × T` row-major, symmetric.
    public private(set) var values: [Double]
    /// Columns widened to double per block.
    public let blockColumns: Int
    /// `T × blockColumns` doubles: one widened block.
    private var scratch: [Double]

    /// - Parameter blockColumns: columns per widened block (default 1024:
    ///   `T × 1024` doubles, 16 KiB at `T = 2` and 48 KiB at `T = 6`, so the
    ///   widened block is still in L1/L2 when the `ddot` calls read it;
    ///   measured faster than 4096 at T = 6, equal at T = 2).
    public init(taskCount: Int, blockColumns: Int = 1024) {
        precondition(taskCount >= 1, "TaskGradientGram needs at least one task")
        precondition(blockColumns >= 1, "TaskGradientGram: blockColumns must be positive")
        self.taskCount = taskCount
        self.blockColumns = blockColumns
        values = [Double](repeating: 0, count: taskCount * taskCount)
        scratch = [Double](repeating: 0, count: taskCount * blockColumns)
    }

    /// A Gram matrix given directly (tests, goldens): `T × T` row-major.
    public convenience init(taskCount: Int, values: [Double]) {
        precondition(values.count == taskCount * taskCount, "Gram matrix needs \(taskCount * taskCount) values")
        self.init(taskCount: taskCount, blockColumns: 1)
        self.values = values
    }

    /// Computes `P` over every parameter for which `include` is true.
    ///
    /// Each included parameter must hold this step's per-task gradients:
    /// `taskGradients` shaped `T × gradientCount` (a programmer error
    /// otherwise). On a throw, `values` is unspecified.
    ///
    /// - Throws: `TaskBalancingError.nonFiniteTaskGradient`.
    public func compute(parameters: [Parameter], include: (Parameter) -> Bool) throws {
        let t = taskCount
        let width = blockColumns
        values.withUnsafeMutableBufferPointer { p in
            scratch.withUnsafeMutableBufferPointer { s in
                let gram = p.baseAddress!, block = s.baseAddress!
                gram.update(repeating: 0, count: t * t)
                TaskGradientRuns.forEach(parameters: parameters, taskCount: t, include: include) { _, g in
                    var start = 0
                    while start < g.cols {
                        let w = min(width, g.cols - start)
                        for i in 0..<t {
                            let source = g.row(i) + start, destination = block + i * w
                            for k in 0..<w { destination[k] = Double(source[k]) }
                        }
                        for i in 0..<t {
                            let row = block + i * w
                            for j in i..<t { gram[i * t + j] += BLAS.dot(count: w, x: row, y: block + j * w) }
                        }
                        start += w
                    }
                }
                for i in 0..<t {
                    for j in 0..<i { gram[i * t + j] = gram[j * t + i] }
                }
            }
        }
        for i in 0..<t where !values[i * t + i].isFinite {
            try throwFirstNonFinite(parameters: parameters, include: include)
        }
    }

    /// The per-tensor scan of a non-finite step: throws for the first included
    /// tensor, in list order, and its first task with a non-finite gradient.
    private func throwFirstNonFinite(parameters: [Parameter], include: (Parameter) -> Bool) throws {
        for parameter in parameters where include(parameter) {
            let n = parameter.gradientCount
            for i in 0..<taskCount {
                let g = parameter.taskGradient(i)
                if !BLAS.dotDouble(count: n, x: g, y: g).isFinite {
                    throw TaskBalancingError.nonFiniteTaskGradient(parameter: parameter.name, task: i)
                }
            }
        }
        preconditionFailure("TaskGradientGram: a non-finite diagonal without a non-finite task gradient")
    }

    /// `P[i][j]`.
    public subscript(i: Int, j: Int) -> Double { values[i * taskCount + j] }

    /// `||g_t||`.
    public func norm(_ t: Int) -> Double { values[t * taskCount + t].squareRoot() }

    /// `<g_i, g_j> / (||g_i|| ||g_j||)`, NaN when either norm is 0.
    public func cosine(_ i: Int, _ j: Int) -> Double {
        let denominator = norm(i) * norm(j)
        return denominator > 0 ? self[i, j] / denominator : .nan
    }

    /// Number of pairs `i < j` with `<g_i, g_j> < 0`.
    public var conflictingPairCount: Int {
        var count = 0
        for i in 0..<taskCount {
            for j in (i + 1)..<taskCount where self[i, j] < 0 { count += 1 }
        }
        return count
    }
}
