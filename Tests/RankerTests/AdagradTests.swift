import XCTest
@testable import Ranker

/// Adagrad against the worked example of ALGORITHMS.md 4.1 and hand-computed values
/// (float64, computed outside the library) for the PyTorch form, sparse rows
/// and the GC/AGC baselines of ALGORITHMS.md 4.3; the edge cases of 4.1.
final class AdagradTests: XCTestCase {
    func assertClose(_ actual: [Float], _ expected: [Double], rtol: Double = 2e-6, atol: Double = 1e-9,
                     _ message: String = "", file: StaticString = #filePath, line: UInt = #line) {
        XCTAssertEqual(actual.count, expected.count, message, file: file, line: line)
        for (a, e) in zip(actual, expected) {
            XCTAssertEqual(Double(a), e, accuracy: atol + rtol * abs(e), "\(message): \(actual) vs \(expected)",
                           file: file, line: line)
        }
    }

    func testSpecWorkedExampleKerasForm() throws {
        let optimizer = try Adagrad()
        XCTAssertEqual(optimizer.options, .keras)
        let w = OptimizerFixtures.dense("w", values: [0.5, -1])
        OptimizerFixtures.setGradient(w, [0.2, -0.4])
        let report = optimizer.step(parameters: [w], learningRate: 0.1)
        XCTAssertEqual(report, OptimizerStepReport(applied: true))
        assertClose(w.value.toArray(), [0.4465478, -0.9215536], rtol: 1e-6)
        assertClose(OptimizerFixtures.accumulator(optimizer, "w"), [0.14, 0.26])
        XCTAssertEqual(optimizer.clippingFactor(named: "w"), 1)
        XCTAssertEqual(optimizer.scalarState.stepCount, 1)
    }

    func testPyTorchFormFirstStepMovesByLearningRate() throws {
        let optimizer = try Adagrad(options: .pytorch)
        XCTAssertEqual(optimizer.options.initialAccumulatorValue, 0)
        XCTAssertEqual(optimizer.options.epsilon, 1e-10)
        let w = OptimizerFixtures.dense("w", values: [0.5, -1])
        OptimizerFixtures.setGradient(w, [0.2, -0.4])
        optimizer.step(parameters: [w], learningRate: 0.1)
        assertClose(w.value.toArray(), [0.4, -0.9])
        assertClose(OptimizerFixtures.accumulator(optimizer, "w"), [0.04, 0.16])
    }

    /// With a large epsilon the two forms differ visibly: acc = 0.25 + 0.5^2 = 0.5,
    /// Keras 1 - 0.5/sqrt(0.5 + 0.75), PyTorch 1 - 0.5/(sqrt(0.5) + 0.75).
    func testFormsPlaceEpsilonDifferently() throws {
        for (form, expected) in [(AdagradForm.keras, 0.5527864045000421), (.pytorch, 0.6568542494923801)] {
            let optimizer = try Adagrad(form: form, initialAccumulatorValue: 0.25, epsilon: 0.75)
            let w = OptimizerFixtures.dense("w", values: [1])
            OptimizerFixtures.setGradient(w, [0.5])
            optimizer.step(parameters: [w], learningRate: 1)
            assertClose(w.value.toArray(), [expected], "\(form)")
        }
    }

    func testSparseRowsSummedAndUntouchedRowsUnchanged() throws {
        let optimizer = try Adagrad()
        let table = OptimizerFixtures.table("t", rows: [[1, 2], [3, 4], [5, 6]])
        OptimizerFixtures.setSparseGradient(table, ids: [2, 0, 2], rows: [[0.1, 0.2], [0.3, 0.4], [0.5, -0.2]])
        optimizer.step(parameters: [table], learningRate: 0.1)
        assertClose(table.value.toArray(), [0.9311752979505927, 1.9215535610305785, 3, 4, 4.91153483592284, 6])
        assertClose(OptimizerFixtures.accumulator(optimizer, "t"), [0.19, 0.26, 0.1, 0.1, 0.46, 0.1])
    }

    func testEmptySparseGradientIsNoOp() throws {
        let optimizer = try Adagrad()
        let table = OptimizerFixtures.table("t", rows: [[1, 2], [3, 4]])
        optimizer.step(parameters: [table], learningRate: 0.1)
        OptimizerFixtures.setSparseGradient(table, ids: [], rows: [])
        let report = optimizer.step(parameters: [table], learningRate: 0.1)
        XCTAssertTrue(report.applied)
        XCTAssertEqual(table.value.toArray(), [1, 2, 3, 4])
        XCTAssertEqual(OptimizerFixtures.accumulator(optimizer, "t"), [0.1, 0.1, 0.1, 0.1])
    }

