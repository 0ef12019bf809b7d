import XCTest
@testable import Ranker

/// Fixed weights, DWA, GradNorm and uncertainty weighting against ALGORITHMS.md's
/// worked examples (5.1–5.4), their edge rules, and GradNorm through Parameters.
final class LossWeightingTests: XCTestCase {
    func assertClose(_ actual: [Double], _ expected: [Double], rtol: Double, atol: Double = 0,
                     _ message: String = "", file: StaticString = #filePath, line: UInt = #line) {
        XCTAssertEqual(actual.count, expected.count, message, file: file, line: line)
        for (a, e) in zip(actual, expected) where !(abs(a - e) <= atol + rtol * abs(e)) {
            XCTFail("\(message): got \(actual), expected \(expected)", file: file, line: line)
            return
        }
    }

    // MARK: 5.1 fixed

    func testFixedWeightsWorkedExample() throws {
        let fixed = FixedWeighting(taskCount: 2, options: .init(weights: [1, 0.5]))
        XCTAssertEqual(try fixed.lossWeights(losses: [0.6, 0.2]), [1, 0.5])
        XCTAssertEqual(fixed.objective(losses: [0.6, 0.2]), 0.7, accuracy: 1e-15)
        XCTAssertFalse(fixed.requiresPerTaskGradients)
        XCTAssertEqual(try FixedWeighting(taskCount: 3).lossWeights(losses: [1, 2, 3]), [1, 1, 1], "default all 1")
    }

    // MARK: 5.2 DWA

    func testDWAWorkedExampleAndFirstTwoEpochs() throws {
        let dwa = DynamicWeightAverage(taskCount: 3)
        XCTAssertEqual(try dwa.lossWeights(losses: [0.9, 0.6, 0.4]), [1, 1, 1], "epoch 0")
        dwa.finishStep(losses: [0.9, 0.6, 0.4], batchSize: 8)
        dwa.finishEpoch()
        XCTAssertEqual(try dwa.lossWeights(losses: [0.7, 0.55, 0.2]), [1, 1, 1], "epoch 1")
        dwa.finishStep(losses: [0.7, 0.55, 0.2], batchSize: 8)
        dwa.finishEpoch()
        let weights = try dwa.lossWeights(losses: [0.5, 0.5, 0.5])
        assertClose(weights, [1.019632, 1.092957, 0.8874112], rtol: 1e-6, "epoch 2")
        XCTAssertEqual(weights.reduce(0, +), 3, accuracy: 1e-14)
        XCTAssertEqual(dwa.objective(losses: [1, 0, 0]), weights[0], accuracy: 1e-15)
    }

    func testDWAEdgeRules() {
        // L̄(e−2) <= 0 or a non-finite ratio → r = 1.
        let w = DynamicWeightAverage.weights(previous: [0.5, 0.3, 0.2], earlier: [0, -1, 0.4], temperature: 2)
        let reference = [1.0, 1.0, 0.5].map { exp($0 / 2) }
        let sum = reference.reduce(0, +)
        assertClose(w, reference.map { 3 * $0 / sum }, rtol: 1e-14, "edge ratios")
        // Huge ratios do not overflow (softmax from the max).
        let big = DynamicWeightAverage.weights(previous: [1e300, 1], earlier: [1e-300, 1], temperature: 0.5)
        XCTAssertTrue(big.allSatisfy(\.isFinite))
        XCTAssertEqual(big.reduce(0, +), 2, accuracy: 1e-14)
    }

    func testDWAWindowsAndEmptyEpochs() throws {
        let dwa = DynamicWeightAverage(taskCount: 2, options: .init(windowSteps: 3))
        for step in 0..<6 {
            XCTAssertEqual(try dwa.lossWeights(losses: [1, 1]), [1, 1], "windows 0 and 1, step \(step)")
            dwa.finishStep(losses: step < 3 ? [1, 1] : [0.5, 1], batchSize: 4)
            dwa.finishEpoch()   // ignored in window mode
        }
        let expected = DynamicWeightAverage.weights(previous: [0.5, 1], earlier: [1, 1], temperature: 2)
        assertClose(try dwa.lossWeights(losses: [1, 1]), expected, rtol: 1e-14, "window 2")

        let epochs = DynamicWeightAverage(taskCount: 2)
        epochs.finishEpoch()   // empty epoch: not counted
        epochs.finishStep(losses: [1, 2], batchSize: 1)
        epochs.finishEpoch()
        epochs.finishEpoch()   // empty again
        epochs.finishStep(losses: [2, 2], batchSize: 1)
        epochs.finishEpoch()
        assertClose(try epochs.lossWeights(losses: [1, 1]),
                    DynamicWeightAverage.weights(previous: [2, 2], earlier: [1, 2], temperature: 2), rtol: 1e-14)
    }

