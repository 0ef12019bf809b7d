import XCTest
@testable import Ranker

/// `gradnorm.json` (ALGORITHMS.md 5.3).
///
/// `single_step` (float64, `GoldenTolerance.double`): `GradNormRule` on the exact
/// squared norms of the golden rows (`G`, `r`, `target`, `L_grad`, `grad_w`); one
/// SGD and one first Adam step (`AdamRule.update`, the optimizer core's Adam) followed by
/// `GradNormRule.renormalize`; the LibMTL softmax parametrisation (`weights`
/// and `grad_logits` through `GradNormRule.softmaxLogitGradient`). Then the same
/// step through a `GradNorm` balancer on float32 `Parameter`s (scope all_shared):
/// the written shared gradient against `weighted_grad`, task-specific gradients
/// scaled by `w_k`, and the updated weights (`GoldenTolerance.floatStep`).
///
/// One golden SGD value is NOT clamped: in the T = 6, d = 50 case the SGD step
/// drives a weight to −0.89 and the file renormalises the raw step
/// (`T·w/Σw`, giving a negative weight). The project clamps at 1e-8 first
/// (ALGORITHMS.md 5.3); there the checker compares the golden with the unclamped
/// renormalisation of the library's raw step, and the library's clamped result
/// with the rule of ALGORITHMS.md 5.3 (clamped weight `T·1e-8/Σ`, all positive, sum `T`).
///
/// `sequences`: every preset (`paper`, `nextrec`, `nextrec_clamp`, and the
/// NextRec EMA options) through a `GradNorm` balancer whose norms come from
/// `prepareWeightStep` with exact double norms (`GoldenTolerance.double`), and
/// again through `combine` on float32 `Parameter`s (`GoldenTolerance.floatSequence`).
enum GoldenGradNorm {
    static func check(_ json: GoldenValue, _ checker: GoldenChecker) throws {
        try checkSingleSteps(json["single_step"], checker)
        try checkSequences(json["sequences"], checker)
    }

    static func squaredNorms(_ rows: [[Double]]) -> [Double] { rows.map { GradientRows.dot($0, $0) } }

    static func checkSingleSteps(_ cases: GoldenValue, _ checker: GoldenChecker) throws {
        let rtol = GoldenTolerance.double.rtol
        let float = GoldenTolerance.floatStep
        for (index, c) in cases.array.enumerated() {
            let t = c["T"].int
            let label = "single_step[\(index)] T=\(t) d=\(c["d"].int)"
            let rows = c["grads"].doubleRows
            let losses = c["losses"].doubles
            let initial = c["initial_losses"].doubles
            let weights = c["weights"].doubles
            let alpha = c["alpha"].double
            let rule = GradNormRule(weights: weights, squaredGradientNorms: squaredNorms(rows), losses: losses,
                                    initialLosses: initial, alpha: alpha, variant: .paper)
            checker.close(rule.gradientNorms, c["G"].doubles, rtol: rtol, "\(label): G")
            checker.close(rule.inverseTrainingRates, c["r"].doubles, rtol: rtol, "\(label): r")
            checker.close(rule.targets, c["target"].doubles, rtol: rtol, "\(label): target")
            checker.close(rule.gradientLoss, c["L_grad"].double, rtol: rtol, "\(label): L_grad")
            checker.close(rule.weightGradient, c["grad_w"].doubles, rtol: rtol, "\(label): grad_w")

            // SGD, lr 0.025, then renormalise.
            let raw = (0..<t).map { weights[$0] - 0.025 * rule.weightGradient[$0] }
            var sgd = raw
            GradNormRule.renormalize(&sgd, variant: .paper)
            let goldenSGD = c["sgd_lr0.025_renormalized"].doubles
            if raw.allSatisfy({ $0 > GradNormRule.epsilon }) {
                checker.close(sgd, goldenSGD, rtol: rtol, "\(label): sgd step")
            } else {
                let sum = raw.reduce(0, +)
                checker.close(raw.map { Double(t) * $0 / sum }, goldenSGD, rtol: rtol, "\(label): sgd step (golden unclamped)")
                let clampedSum = raw.map { max($0, GradNormRule.epsilon) }.reduce(0, +)
                for k in 0..<t where raw[k] <= GradNormRule.epsilon {
                    checker.close(sgd[k], Double(t) * GradNormRule.epsilon / clampedSum, rtol: rtol,
                                  "\(label): sgd clamped weight \(k)")
                }
                checker.equal(sgd.allSatisfy { $0 > 0 }, true, "\(label): sgd weights positive after the clamp")
                checker.close(sgd.reduce(0, +), Double(t), rtol: 1e-14, "\(label): sgd weights sum to T")
            }

            // Adam, first step, then renormalise.
            var adam = weights
            var m = [Double](repeating: 0, count: t), v = m
            AdamRule.update(weights: &adam, gradient: rule.weightGradient, firstMoment: &m, secondMoment: &v,
                            step: 1, learningRate: 0.025, beta1: 0.9, beta2: 0.999, epsilon: 1e-8)
            GradNormRule.renormalize(&adam, variant: .paper)
            checker.close(adam, c["adam_lr0.025_first_step_renormalized"].doubles, rtol: rtol, "\(label): adam step")

            // LibMTL parametrisation w = T softmax(s).
            let softmax = c["softmax_param"]
            let logits = softmax["logits"].doubles
            let softWeights = GradNormRule.softmax(logits).map { Double(t) * $0 }
            checker.close(softWeights, softmax["weights"].doubles, rtol: rtol, "\(label): softmax weights")
            let softRule = GradNormRule(weights: softWeights, squaredGradientNorms: squaredNorms(rows), losses: losses,
                                        initialLosses: initial, alpha: alpha, variant: .paper)
            checker.close(GradNormRule.softmaxLogitGradient(logits: logits, weightGradient: softRule.weightGradient),
                          softmax["grad_logits"].doubles, rtol: rtol, atol: 1e-13, "\(label): softmax grad_logits")

            // The same step through the balancer on float32 Parameters.
            for optimizer in [GradNorm.WeightOptimizer.adam, .sgd] {
                let name = "\(label) \(optimizer.rawValue) balancer"
                let balancer = GradNorm(taskCount: t, options: .init(optimizer: optimizer, scope: .allShared))
                let zeros = [Double](repeating: 0, count: t)
                try balancer.restore(methodState: GradNorm.State(
                    taskCount: t, steps: 3, weights: weights, firstMoment: zeros, secondMoment: zeros, optimizerSteps: 0,
                    initialLosses: initial, initialLossEMA: nil, initialLossEMACount: 0, lossEMA: nil))
                checker.close(try balancer.lossWeights(losses: losses), weights, rtol: 0, "\(name): weights used")
                let fixture = TaskGradientFixture(rows: rows)
                try balancer.combine(parameters: fixture.parameters, losses: losses)
                let expected = c["weighted_grad"].doubles
                let scale = expected.map(abs).max() ?? 0
                checker.close(fixture.combinedSharedGradient(), expected, rtol: float.rtol,
                              atol: max(float.atol, float.rtol * scale), "\(name): weighted_grad")
                for (k, factors) in fixture.taskSpecificFactors().enumerated() {
                    checker.close(factors, [Double](repeating: weights[k], count: factors.count), rtol: float.rtol,
                                  "\(name): task \(k)'s own gradient scaled by w_k")
                }
                checker.close(balancer.lastRule?.weightGradient ?? [], c["grad_w"].doubles, rtol: float.rtol,
                              atol: float.atol, "\(name): grad_w")
                balancer.finishStep(losses: losses, batchSize: 1)
                checker.close(balancer.weights, optimizer == .adam ? adam : sgd, rtol: float.rtol, atol: float.atol,
                              "\(name): next weights")
            }
        }
    }

