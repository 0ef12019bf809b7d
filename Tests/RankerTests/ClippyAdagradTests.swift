import XCTest
@testable import Ranker

/// Clippy Adagrad against the worked examples of ALGORITHMS.md 4.2.5 (numbers quoted
/// there, checked with a float64 hand computation), dense and as a touched
/// row of an embedding table, for every preset and `clip_accumulator_update`;
/// the presets against the table of ALGORITHMS.md 4.2.4; the edge cases of 4.2.4.
final class ClippyAdagradTests: XCTestCase {
    // ALGORITHMS.md 4.2.5 input.
    let w0: [Float] = [0, 0.3, -1.2]
    let g: [Float] = [2, -0.5, 1]
    let lr: Float = 0.05

    struct Expected {
        let sigma: Double
        let w: [Double]
        let acc: [Double]
    }

    // ALGORITHMS.md 4.2.5 results.
    let project = Expected(sigma: 0.03162279, w: [-0.01, 0.3025, -1.205], acc: [4.1, 0.35, 1.1])
    let clipAccumulator = Expected(sigma: 0.03162279, w: [-0.01, 0.3025, -1.205], acc: [0.104, 0.10025, 0.101])
    let tfrs = Expected(sigma: 3.162279e-7, w: [-1e-7, 0.300000025, -1.20000005], acc: [4.1, 0.35, 1.1])
    let paper = Expected(sigma: 0.2024846, w: [-0.01, 0.3085565, -1.209653], acc: [4.1, 0.35, 1.1])

    func assertClose(_ actual: [Float], _ expected: [Double], rtol: Double = 2e-6, atol: Double = 1e-9,
                     _ message: String, file: StaticString = #filePath, line: UInt = #line) {
        XCTAssertEqual(actual.count, expected.count, message, file: file, line: line)
        for (a, e) in zip(actual, expected) {
            XCTAssertEqual(Double(a), e, accuracy: atol + rtol * abs(e), "\(message): \(actual) vs \(expected)",
                           file: file, line: line)
        }
    }

    func runDense(_ options: ClippyAdagradOptions, _ expected: Expected, _ label: String) throws {
        let optimizer = try ClippyAdagrad(options: options)
        let w = OptimizerFixtures.dense("w", values: w0)
        OptimizerFixtures.setGradient(w, g)
        let report = optimizer.step(parameters: [w], learningRate: lr)
        XCTAssertTrue(report.applied)
        XCTAssertEqual(report.clippedParameterCount, 1, label)
        XCTAssertEqual(Double(optimizer.clippingFactor(named: "w")!), expected.sigma,
                       accuracy: 2e-6 * expected.sigma, label)
        assertClose(w.value.toArray(), expected.w, label + " w")
        assertClose(OptimizerFixtures.accumulator(optimizer, "w"), expected.acc, label + " acc")
    }

    /// The same example as row 1 of a 3-row table; rows 0 and 2 are untouched.
    func runSparse(_ options: ClippyAdagradOptions, _ expected: Expected, _ label: String) throws {
        let optimizer = try ClippyAdagrad(options: options)
        let table = OptimizerFixtures.table("t", rows: [[7, -7, 7], w0, [0, 0, 0]])
        OptimizerFixtures.setSparseGradient(table, ids: [1], rows: [g])
        optimizer.step(parameters: [table], learningRate: lr)
        XCTAssertEqual(Double(optimizer.clippingFactor(at: 0)), expected.sigma, accuracy: 2e-6 * expected.sigma, label)
        let values = table.value.toArray(), acc = OptimizerFixtures.accumulator(optimizer, "t")
        assertClose(Array(values[3..<6]), expected.w, label + " row 1")
        assertClose(Array(acc[3..<6]), expected.acc, label + " accumulator row 1")
        XCTAssertEqual(Array(values[0..<3]) + Array(values[6..<9]), [7, -7, 7, 0, 0, 0], label)
        XCTAssertEqual(Array(acc[0..<3]) + Array(acc[6..<9]), [Float](repeating: 0.1, count: 6), label)
    }

    func testWorkedExamplesDenseAndSparseEveryPreset() throws {
        var clipAcc = ClippyAdagradOptions.project
        clipAcc.clipAccumulatorUpdate = true
        for (options, expected, label) in [(ClippyAdagradOptions.project, project, "project"),
                                           (clipAcc, clipAccumulator, "clip_accumulator_update"),
                                           (.tfrs, tfrs, "tfrs"), (.paper, paper, "paper")] {
            try runDense(options, expected, label)
            try runSparse(options, expected, label + " sparse")
        }
    }