    // MARK: 5.3 GradNorm

    /// ALGORITHMS.md 5.3's worked example.
    let gradNormRows: [[Double]] = [[1, 2, 2], [0, 0.5, 0], [1, 0, -1]]

    func testGradNormWorkedExample() {
        let norms = gradNormRows.map { GradientRows.dot($0, $0) }
        let rule = GradNormRule(weights: [1, 1, 1], squaredGradientNorms: norms, losses: [0.35, 0.63, 0.49],
                                initialLosses: [0.7, 0.7, 0.7], alpha: 1.5, variant: .paper)
        assertClose(rule.gradientNorms, [3, 0.5, 1.414214], rtol: 1e-6, "G")
        assertClose(rule.inverseTrainingRates, [0.7142857, 1.285714, 1], rtol: 1e-6, "r")
        assertClose(rule.targets, [0.9888735, 2.388083, 1.638071], rtol: 1e-6, "target")
        XCTAssertEqual(rule.gradientLoss, 4.123067, accuracy: 1e-6)
        assertClose(rule.weightGradient, [3, -0.5, -1.414214], rtol: 1e-6, "dL/dw")

        var sgd = (0..<3).map { 1 - 0.025 * rule.weightGradient[$0] }
        GradNormRule.renormalize(&sgd, variant: .paper)
        assertClose(sgd, [0.933446, 1.021745, 1.044809], rtol: 1e-6, "SGD")

        var adam = [1.0, 1, 1], m = [0.0, 0, 0], v = [0.0, 0, 0]
        AdamRule.update(weights: &adam, gradient: rule.weightGradient, firstMoment: &m, secondMoment: &v, step: 1,
                        learningRate: 0.025, beta1: 0.9, beta2: 0.999, epsilon: 1e-8)
        GradNormRule.renormalize(&adam, variant: .paper)
        assertClose(adam, [0.9669421, 1.016529, 1.016529], rtol: 1e-6, "Adam")

        // LibMTL parametrisation at logits 0 (w = 1).
        assertClose(GradNormRule.softmaxLogitGradient(logits: [0, 0, 0], weightGradient: rule.weightGradient),
                    [2.638071, -0.8619288, -1.776142], rtol: 1e-6, "dL/ds")
    }

    /// The softmax chain rule against central differences of `L_grad(T·softmax(s))`
    /// with the targets held constant (as LibMTL detaches them).
    func testSoftmaxLogitGradientMatchesFiniteDifferences() {
        let norms = gradNormRows.map { GradientRows.dot($0, $0) }
        let logits = [0.3, -0.2, 0.5]
        let w = GradNormRule.softmax(logits).map { 3 * $0 }
        let rule = GradNormRule(weights: w, squaredGradientNorms: norms, losses: [0.35, 0.63, 0.49],
                                initialLosses: [0.7, 0.7, 0.7], alpha: 1.5, variant: .paper)
        func gradientLoss(_ s: [Double]) -> Double {
            let ws = GradNormRule.softmax(s).map { 3 * $0 }
            return (0..<3).map { abs(ws[$0] * norms[$0].squareRoot() - rule.targets[$0]) }.reduce(0, +)
        }
        let analytic = GradNormRule.softmaxLogitGradient(logits: logits, weightGradient: rule.weightGradient)
        for k in 0..<3 {
            var plus = logits, minus = logits
            plus[k] += 1e-6
            minus[k] -= 1e-6
            XCTAssertEqual(analytic[k], (gradientLoss(plus) - gradientLoss(minus)) / 2e-6, accuracy: 1e-6)
        }
    }

