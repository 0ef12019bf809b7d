import Foundation
import XCTest
@testable import Ranker

/// Adam (docs/ALGORITHMS.md §4.4) against values computed outside the library
/// in float64 from the closed form
/// `m_t = b1 m + (1-b1) g`, `v_t = b2 v + (1-b2) g²`,
/// `w -= lr/(1-b1^t) · m_t / (sqrt(v_t)/sqrt(1-b2^t) + eps)` (betas 0.9/0.999,
/// eps 1e-8, lr 0.1): dense, lazy sparse rows, GradNorm's expectations, its
/// configuration and its checkpointed state.
final class AdamTests: XCTestCase {
    func assertClose(_ actual: [Float], _ expected: [Double], rtol: Double = 2e-6, atol: Double = 1e-7,
                     _ message: String = "", file: StaticString = #filePath, line: UInt = #line) {
        XCTAssertEqual(actual.count, expected.count, message, file: file, line: line)
        for (a, e) in zip(actual, expected) {
            XCTAssertEqual(Double(a), e, accuracy: atol + rtol * abs(e), "\(message): \(actual) vs \(expected)",
                           file: file, line: line)
        }
    }

    func state(_ optimizer: Optimizer, _ name: String) -> [Float] {
        optimizer.stateTensors().first { $0.name == name }!.value.toArray()
    }

    /// Step 1 moves every coordinate with a non-zero gradient by `lr` against
    /// its sign (`m̂ = g`, `v̂ = g²`); a zero gradient does not move it.
    func testThreeDenseStepsMatchTheClosedForm() throws {
        let optimizer = try Adam(options: AdamOptions())
        let w = OptimizerFixtures.dense("w", values: [0.5, -1, 2])
        let expected: [[Double]] = [
            [0.40000000499999977, -0.9000000024999999, 2],
            [0.3067820470153658, -0.8910675020121357, 2.074413680252488],
            [0.29570374052276144, -0.8968350053816819, 2.069895456385421],
        ]
        for (t, g) in [[0.2, -0.4, 0], [0.1, 0.3, -0.5], [-0.2, 0.1, 0.5]].enumerated() {
            OptimizerFixtures.setGradient(w, g.map { Float($0) })
            XCTAssertEqual(optimizer.step(parameters: [w], learningRate: 0.1), OptimizerStepReport(applied: true))
            assertClose(w.value.toArray(), expected[t], "step \(t + 1)")
        }
        assertClose(state(optimizer, "w/m"), [0.0052, 0.0046, 0.005])
        assertClose(state(optimizer, "w/v"), [8.991004e-05, 0.00025959016, 0.00049975])
        XCTAssertEqual(optimizer.stateTensors().map(\.name), ["w/m", "w/v"])
        XCTAssertEqual(optimizer.clippingFactor(named: "w"), 1)
        XCTAssertEqual(optimizer.scalarState.stepCount, 3)
    }

    /// Lazy Adam: only touched rows and their moments change, with the
    /// global step count in the bias corrections (row 1 is first touched at
    /// step 3 and uses `t = 3`; row 0's moments skip step 2's decay).
    func testThreeSparseStepsAreLazyWithTheGlobalStepCount() throws {
        let optimizer = try Adam(options: AdamOptions())
        let table = OptimizerFixtures.table("t", rows: [[1, 2], [3, 4], [5, 6]])
        let steps: [(ids: [Int], rows: [[Float]], expected: [Double])] = [
            ([2, 0], [[0.1, 0.2], [0.3, -0.4]], [0.9000000033333332, 2.0999999975, 3, 4, 4.900000009999999, 5.900000005]),
            ([2], [[0.5, -0.2]], [0.9000000033333332, 2.0999999975, 3, 4, 4.813895386180786, 5.905263162631579]),
            ([0, 1], [[-0.1, 0.2], [0.4, 0.4]],
             [0.8656427394005837, 2.122864034190756, 2.9361186428249093, 3.9361186428249093, 4.813895386180786,
              5.905263162631579]),
        ]
        for (t, s) in steps.enumerated() {
            OptimizerFixtures.setSparseGradient(table, ids: s.ids, rows: s.rows)
            optimizer.step(parameters: [table], learningRate: 0.1)
            assertClose(table.value.toArray(), s.expected, "step \(t + 1)")
        }
        assertClose(state(optimizer, "t/m"), [0.017, -0.016, 0.04, 0.04, 0.059, -0.002])
        assertClose(state(optimizer, "t/v"), [9.991e-05, 0.00019984, 0.00016, 0.00016, 0.00025999, 7.996e-05])
    }

