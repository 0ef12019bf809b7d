import XCTest
@testable import Ranker

/// `uw.json` (ALGORITHMS.md 5.4): total, effective weights and `dtotal/ds`.
///
/// float64: `UncertaintyWeighting.Evaluation` at `GoldenTolerance.double`.
/// float32: an `UncertaintyWeighting` balancer whose log-variance `Parameter`
/// holds the golden `s` (as `Float`): its weights, objective and the gradient it
/// writes into the parameter at `GoldenTolerance.floatStep`.
enum GoldenUW {
    static func check(_ json: GoldenValue, _ checker: GoldenChecker) throws {
        let losses = json["losses"].doubles
        let logVariances = json["log_vars"].doubles
        let total = json["total"].double
        let weights = json["effective_weights"].doubles
        let gradient = json["dtotal_dlogvars"].doubles
        let rtol = GoldenTolerance.double.rtol

        let evaluation = UncertaintyWeighting.Evaluation(losses: losses, logVariances: logVariances)
        checker.close(evaluation.total, total, rtol: rtol, "total")
        checker.close(evaluation.weights, weights, rtol: rtol, "effective_weights")
        checker.close(evaluation.logVarianceGradient, gradient, rtol: rtol, "dtotal_dlogvars")

        let t = losses.count
        let balancer = UncertaintyWeighting(taskCount: t)
        checker.equal(balancer.logVariance.value.toArray(), [Float](repeating: -0.5, count: t), "initial log-variances")
        try balancer.restore(methodState: .init(taskCount: t, steps: 0, logVariances: logVariances.map { Float($0) }))
        let float = GoldenTolerance.floatStep
        checker.close(try balancer.lossWeights(losses: losses), weights, rtol: float.rtol, atol: float.atol, "float32 weights")
        checker.close(balancer.objective(losses: losses), total, rtol: float.rtol, atol: float.atol, "float32 total")
        checker.close(balancer.logVariance.grad.toArray(), gradient, rtol: float.rtol, atol: float.atol,
                      "float32 gradient written into the log-variance parameter")
        checker.equal(balancer.trainableParameters.map(\.name), [UncertaintyWeighting.parameterName], "trainable parameters")
    }
}