    /// The same example through the balancer on Parameters; `L(0) = 0.7` is set
    /// through a restored state (the balancer would take the first step's losses).
    func testGradNormBalancerThroughParameters() throws {
        let balancer = GradNorm(taskCount: 3, options: .init(scope: .allShared))
        XCTAssertTrue(balancer.requiresPerTaskGradients)
        let zeros = [Double](repeating: 0, count: 3)
        try balancer.restore(methodState: .init(taskCount: 3, steps: 1, weights: [1, 1, 1], firstMoment: zeros,
                                                secondMoment: zeros, optimizerSteps: 0, initialLosses: [0.7, 0.7, 0.7],
                                                initialLossEMA: nil, initialLossEMACount: 0, lossEMA: nil))
        let fixture = TaskGradientFixture(rows: gradNormRows.map { $0 + [0] }, embeddingCols: 1)
        XCTAssertEqual(try balancer.lossWeights(losses: [0.35, 0.63, 0.49]), [1, 1, 1])
        try balancer.combine(parameters: fixture.parameters, losses: [0.35, 0.63, 0.49])
        assertClose(balancer.lastRule!.weightGradient, [3, -0.5, -1.414214], rtol: 1e-6, "dL/dw")
        assertClose(balancer.telemetry.gradientNorms, [3, 0.5, 2.0.squareRoot()], rtol: 1e-7, "norms")
        // Weights 1: the written gradient is the plain sum, task-specific factors 1.
        assertClose(fixture.combinedSharedGradient(), GradientRows.combine(gradNormRows.map { $0 + [0] }, [1, 1, 1]),
                    rtol: 1e-7, "Σ g")
        balancer.finishStep(losses: [0.35, 0.63, 0.49], batchSize: 32)
        assertClose(balancer.weights, [0.9669421, 1.016529, 1.016529], rtol: 1e-6, "after Adam")
        XCTAssertEqual(balancer.telemetry.step, 2)

        // Next step: shared gradients weighted by w, task-specific ones scaled by w_k.
        let next = TaskGradientFixture(rows: gradNormRows.map { $0 + [0] }, embeddingCols: 1)
        let w = balancer.weights
        try balancer.combine(parameters: next.parameters, losses: [0.3, 0.6, 0.5])
        assertClose(next.combinedSharedGradient(), GradientRows.combine(gradNormRows.map { $0 + [0] }, w), rtol: 1e-6,
                    atol: 1e-7, "Σ w g")
        for (k, factors) in next.taskSpecificFactors().enumerated() {
            assertClose(factors, [Double](repeating: w[k], count: 6), rtol: 1e-6, "task \(k) scaled by w_k")
        }
        XCTAssertEqual(balancer.objective(losses: [1, 2, 3]), w[0] + 2 * w[1] + 3 * w[2], accuracy: 1e-14)
    }

    /// Over many random steps (including zero gradients, tiny and huge norms and
    /// an aggressive SGD rate that drives weights below zero), the weights stay
    /// positive and finite for every variant, and sum to T (paper, nextrec_clamp;
    /// NextRec 0.4.x's `Σ + 1e-8` denominator keeps its sum just below T).
    func testGradNormWeightsStayPositiveAndSumToT() {
        var rng = RandomGenerator(seed: 5)
        for variant in GradNorm.Variant.allCases {
            for optimizer in GradNorm.WeightOptimizer.allCases {
                let t = 4
                let balancer = GradNorm(taskCount: t, options: .init(learningRate: optimizer == .sgd ? 2 : 0.5,
                                                                    optimizer: optimizer, scope: .allShared, variant: variant))
                var clamped = false
                for step in 0..<300 {
                    let norms = (0..<t).map { k -> Double in
                        if (step + k) % 7 == 0 { return 0 }
                        return pow(10, rng.uniform(-4, 3))
                    }
                    let losses = (0..<t).map { _ in rng.uniform(0, 2) }
                    balancer.prepareWeightStep(squaredGradientNorms: norms, losses: losses)
                    balancer.finishStep(losses: losses, batchSize: 1)
                    let w = balancer.weights
                    XCTAssertTrue(w.allSatisfy { $0 > 0 && $0.isFinite }, "\(variant) \(optimizer) step \(step): \(w)")
                    if variant == .nextrec {
                        // NextRec 0.4.x divides by Σ + 1e-8: the sum is T·Σ/(Σ + 1e-8), short of T
                        // (noticeably when every weight was clamped), never above it.
                        XCTAssertLessThanOrEqual(w.reduce(0, +), Double(t) * (1 + 1e-15), "\(optimizer) step \(step)")
                    } else {
                        XCTAssertEqual(w.reduce(0, +), Double(t), accuracy: 1e-12, "\(variant) \(optimizer) step \(step)")
                    }
                    if w.min()! < 1e-6 { clamped = true }
                }
                if optimizer == .sgd { XCTAssertTrue(clamped, "\(variant): the clamp was exercised") }
            }
        }
    }

    /// Edge cases of 5.3: a zero gradient norm gives G = 0 and no weight
    /// gradient; L(0) = 0 uses 1e-8; all losses zero gives r = 1.
    func testGradNormEdgeCases() {
        let rule = GradNormRule(weights: [1, 1], squaredGradientNorms: [4, 0], losses: [0.5, 0.5],
                                initialLosses: [0, 0.5], alpha: 1.5, variant: .paper)
        XCTAssertEqual(rule.gradientNorms, [2, 0])
        XCTAssertEqual(rule.weightGradient[1], 0)
        let ratios = [0.5 / 1e-8, 1.0]
        let mean = ratios.reduce(0, +) / 2
        assertClose(rule.inverseTrainingRates, ratios.map { $0 / mean }, rtol: 1e-14, "L(0) = 0 → 1e-8")
        let zero = GradNormRule(weights: [1, 1], squaredGradientNorms: [1, 4], losses: [0, 0], initialLosses: [1, 1],
                                alpha: 1.5, variant: .paper)
        XCTAssertEqual(zero.inverseTrainingRates, [1, 1])
        XCTAssertTrue(zero.weightGradient.allSatisfy(\.isFinite))
    }

