import XCTest
@testable import Ranker

/// `gradcraft.json` (ALGORITHMS.md 6.1): every field of every case, twice —
///
/// * float64: `GradCraftProjection` on the Gram matrix of the golden rows
///   (exact double dot products); vectors are formed as weighted sums of the
///   rows in double. Tolerance `GoldenTolerance.double`, plus an absolute floor
///   of 1e-12 × the largest row norm for vector coordinates that cancel.
/// * float32: the rows go into shared `Parameter`s (a dense tensor and an
///   embedding table) and a `GradCraft` balancer combines them; the written
///   gradient must equal `combined_mean` at `GoldenTolerance.floatStep`
///   (relative to the largest coordinate), conflicts and fallbacks exactly, and
///   task-specific gradients must be untouched.
///
/// The case `two_tasks_equals_pcgrad_mean` is also run through `PCGradProjection`
/// (mean) against its `pcgrad_mean`; that value is the exact projection, so the
/// check uses a denominator guard of 0 instead of LibMTL's 1e-8 (which moves the
/// result by ~1e-9 relative here, more than the float64 tolerance).
enum GoldenGradCraft {
    static func check(_ json: GoldenValue, _ checker: GoldenChecker) throws {
        for (index, c) in json["cases"].array.enumerated() {
            let label = "cases[\(index)] \(c["name"].string) tau=\(c["tau"].double) eps=\(c["eps"].double)"
            let rows = c["grads"].doubleRows
            let t = c["T"].int
            let tau = c["tau"].double
            let eps = c["eps"].double
            checker.equal(rows.count, t, "\(label): T")

            // float64: the pure function on the Gram matrix.
            let projection = try GradCraftProjection(gram: GradientRows.gram(rows), tau: tau, epsilon: eps,
                                                     solver: SymmetricSolver())
            let rtol = GoldenTolerance.double.rtol
            let largestNorm = rows.map(GradientRows.norm).max() ?? 0
            let floor = 1e-12 * max(largestNorm, 1)
            checker.close(projection.scales, c["scale"].doubles, rtol: rtol, "\(label): scale")
            checker.equal(projection.conflicts, c["conflicts"].array.map { $0.ints }, "\(label): conflicts")
            checker.equal(projection.usedPseudoInverse, c["used_pinv_fallback"].array.map { $0.bool },
                          "\(label): used_pinv_fallback")
            let goldenWeights = c["proj_weights"].doubleRows
            let goldenRaw = c["coef_raw"].doubleRows
            let goldenHat = c["g_hat"].doubleRows
            let goldenTilde = c["g_tilde"].doubleRows
            for i in 0..<t {
                checker.close((0..<t).map { projection.projectionWeight(i, $0) }, goldenWeights[i], rtol: rtol, atol: 1e-12,
                              "\(label): proj_weights[\(i)]")
                let raw = (0..<t).map { projection.rawCoefficient(i, $0) }
                checker.close(raw, goldenRaw[i], rtol: rtol, atol: 1e-12, "\(label): coef_raw[\(i)]")
                checker.close(rows[i].map { $0 * projection.scales[i] }, goldenHat[i], rtol: rtol, atol: floor,
                              "\(label): g_hat[\(i)]")
                checker.close(GradientRows.combine(rows, raw), goldenTilde[i], rtol: rtol, atol: floor,
                              "\(label): g_tilde[\(i)]")
            }
            checker.close(projection.coefficients, c["task_coef_mean"].doubles, rtol: rtol, "\(label): task_coef_mean")
            let combined = GradientRows.combine(rows, projection.coefficients)
            checker.close(combined, c["combined_mean"].doubles, rtol: rtol, atol: floor, "\(label): combined_mean")

            if c["pcgrad_mean"].exists {
                let orders = (0..<t).map { _ in Array(0..<t) }
                // The file's PCGrad is the exact projection (no LibMTL +1e-8 guard),
                // which is what GradCraft's two-task identity states.
                let pcgrad = PCGradProjection(gram: GradientRows.gram(rows), orders: orders, reduction: .mean,
                                              denominatorEpsilon: 0)
                checker.close(GradientRows.combine(rows, pcgrad.coefficients), c["pcgrad_mean"].doubles,
                              rtol: rtol, atol: floor, "\(label): pcgrad_mean")
            }

            // float32: real Parameters through the balancer.
            let fixture = TaskGradientFixture(rows: rows)
            let balancer = GradCraft(taskCount: t, options: .init(tau: tau, epsilon: eps))
            try balancer.combine(parameters: fixture.parameters, losses: [Double](repeating: 0.5, count: t))
            let expected = c["combined_mean"].doubles
            let scale = expected.map(abs).max() ?? 0
            checker.close(fixture.combinedSharedGradient(), expected, rtol: GoldenTolerance.floatStep.rtol,
                          atol: max(GoldenTolerance.floatStep.atol, GoldenTolerance.floatStep.rtol * scale),
                          "\(label): float32 combined gradient")
            checker.equal(balancer.lastProjection?.conflicts ?? [], projection.conflicts, "\(label): float32 conflicts")
            checker.equal(balancer.lastProjection?.usedPseudoInverse ?? [], projection.usedPseudoInverse,
                          "\(label): float32 fallbacks")
            checker.close(balancer.telemetry.weights, c["task_coef_mean"].doubles, rtol: GoldenTolerance.floatStep.rtol,
                          atol: GoldenTolerance.floatStep.atol, "\(label): float32 coefficients")
            for (k, factors) in fixture.taskSpecificFactors().enumerated() {
                checker.equal(factors, [Double](repeating: 1, count: factors.count), "\(label): task \(k)'s own gradient untouched")
            }
        }
    }
}