    static func options(for c: GoldenValue) -> GradNorm.Options {
        var options = GradNorm.Options(alpha: c["alpha"].double, scope: .allShared)
        switch c["preset"].string {
        case "paper": options.variant = .paper
        case "nextrec": options.variant = .nextrec
        case "nextrec_clamp": options.variant = .nextrecClamp
        case let other: XCTFail("gradnorm.json: unknown preset \(other)")
        }
        options.lossEMADecay = c["ema_decay"].doubleOrNil
        if c["init_ema_steps"].exists { options.initialLossEMASteps = c["init_ema_steps"].int }
        if c["init_ema_decay"].exists { options.initialLossEMADecay = c["init_ema_decay"].double }
        return options
    }

    static func checkSequences(_ cases: GoldenValue, _ checker: GoldenChecker) throws {
        for (index, c) in cases.array.enumerated() {
            let t = c["T"].int
            let label = "sequences[\(index)] \(c["preset"].string) T=\(t) d=\(c["d"].int)"
                + (c["ema_decay"].exists ? " ema" : "")
            checker.equal(c["optimizer"].stringOrNil ?? "adam(lr=0.025, betas=(0.9,0.999), eps=1e-8)",
                          "adam(lr=0.025, betas=(0.9,0.999), eps=1e-8)", "\(label): optimizer (the library defaults)")
            let exact = GradNorm(taskCount: t, options: options(for: c))
            let float = GradNorm(taskCount: t, options: options(for: c))
            for (s, step) in c["steps"].array.enumerated() {
                let rows = step["grads"].doubleRows
                let losses = step["losses"].doubles
                let name = "\(label) step \(s)"
                let used = step["weights_used"].doubles
                checker.close(try exact.lossWeights(losses: losses), used, rtol: GoldenTolerance.double.rtol, "\(name): weights used")
                checker.close(try float.lossWeights(losses: losses), used, rtol: GoldenTolerance.floatSequence.rtol,
                              atol: GoldenTolerance.floatSequence.atol, "\(name): float32 weights used")
                let rule = exact.prepareWeightStep(squaredGradientNorms: squaredNorms(rows), losses: losses)
                let fixture = TaskGradientFixture(rows: rows)
                try float.combine(parameters: fixture.parameters, losses: losses)
                if step["grad_w"].exists {
                    checker.close(rule.weightGradient, step["grad_w"].doubles, rtol: GoldenTolerance.double.rtol,
                                  "\(name): grad_w")
                    checker.close(float.lastRule?.weightGradient ?? [], step["grad_w"].doubles,
                                  rtol: GoldenTolerance.floatSequence.rtol, atol: GoldenTolerance.floatSequence.atol,
                                  "\(name): float32 grad_w")
                }
                exact.finishStep(losses: losses, batchSize: 1)
                float.finishStep(losses: losses, batchSize: 1)
                let next = step["weights_next"].doubles
                checker.close(exact.weights, next, rtol: GoldenTolerance.double.rtol, "\(name): weights_next")
                checker.close(float.weights, next, rtol: GoldenTolerance.floatSequence.rtol,
                              atol: GoldenTolerance.floatSequence.atol, "\(name): float32 weights_next")
            }
        }
    }
}