    /// The Float rule on model parameters and GradNorm's Double weight step
    /// are the same function: GradNorm's worked example (ALGORITHMS.md 5.3, first Adam
    /// step with lr 0.025, then renormalised) through the optimizer driver,
    /// and the driver's Float result equal bit for bit to `AdamRule.update`
    /// on `Float` vectors.
    func testGradNormsWeightStepThroughTheDriver() throws {
        let gradient: [Float] = [3, -0.5, -1.414214]
        let optimizer = try Adam(options: AdamOptions())
        let w = OptimizerFixtures.dense("w", values: [1, 1, 1])
        OptimizerFixtures.setGradient(w, gradient)
        optimizer.step(parameters: [w], learningRate: 0.025)
        var weights = w.value.toArray().map { Double($0) }
        GradNormRule.renormalize(&weights, variant: .paper)
        for (a, e) in zip(weights, [0.9669421, 1.016529, 1.016529]) { XCTAssertEqual(a, e, accuracy: 1e-6 * e) }

        var vector: [Float] = [1, 1, 1], m: [Float] = [0, 0, 0], v: [Float] = [0, 0, 0]
        AdamRule.update(weights: &vector, gradient: gradient, firstMoment: &m, secondMoment: &v, step: 1,
                        learningRate: 0.025, beta1: 0.9, beta2: 0.999, epsilon: 1e-8)
        XCTAssertEqual(w.value.toArray().map(\.bitPattern), vector.map(\.bitPattern))
        XCTAssertEqual(state(optimizer, "w/m").map(\.bitPattern), m.map(\.bitPattern))
        XCTAssertEqual(state(optimizer, "w/v").map(\.bitPattern), v.map(\.bitPattern))
    }