    func testSparseWorkedExampleOneSigmaForAllTouchedRows() throws {
        let optimizer = ClippyAdagrad(preset: .project)
        let table = OptimizerFixtures.table("t", rows: [[0.1, -0.2], [0.5, 0.5], [0, 1], [0.3, 0.3]])
        OptimizerFixtures.setSparseGradient(table, ids: [2, 0, 2], rows: [[0.5, 0.1], [1, -1], [0.5, 0.3]])
        let report = optimizer.step(parameters: [table], learningRate: lr)
        XCTAssertEqual(report.clippedParameterCount, 1)
        XCTAssertEqual(Double(optimizer.clippingFactor(named: "t")!), 0.06324558, accuracy: 1e-7)
        assertClose(table.value.toArray(), [0.09, -0.19, 0.5, 0.5, -0.01, 0.996, 0.3, 0.3], "table")
        assertClose(OptimizerFixtures.accumulator(optimizer, "t"), [1.1, 1.1, 0.1, 0.1, 1.1, 0.26, 0.1, 0.1], "acc")
    }

    func testPresetsMatchSpecTable() {
        func check(_ o: ClippyAdagradOptions, standard: Bool, rel: Float, accRel: Float, abs: Float, eps: Float) {
            XCTAssertEqual(o.useStandardAccumulatorUpdate, standard)
            XCTAssertEqual(o.variableRelativeThreshold, rel)
            XCTAssertEqual(o.accumulatorRelativeThreshold, accRel)
            XCTAssertEqual(o.absoluteThreshold, abs)
            XCTAssertEqual(o.epsilon, eps)
            XCTAssertEqual(o.initialAccumulatorValue, 0.1)
            XCTAssertFalse(o.clipAccumulatorUpdate)
        }
        check(.project, standard: false, rel: 0.5, accRel: 0, abs: 1e-2, eps: 1e-7)
        check(.paper, standard: true, rel: 0.5, accRel: 0, abs: 1e-2, eps: 0)
        check(.tfrs, standard: false, rel: 0.1, accRel: 0, abs: 1e-7, eps: 1e-7)
        XCTAssertEqual(ClippyAdagradOptions(), .project, "the default is the project preset")
        XCTAssertEqual(try ClippyAdagrad().options, .project)
    }

    func testZeroBoundGivesSigmaZeroAndIsReported() throws {
        // abs = 0: the zero coordinate of w has bound 0 while its update is not 0.
        var options = ClippyAdagradOptions.project
        options.absoluteThreshold = 0
        let optimizer = try ClippyAdagrad(options: options)
        let w = OptimizerFixtures.dense("w", values: [0, 1])
        let b = OptimizerFixtures.dense("b", values: [1, 1])
        OptimizerFixtures.setGradient(w, [1, 1])
        OptimizerFixtures.setGradient(b, [1, 1])
        let report = optimizer.step(parameters: [w, b], learningRate: 0.05)
        XCTAssertEqual(report.zeroBoundParameterCount, 1)
        XCTAssertEqual(optimizer.zeroBoundParameters, ["w"])
        XCTAssertEqual(optimizer.clippingFactor(named: "w"), 0)
        XCTAssertEqual(w.value.toArray(), [0, 1], "sigma 0: no movement")
        // Delayed ordering: the accumulator still receives g^2.
        assertClose(OptimizerFixtures.accumulator(optimizer, "w"), [1.1, 1.1], "acc")
        // b is clipped on its own: bound 0.5*|b| = 0.5 against delta 0.1581 -> unclipped.
        XCTAssertEqual(optimizer.clippingFactor(named: "b"), 1)
        XCTAssertLessThan(b.value.toArray()[0], 1)
    }

    func testZeroGradientCoordinatesAreIgnoredAndAllZeroGivesSigmaOne() throws {
        let optimizer = ClippyAdagrad(preset: .tfrs)
        // The zero coordinate of w would cap sigma at ~1e-7 if its delta were not 0.
        let w = OptimizerFixtures.dense("w", values: [0, 5])
        OptimizerFixtures.setGradient(w, [0, 0.001])
        optimizer.step(parameters: [w], learningRate: 0.05)
        XCTAssertEqual(optimizer.clippingFactor(at: 0), 1)
        XCTAssertEqual(w.value.toArray()[0], 0)

        let z = OptimizerFixtures.dense("z", values: [0, 0])
        let zeroOptimizer = ClippyAdagrad(preset: .tfrs)
        zeroOptimizer.step(parameters: [z], learningRate: 0.05)
        XCTAssertEqual(zeroOptimizer.clippingFactor(at: 0), 1)
        XCTAssertEqual(z.value.toArray(), [0, 0])
        XCTAssertEqual(OptimizerFixtures.accumulator(zeroOptimizer, "z"), [0.1, 0.1])
    }