    /// Last-shared-layer scope: only the named parameters enter the norms;
    /// names that are missing or task-specific are reported.
    func testGradNormLastSharedLayerScope() throws {
        var rng = RandomGenerator(seed: 8)
        let rows = (0..<2).map { _ in (0..<12).map { _ in Double(Float(rng.normal())) } }
        let fixture = TaskGradientFixture(rows: rows)
        let balancer = GradNorm(taskCount: 2, lastSharedLayer: ["shared.dense"])
        try balancer.combine(parameters: fixture.parameters, losses: [0.5, 0.6])
        let denseNorms = rows.map { GradientRows.norm(Array($0[0..<fixture.denseCount])) }
        assertClose(balancer.telemetry.gradientNorms, denseNorms, rtol: 1e-12, "norms over the layer only")
        // The model update still covers every shared parameter (weights 1 on the first step).
        assertClose(fixture.combinedSharedGradient(), GradientRows.combine(rows, [1, 1]), rtol: 1e-6, atol: 1e-7, "Σ w g")

        let missing = GradNorm(taskCount: 2, lastSharedLayer: ["shared.dense", "bottom.last.weight"])
        XCTAssertThrowsError(try missing.combine(parameters: fixture.parameters, losses: [0.5, 0.6])) { error in
            guard case .missingParameter(let name, _)? = error as? TaskBalancingError else { return XCTFail("\(error)") }
            XCTAssertEqual(name, "bottom.last.weight")
        }
        let specific = GradNorm(taskCount: 2, lastSharedLayer: ["tower1.weight"])
        XCTAssertThrowsError(try specific.combine(parameters: fixture.parameters, losses: [0.5, 0.6]))
    }

    /// State changes happen in finishStep only: a combine whose step is then
    /// skipped leaves the reference losses and weights as they were.
    func testGradNormSkippedStepLeavesNoTrace() throws {
        let balancer = GradNorm(taskCount: 2, options: .init(scope: .allShared, lossEMADecay: 0.9))
        balancer.prepareWeightStep(squaredGradientNorms: [1, 4], losses: [0.5, 0.6])
        let before = balancer.state
        balancer.prepareWeightStep(squaredGradientNorms: [1, 4], losses: [0.9, 0.1])   // skipped
        XCTAssertEqual(balancer.state, before)
        balancer.prepareWeightStep(squaredGradientNorms: [1, 4], losses: [0.5, 0.6])
        balancer.finishStep(losses: [0.5, 0.6], batchSize: 1)
        let state = balancer.methodState
        XCTAssertEqual(state.initialLosses, [0.5, 0.6], "L(0) is the first APPLIED step's losses")
        XCTAssertEqual(state.lossEMA, [0.5, 0.6])
    }

    // MARK: 5.4 uncertainty weighting

    func testUncertaintyWorkedExample() throws {
        let e = UncertaintyWeighting.Evaluation(losses: [0.7, 0.2], logVariances: [-0.5, 0.3])
        XCTAssertEqual(e.total, 0.5511343, accuracy: 1e-7)
        assertClose(e.weights, [0.8243606, 0.3704091], rtol: 1e-6, "weights")
        assertClose(e.logVarianceGradient, [-0.07705244, 0.4259182], rtol: 1e-6, "dtotal/ds")
    }

    /// The balancer's log-variance parameter: initial −0.5, gradient written by
    /// lossWeights equal to central differences of the objective, and an
    /// optimizer-style update of `s` changes the weights as 1/(2 exp(s)).
    func testUncertaintyParameterGradient() throws {
        let uw = UncertaintyWeighting(taskCount: 3)
        XCTAssertEqual(uw.logVariance.value.toArray(), [-0.5, -0.5, -0.5])
        XCTAssertEqual(uw.trainableParameters.count, 1)
        let losses = [0.9, 0.05, 2.0]
        uw.logVariance.value.copy(from: [0.25, -1, 0.75])
        let weights = try uw.lossWeights(losses: losses)
        let grad = uw.logVariance.grad.toArray()
        for k in 0..<3 {
            let s = Double(uw.logVariance.value.data[k])
            XCTAssertEqual(weights[k], 1 / (2 * exp(s)), accuracy: 1e-15)
            func total(_ delta: Float) -> Double {
                let saved = uw.logVariance.value.data[k]
                uw.logVariance.value.data[k] = saved + delta
                defer { uw.logVariance.value.data[k] = saved }
                return uw.objective(losses: losses)
            }
            let h: Float = 1e-3
            let numeric = (total(h) - total(-h)) / (2 * Double(h))
            XCTAssertEqual(Double(grad[k]), numeric, accuracy: 1e-5, "dtotal/ds_\(k)")
        }
    }
}
