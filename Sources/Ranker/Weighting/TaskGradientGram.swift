/// The `T × T` Gram matrix `P = G Gᵀ` of the per-task gradients over a set of
/// shared parameters, accumulated in double precision (spec 6: GradCraft,
/// PCGrad and GradNorm need nothing else from the `T × d` gradients).
///
/// `P[i][j] = Σ_tensors <taskGrads[i], taskGrads[j]>`, each inner product
/// computed by `doubleDot`: every float product formed exactly in double and
/// summed in double. (Not `cblas_dsdot`: OpenBLAS 0.3.21's Haswell/Zen kernel
/// accumulates vectors of 32+ elements in single precision — relative errors
/// around 1e-7 were measured on this machine, enough to flip a near-threshold
/// conflict decision.) The cost is `T(T+1)/2` passes over the parameters' task
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
                let square = TaskGradientGram.doubleDot(gi, gi, count: n)
                if !square.isFinite {
                    throw TaskBalancingError.nonFiniteTaskGradient(parameter: parameter.name, task: i)
                }
                values[i * t + i] += square
                for j in (i + 1)..<t {
                    let product = TaskGradientGram.doubleDot(gi, parameter.taskGradient(j), count: n)
                    values[i * t + j] += product
                    values[j * t + i] += product
                }
            }
        }
    }

    /// `Σ_k x_k y_k` with each product exact in double (a product of two floats
    /// has at most 48 significant bits) and four double accumulators.
    @inlinable
    public static func doubleDot(_ x: UnsafePointer<Float>, _ y: UnsafePointer<Float>, count n: Int) -> Double {
        var s0 = 0.0, s1 = 0.0, s2 = 0.0, s3 = 0.0
        var k = 0
        while k + 4 <= n {
            s0 += Double(x[k]) * Double(y[k])
            s1 += Double(x[k + 1]) * Double(y[k + 1])
            s2 += Double(x[k + 2]) * Double(y[k + 2])
            s3 += Double(x[k + 3]) * Double(y[k + 3])
            k += 4
        }
        while k < n {
            s0 += Double(x[k]) * Double(y[k])
            k += 1
        }
        return (s0 + s1) + (s2 + s3)
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