    func testNonFiniteGradientSkipsWholeStep() throws {
        let optimizer = try Adagrad(clipping: .gradientNorm(threshold: 1, global: true))
        let w = OptimizerFixtures.dense("layer.W", values: [1, 2])
        let b = OptimizerFixtures.dense("layer.b", values: [3])
        OptimizerFixtures.setGradient(w, [0.1, .nan])
        OptimizerFixtures.setGradient(b, [.infinity])
        let report = optimizer.step(parameters: [w, b], learningRate: 0.1)
        XCTAssertFalse(report.applied)
        XCTAssertEqual(report.nonFiniteParameters, ["layer.W", "layer.b"])
        XCTAssertEqual(report.nonFiniteValueCount, 2)
        XCTAssertEqual(w.value.toArray(), [1, 2])
        XCTAssertEqual(b.value.toArray(), [3])
        XCTAssertEqual(OptimizerFixtures.accumulator(optimizer, "layer.W"), [0.1, 0.1])
        XCTAssertEqual(OptimizerFixtures.accumulator(optimizer, "layer.b"), [0.1])
        XCTAssertEqual(optimizer.scalarState, OptimizerScalarState(stepCount: 0, skippedStepCount: 1))
    }

    // MARK: GC and AGC (ALGORITHMS.md 4.3)

    func testLocalGradientNormClipping() throws {
        let optimizer = try Adagrad(clipping: .gradientNorm(threshold: 1))
        let w = OptimizerFixtures.dense("w", values: [1, 2])
        let small = OptimizerFixtures.dense("small", values: [1])
        OptimizerFixtures.setGradient(w, [3, 4])          // ||g|| = 5 -> factor 0.2
        OptimizerFixtures.setGradient(small, [0.5])       // below the threshold -> 1
        let report = optimizer.step(parameters: [w, small], learningRate: 0.1)
        XCTAssertEqual(report.clippedParameterCount, 1)
        XCTAssertEqual(optimizer.clippingFactor(named: "w")!, 0.2, accuracy: 1e-7)
        XCTAssertEqual(optimizer.clippingFactor(named: "small"), 1)
        assertClose(w.value.toArray(), [0.9115348359228399, 1.9070018952886])
        assertClose(OptimizerFixtures.accumulator(optimizer, "w"), [0.46, 0.74])
    }

    func testGlobalGradientNormClipping() throws {
        let w = OptimizerFixtures.dense("w", values: [1, 2])
        let v = OptimizerFixtures.dense("v", values: [0.5])
        // Norms 5 and 12, global norm 13; threshold 6.5.
        let global = try Adagrad(clipping: .gradientNorm(threshold: 6.5, global: true))
        OptimizerFixtures.setGradient(w, [3, 4])
        OptimizerFixtures.setGradient(v, [12])
        global.step(parameters: [w, v], learningRate: 0.1)
        XCTAssertEqual(global.clippingFactors, [0.5, 0.5])
        assertClose(w.value.toArray(), [0.9021507911238817, 1.9012270415395893])
        assertClose(v.value.toArray(), [0.4001386003435212])
        assertClose(OptimizerFixtures.accumulator(global, "v"), [36.1])

        // The local variant clips only v (12 > 6.5), w (5) is left alone.
        w.value.copy(from: [1, 2])
        v.value.copy(from: [0.5])
        let local = try Adagrad(clipping: .gradientNorm(threshold: 6.5))
        local.step(parameters: [w, v], learningRate: 0.1)
        XCTAssertEqual(local.clippingFactor(named: "w"), 1)
        XCTAssertEqual(Double(local.clippingFactor(named: "v")!), 6.5 / 12, accuracy: 1e-7)
        assertClose(w.value.toArray(), [0.9005509689266539, 1.9003110430537478])
        assertClose(v.value.toArray(), [0.4001181336500087])
    }