    func testConfigurationKeysDefaultsAndErrors() throws {
        func decode(_ json: String) throws -> OptimizerConfiguration {
            try JSONDecoder().decode(OptimizerConfiguration.self, from: Data(json.utf8))
        }
        func rejects(_ json: String, _ expected: OptimizerConfigurationError, line: UInt = #line) {
            XCTAssertThrowsError(try decode(json).makeOptimizer(), line: line) { error in
                XCTAssertEqual(error as? OptimizerConfigurationError, expected, line: line)
            }
        }
        XCTAssertTrue(OptimizerRegistry.names.contains("adam"))
        let plain = try decode(#"{"kind": "adam", "learning_rate": 0.001}"#)
        XCTAssertEqual(try plain.options(of: AdamRule.self), AdamOptions(beta1: 0.9, beta2: 0.999, epsilon: 1e-8))
        XCTAssertEqual(plain.telemetryName, "adam")
        XCTAssertFalse(try plain.reportsClippingFactors())
        XCTAssertEqual(try JSONDecoder().decode(OptimizerConfiguration.self, from: JSONEncoder().encode(plain)), plain)
        let tuned = try decode(#"{"kind": "adam", "beta1": 0.8, "beta2": 0.99, "epsilon": 1e-6}"#)
        XCTAssertEqual(try tuned.options(of: AdamRule.self), AdamOptions(beta1: 0.8, beta2: 0.99, epsilon: 1e-6))
        XCTAssertEqual((try tuned.makeOptimizer() as? Adam)?.options.beta2, 0.99)

        rejects(#"{"kind": "adam", "beta_1": 0.9}"#,
                .unknownKey("beta_1", known: ["beta1", "beta2", "epsilon", "kind", "learning_rate"]))
        rejects(#"{"kind": "adam", "preset": "paper"}"#, .optionNotApplicable(key: "preset", kind: "adam"))
        rejects(#"{"kind": "adagrad", "beta1": 0.9}"#, .optionNotApplicable(key: "beta1", kind: "adagrad"))
        rejects(#"{"kind": "adam", "beta1": 1}"#, .outOfRange(name: "beta1", value: 1, range: "[0, 1)"))
        rejects(#"{"kind": "adam", "beta2": -0.5}"#, .outOfRange(name: "beta2", value: -0.5, range: "[0, 1)"))
        rejects(#"{"kind": "adam", "epsilon": 0}"#, .nonPositiveValue(name: "epsilon", value: 0))
        rejects(#"{"kind": "adam", "learning_rate": 0}"#, .nonPositiveValue(name: "learning_rate", value: 0))
    }

    /// Two state tensors per parameter, `<name>/m` and `<name>/v`: restored
    /// state continues bitwise; `v < 0` or a missing moment is rejected and
    /// changes nothing; `m` may be negative.
    func testStateTensorsRoundTripAndValidation() throws {
        func parameters() -> [Parameter] {
            let w = OptimizerFixtures.dense("w", values: [0.5, -1])
            let t = OptimizerFixtures.table("t", rows: [[1, 2], [3, 4]])
            return [w, t]
        }
        func step(_ optimizer: Optimizer, _ p: [Parameter], _ k: Float) {
            OptimizerFixtures.setGradient(p[0], [0.2 * k, -0.4])
            OptimizerFixtures.setSparseGradient(p[1], ids: [1], rows: [[k, -0.5]])
            optimizer.step(parameters: p, learningRate: 0.1)
        }
        let a = try Adam(options: AdamOptions()), pa = parameters()
        step(a, pa, 1)
        step(a, pa, -2)
        XCTAssertEqual(a.stateTensorNames(forParameter: "w"), ["w/m", "w/v"])
        XCTAssertEqual(a.stateTensors().map(\.name), ["w/m", "w/v", "t/m", "t/v"])

        let b = try Adam(options: AdamOptions()), pb = parameters()
        for (x, y) in zip(pa, pb) { y.value.copy(from: x.value) }
        let saved = a.stateTensors().map { (name: $0.name, value: $0.value.clone()) }
        var bad = saved
        bad[1] = (name: "w/v", value: Matrix(rows: 1, cols: 2, values: [0.1, -0.1]))
        XCTAssertThrowsError(try b.restoreState(tensors: bad, scalars: a.scalarState, parameters: pb)) { error in
            XCTAssertEqual(error as? OptimizerStateError, .invalidValue(name: "w/v", index: 1, value: -0.1))
        }
        XCTAssertThrowsError(try b.restoreState(tensors: Array(saved.dropLast()), scalars: a.scalarState,
                                                parameters: pb)) { error in
            XCTAssertEqual(error as? OptimizerStateError, .missingTensor(parameter: "t/v"))
        }
        XCTAssertEqual(b.scalarState, OptimizerScalarState())
        XCTAssertTrue(saved[0].value.toArray().contains { $0 < 0 }, "m holds a negative value")
        try b.restoreState(tensors: saved, scalars: a.scalarState, parameters: pb)
        step(a, pa, 3)
        step(b, pb, 3)
        for (x, y) in zip(pa, pb) {
            XCTAssertEqual(x.value.toArray().map(\.bitPattern), y.value.toArray().map(\.bitPattern), x.name)
        }
        for (x, y) in zip(a.stateTensors(), b.stateTensors()) {
            XCTAssertEqual(x.value.toArray().map(\.bitPattern), y.value.toArray().map(\.bitPattern), x.name)
        }
    }
}
