/// The `T × T` Gram matrix `P = G Gᵀ` of the per-task gradients over a set of
/// shared parameters, accumulated in double precision (docs: GradCraft,
/// PCGrad and GradNorm need nothing else from the `T × d` gradients).
///
/// `P[i][j] = Σ_k G[i][k] · G[j][k]` over every included coordinate `k`, with
/// every product exact and every sum in double: the float gradients are
/// widened to double (exact), so each product of two 24-bit significands is
/// exact in a 53-bit double, and `cblas_dgemv` adds them up in double. (Not
/// `cblas_dsdot`: OpenBLAS sums it in single precision — enough to flip a
/// near-threshold conflict decision.)
///
/// How: the included parameters are grouped into runs (`TaskGradientRuns`):
/// for a model, the shared dense tensors are one run over its whole
/// `TaskGradientMatrix` (`T × d`), each touched embedding table one more. A
/// run is cut into column blocks of `blockColumns`; each block `B` is widened
/// into a `T × blockColumns` double scratch (allocated once, at `init`, small
/// enough to stay in cache), and row `i` of the upper triangle is
/// accumulated by one `cblas_dgemv`: `P[i][i..<T] += B[i..<T, :] · B[i, :]`
/// (`T` calls per block, `T(T+1)/2` dot products in all); the lower triangle
/// is mirrored at the end. The float gradients are read once; nothing of size
/// `d` is copied or allocated. Block boundaries only change the order of the
/// double sums.
///
/// Why not one `cblas_dsyrk`/`cblas_dgemm` over the widened `T × d` matrix:
/// measured on W2 (d ≈ 1.5 M, T = 2 and 6, OpenBLAS 0.3.21, one thread), the
/// level-3 kernels pad the `T × T` result to their register tile and pack
/// their operands, and the full widening writes and rereads `8 T d` bytes:
/// both were 2–3× slower than the per-tensor double dot products they
/// replace. The blocked `dgemv` scheme is faster than those at T = 6 and
/// somewhat slower at T = 2, where widening to double costs about as much
/// as the products (quiet machine, `ranker bench --balancers --threads 1`,
/// alternating with the per-tensor build: Gram 14.7–17.2 ms against
/// 17.5–18.1 ms at T = 6, 3.3–3.5 ms against 2.7–3.1 ms at T = 2; see
/// BENCHMARKS.md).
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
    ///   widened block is still in L1/L2 when the `dgemv` calls read it;
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
                            BLAS.gemvDouble(rows: t - i, cols: w, a: row, lda: w, x: row, into: gram + i * t + i, beta: 1)
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