    func testEmptySparseGradientIsNoOp() throws {
        let optimizer = ClippyAdagrad(preset: .project)
        let table = OptimizerFixtures.table("t", rows: [[1, 2], [3, 4]])
        let w = OptimizerFixtures.dense("w", values: [1, 2])
        OptimizerFixtures.setGradient(w, [0.5, 0.5])
        let report = optimizer.step(parameters: [table, w], learningRate: 0.05)
        XCTAssertTrue(report.applied)
        XCTAssertEqual(table.value.toArray(), [1, 2, 3, 4])
        XCTAssertEqual(OptimizerFixtures.accumulator(optimizer, "t"), [0.1, 0.1, 0.1, 0.1])
        XCTAssertEqual(optimizer.clippingFactor(named: "t"), 1)
        XCTAssertNotEqual(w.value.toArray(), [1, 2], "the dense parameter still steps")
    }

    func testNonFiniteGradientSkipsWholeStep() throws {
        for preset in ClippyPreset.allCases {
            let optimizer = ClippyAdagrad(preset: preset)
            let w = OptimizerFixtures.dense("w", values: [0.5, -0.5])
            let table = OptimizerFixtures.table("emb", rows: [[1, 2], [3, 4]])
            OptimizerFixtures.setGradient(w, [0.1, 0.2])
            OptimizerFixtures.setSparseGradient(table, ids: [1], rows: [[0.3, 0.3]])
            optimizer.step(parameters: [w, table], learningRate: 0.05)
            let wBefore = w.value.toArray(), tableBefore = table.value.toArray()
            let accBefore = optimizer.stateTensors().map { $0.value.toArray() }
            let factorsBefore = optimizer.clippingFactors

            OptimizerFixtures.setGradient(w, [0.1, 0.2])
            OptimizerFixtures.setSparseGradient(table, ids: [0, 1], rows: [[.nan, 1], [1, -.infinity]])
            let report = optimizer.step(parameters: [w, table], learningRate: 0.05)
            XCTAssertFalse(report.applied)
            XCTAssertEqual(report.nonFiniteParameters, ["emb"])
            XCTAssertEqual(report.nonFiniteValueCount, 2)
            XCTAssertEqual(w.value.toArray(), wBefore, "\(preset)")
            XCTAssertEqual(table.value.toArray(), tableBefore, "\(preset)")
            XCTAssertEqual(optimizer.stateTensors().map { $0.value.toArray() }, accBefore, "\(preset)")
            XCTAssertEqual(optimizer.clippingFactors, factorsBefore)
            XCTAssertEqual(optimizer.scalarState, OptimizerScalarState(stepCount: 1, skippedStepCount: 1))
        }
    }

    func testInvalidOptionsRejected() {
        func rejects(_ change: (inout ClippyAdagradOptions) -> Void, _ expected: OptimizerConfigurationError,
                     line: UInt = #line) {
            var o = ClippyAdagradOptions.project
            change(&o)
            XCTAssertThrowsError(try ClippyAdagrad(options: o), line: line) { error in
                XCTAssertEqual(error as? OptimizerConfigurationError, expected, line: line)
            }
        }
        rejects({ $0.variableRelativeThreshold = -0.1 },
                .negativeValue(name: "variable_relative_threshold", value: -0.1))
        rejects({ $0.accumulatorRelativeThreshold = -1 },
                .negativeValue(name: "accumulator_relative_threshold", value: -1))
        rejects({ $0.absoluteThreshold = -1e-3 }, .negativeValue(name: "absolute_threshold", value: -1e-3))
        rejects({ $0.epsilon = -1 }, .negativeValue(name: "epsilon", value: -1))
        var notFinite = ClippyAdagradOptions.project
        notFinite.absoluteThreshold = .nan
        XCTAssertThrowsError(try ClippyAdagrad(options: notFinite)) { error in
            guard case .negativeValue(name: "absolute_threshold", _)? = error as? OptimizerConfigurationError else {
                return XCTFail("unexpected \(error)")
            }
        }
        rejects({ $0.initialAccumulatorValue = 0; $0.epsilon = 0 }, .zeroAccumulatorAndEpsilon)
        rejects({ $0.useStandardAccumulatorUpdate = true; $0.clipAccumulatorUpdate = true },
                .clipAccumulatorUpdateWithStandardUpdate)
        XCTAssertThrowsError(try ShrinkByReferences.shrink([1], references: [[1]], relativeFactors: [-0.1],
                                                           absoluteFactor: 0))
        XCTAssertThrowsError(try ShrinkByReferences.shrink([1], references: [[1]], relativeFactors: [],
                                                           absoluteFactor: 0))
    }
}
