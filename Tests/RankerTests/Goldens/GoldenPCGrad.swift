import XCTest
@testable import Ranker

/// `pcgrad.json` (ALGORITHMS.md 6.2), with the explicit orders of the file:
///
/// * float64: `PCGradProjection` on the Gram matrix of the golden rows; each
///   `projected[i] = Σ_k a_ik g_k` and `combined_sum = Σ_k c_k g_k` in double, at
///   `GoldenTolerance.double` (absolute floor 1e-12 × the largest row norm).
/// * float32: the rows in shared `Parameter`s (dense + embedding), a `PCGrad`
///   balancer combining with the file's orders; the written gradient against
///   `combined_sum` at `GoldenTolerance.floatStep` (relative to the largest
///   coordinate); task-specific gradients untouched.
enum GoldenPCGrad {
    static func check(_ json: GoldenValue, _ checker: GoldenChecker) throws {
        for (index, c) in json["cases"].array.enumerated() {
            let t = c["T"].int
            let label = "cases[\(index)] T=\(t) d=\(c["d"].int) \(c["order_kind"].string)"
            let rows = c["grads"].doubleRows
            let orders = c["orders"].array.map { $0.ints }
            checker.close(PCGradProjection.denominatorEpsilon, c["denom_eps"].double, rtol: 0, "\(label): denominator epsilon")
            let largestNorm = rows.map(GradientRows.norm).max() ?? 0
            let floor = 1e-12 * max(largestNorm, 1)
            let rtol = GoldenTolerance.double.rtol

            let projection = PCGradProjection(gram: GradientRows.gram(rows), orders: orders, reduction: .sum)
            let projected = c["projected"].doubleRows
            for i in 0..<t {
                let a = (0..<t).map { projection.projectionCoefficient(i, $0) }
                checker.close(GradientRows.combine(rows, a), projected[i], rtol: rtol, atol: floor, "\(label): projected[\(i)]")
            }
            let expected = c["combined_sum"].doubles
            checker.close(GradientRows.combine(rows, projection.coefficients), expected, rtol: rtol, atol: floor,
                          "\(label): combined_sum")
            let mean = PCGradProjection(gram: GradientRows.gram(rows), orders: orders, reduction: .mean)
            checker.close(GradientRows.combine(rows, mean.coefficients), expected.map { $0 / Double(t) },
                          rtol: rtol, atol: floor, "\(label): combined mean")

            let fixture = TaskGradientFixture(rows: rows)
            let balancer = PCGrad(taskCount: t, seed: 1)
            try balancer.combine(parameters: fixture.parameters, losses: [Double](repeating: 0.5, count: t), orders: orders)
            let scale = expected.map(abs).max() ?? 0
            checker.close(fixture.combinedSharedGradient(), expected, rtol: GoldenTolerance.floatStep.rtol,
                          atol: max(GoldenTolerance.floatStep.atol, GoldenTolerance.floatStep.rtol * scale),
                          "\(label): float32 combined gradient")
            checker.equal(balancer.lastProjection?.projectionCount ?? -1, projection.projectionCount,
                          "\(label): float32 number of projections")
            for (k, factors) in fixture.taskSpecificFactors().enumerated() {
                checker.equal(factors, [Double](repeating: 1, count: factors.count), "\(label): task \(k)'s own gradient untouched")
            }
        }
    }
}