    func testGradientNormClippingOfSparseRowsUsesTouchedRows() throws {
        let optimizer = try Adagrad(clipping: .gradientNorm(threshold: 2.5))
        let table = OptimizerFixtures.table("t", rows: [[1, 2], [3, 4], [5, 6]])
        // Summed rows: row 0 [3, 0], row 2 [0, 4]: norm 5 -> factor 0.5.
        OptimizerFixtures.setSparseGradient(table, ids: [0, 0, 2], rows: [[1, 0], [2, 0], [0, 4]])
        optimizer.step(parameters: [table], learningRate: 0.1)
        XCTAssertEqual(optimizer.clippingFactor(named: "t"), 0.5)
        assertClose(table.value.toArray(), [0.9021507911238817, 2, 3, 4, 5, 5.901227041539589])
        assertClose(OptimizerFixtures.accumulator(optimizer, "t"), [2.35, 0.1, 0.1, 0.1, 0.1, 4.1])
    }

    func testAdaptiveClippingPerColumnAndPerBiasElement() throws {
        let optimizer = try Adagrad(clipping: .adaptive(lambda: 0.05))
        // W is in x out = 2 x 2; column 0 = [3, 4] (norm 5), column 1 = [0, 0.001] (norm 1e-3 = eps).
        let w = OptimizerFixtures.dense("d.W", rows: 2, values: [3, 0, 4, 0.001])
        let b = OptimizerFixtures.dense("d.b", values: [0, 2])
        OptimizerFixtures.setGradient(w, [0.3, 1, 0.4, 0])   // column norms 0.5 and 1
        OptimizerFixtures.setGradient(b, [1, -0.05])
        let report = optimizer.step(parameters: [w, b], learningRate: 0.1)
        // Column factors: min(1, 0.05*5/0.5) = 0.5 and 0.05*1e-3/1 = 5e-5; bias: 5e-5 and 1.
        XCTAssertEqual(report.clippedParameterCount, 2)
        XCTAssertEqual(Double(optimizer.clippingFactor(named: "d.W")!), 5e-5, accuracy: 1e-11)
        XCTAssertEqual(Double(optimizer.clippingFactor(named: "d.b")!), 5e-5, accuracy: 1e-11)
        assertClose(w.value.toArray(), [2.957142874635558, -1.581138019751162e-05, 3.9465477707075935, 0.001])
        assertClose(OptimizerFixtures.accumulator(optimizer, "d.W"), [0.1225, 0.1000000025, 0.14, 0.1])
        assertClose(b.value.toArray(), [-1.581138019751162e-05, 2.015617368570634])
        assertClose(OptimizerFixtures.accumulator(optimizer, "d.b"), [0.1000000025, 0.1025])
    }

    func testAdaptiveClippingPerTouchedEmbeddingRow() throws {
        let optimizer = try Adagrad(clipping: .adaptive(lambda: 0.1))
        let table = OptimizerFixtures.table("t", rows: [[3, 4], [0, 0], [1, 0]])
        // Row 0: 0.1*5/5 = 0.1; row 1: zero weights -> eps: 0.1*1e-3/0.5 = 2e-4; row 2 untouched.
        OptimizerFixtures.setSparseGradient(table, ids: [0, 1], rows: [[3, 4], [0, 0.5]])
        optimizer.step(parameters: [table], learningRate: 0.1)
        XCTAssertEqual(Double(optimizer.clippingFactor(at: 0)), 2e-4, accuracy: 1e-10)
        assertClose(table.value.toArray(), [2.9311752979505927, 3.9215535610305787, 0, -3.162275920917101e-05, 1, 0])
        assertClose(OptimizerFixtures.accumulator(optimizer, "t"), [0.19, 0.26, 0.1, 0.10000001, 0.1, 0.1])
    }

    func testInvalidOptionsRejected() {
        XCTAssertThrowsError(try Adagrad(initialAccumulatorValue: -0.1))
        XCTAssertThrowsError(try Adagrad(epsilon: -1e-7))
        XCTAssertThrowsError(try Adagrad(initialAccumulatorValue: 0, epsilon: 0)) { error in
            XCTAssertEqual(error as? OptimizerConfigurationError, .zeroAccumulatorAndEpsilon)
        }
        XCTAssertThrowsError(try Adagrad(clipping: .gradientNorm(threshold: 0))) { error in
            XCTAssertEqual(error as? OptimizerConfigurationError, .nonPositiveValue(name: "clipping.threshold", value: 0))
        }
        XCTAssertThrowsError(try Adagrad(clipping: .adaptive(lambda: -1)))
        XCTAssertThrowsError(try Adagrad(clipping: .adaptive(lambda: 0.01, epsilon: 0)))
        XCTAssertThrowsError(try Adagrad(clipping: .gradientNorm(threshold: .infinity)))
    }
}
