/// The `T × T` Gram matrix `P = G Gᵀ` of the per-task gradients over a set of
/// shared parameters, accumulated in double precision (spec 6: GradCraft,
/// PCGrad and GradNorm need nothing else from the `T × d` gradients).
///
/// `P[i][j] = Σ_tensors <taskGrads[i], taskGrads[j]>`, each inner product
/// computed by `BLAS.dotDouble`: every float product formed exactly in double
/// and summed in double (not `cblas_dsdot`, whose OpenBLAS kernel sums in single
/// precision — enough to flip a near-threshold conflict decision). The cost is `T(T+1)/2` passes over the parameters' task
/// gradients; nothing of size `d` is copied or allocated.
///
/// Non-finite gradients: a NaN or ±infinity anywhere in task `t`'s gradient of
/// a tensor makes that tensor's `<g_t, g_t>` non-finite (squares of finite
/// floats cannot overflow a double), so the diagonal detects it exactly; the
/// computation stops with `TaskBalancingError.nonFiniteTaskGradient` naming the
/// first such tensor and task.
public final class TaskGradientGram {
    /// Number of tasks `T`.
    public let taskCount: Int
    /// `P`, `T × T` row-major, symmetric.
    public private(set) var values: [Double]

    public init(taskCount: Int) {
        precondition(taskCount >= 1, "TaskGradientGram needs at least one task")
        self.taskCount = taskCount
        values = [Double](repeating: 0, count: taskCount * taskCount)
    }

    /// A Gram matrix given directly (tests, goldens): `T × T` row-major.
    public convenience init(taskCount: Int, values: [Double]) {
        precondition(values.count == taskCount * taskCount, "Gram matrix needs \(taskCount * taskCount) values")
        self.init(taskCount: taskCount)
        self.values = values
    }

    /// Accumulates `P` over every parameter for which `include` is true.
    ///
    /// Each included parameter must hold this step's per-task gradients:
    /// `taskGrads` shaped `T × gradientCount` (a programmer error otherwise).
    /// On a throw, `values` is unspecified.
    ///
    /// - Throws: `TaskBalancingError.nonFiniteTaskGradient`.
    public func compute(parameters: [Parameter], include: (Parameter) -> Bool) throws {
        let t = taskCount
        for k in 0..<values.count { values[k] = 0 }
        for parameter in parameters where include(parameter) {
            let n = parameter.gradientCount
            if n == 0 { continue }   // e.g. an embedding table no example touched
            precondition(parameter.taskGrads.rows == t && parameter.taskGrads.cols == n,
                         "parameter '\(parameter.name)': taskGrads is \(parameter.taskGrads.rows) × \(parameter.taskGrads.cols), "
                         + "expected \(t) × \(n) (run the multi-gradient pass first)")
            for i in 0..<t {
                let gi = parameter.taskGradient(i)
                let square = BLAS.dotDouble(count: n, x: gi, y: gi)
                if !square.isFinite {
                    throw TaskBalancingError.nonFiniteTaskGradient(parameter: parameter.name, task: i)
                }
                values[i * t + i] += square
                for j in (i + 1)..<t {
                    let product = BLAS.dotDouble(count: n, x: gi, y: parameter.taskGradient(j))
                    values[i * t + j] += product
                    values[j * t + i] += product
                }
            }
        }
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
