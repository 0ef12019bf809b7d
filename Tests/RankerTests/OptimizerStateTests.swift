import XCTest
@testable import Ranker

/// Checkpoint state of the optimizers: export/import round trip (a restored
/// optimizer continues exactly like the uninterrupted one) and the typed
/// errors of `restoreState`, after which nothing has changed.
final class OptimizerStateTests: XCTestCase {
    /// A dense weight, a bias and an embedding table with fixed gradients.
    func makeModel() -> [Parameter] {
        let w = OptimizerFixtures.dense("l.W", rows: 2, values: [0.5, -0.3, 0.2, 0.8])
        let b = OptimizerFixtures.dense("l.b", values: [0, 0.1])
        let t = OptimizerFixtures.table("emb", rows: [[0.1, 0.2], [0.3, 0.4], [0.5, 0.6]])
        return [w, b, t]
    }

    func setGradients(_ p: [Parameter], step: Int) {
        let s = Float(step + 1)
        OptimizerFixtures.setGradient(p[0], [0.3 * s, -0.2, 0.1, 0.05 * s])
        OptimizerFixtures.setGradient(p[1], [0.4, -0.1 * s])
        OptimizerFixtures.setSparseGradient(p[2], ids: [step % 3, 2], rows: [[0.2, -0.1 * s], [0.3, 0.3]])
    }

    func copyValues(from source: [Parameter], to destination: [Parameter]) {
        for (s, d) in zip(source, destination) { d.value.copy(from: s.value) }
    }

    func roundTrip(_ make: () throws -> Optimizer) throws {
        let original = makeModel()
        let optimizer = try make()
        for step in 0..<2 {
            setGradients(original, step: step)
            optimizer.step(parameters: original, learningRate: 0.05)
        }
        // Checkpoint: copies of the state (as written to disk) and the scalars through JSON.
        let saved = optimizer.stateTensors().map { (name: $0.name, value: $0.value.clone()) }
        XCTAssertEqual(saved.map(\.name), ["l.W", "l.b", "emb"])
        let scalars = try JSONDecoder().decode(OptimizerScalarState.self,
                                               from: try JSONEncoder().encode(optimizer.scalarState))
        XCTAssertEqual(scalars, OptimizerScalarState(stepCount: 2, skippedStepCount: 0))

        let resumedModel = makeModel()
        copyValues(from: original, to: resumedModel)
        let resumed = try make()
        try resumed.restoreState(tensors: saved, scalars: scalars, parameters: resumedModel)
        XCTAssertEqual(resumed.parameterNames, ["l.W", "l.b", "emb"])

        for step in 2..<4 {
            setGradients(original, step: step)
            setGradients(resumedModel, step: step)
            optimizer.step(parameters: original, learningRate: 0.05)
            resumed.step(parameters: resumedModel, learningRate: 0.05)
        }
        for (a, b) in zip(original, resumedModel) {
            XCTAssertEqual(a.value.toArray(), b.value.toArray(), a.name)
        }
        XCTAssertEqual(optimizer.stateTensors().map { $0.value.toArray() },
                       resumed.stateTensors().map { $0.value.toArray() })
        XCTAssertEqual(resumed.scalarState.stepCount, 4)
        XCTAssertEqual(optimizer.clippingFactors, resumed.clippingFactors)
    }

    func testRoundTripAdagrad() throws {
        try roundTrip { try Adagrad(clipping: .adaptive(lambda: 0.02)) }
    }

    func testRoundTripClippy() throws {
        try roundTrip { ClippyAdagrad(preset: .tfrs) }
    }

    func testRestoreErrorsChangeNothing() throws {
        let model = makeModel()
        let optimizer = ClippyAdagrad(preset: .project)
        setGradients(model, step: 0)
        optimizer.step(parameters: model, learningRate: 0.05)
        let before = optimizer.stateTensors().map { $0.value.toArray() }
        let good = optimizer.stateTensors().map { (name: $0.name, value: $0.value.clone()) }
        let scalars = optimizer.scalarState

        func expect(_ tensors: [(name: String, value: Matrix)], _ expected: OptimizerStateError,
                    scalars: OptimizerScalarState? = nil, line: UInt = #line) {
            XCTAssertThrowsError(try optimizer.restoreState(tensors: tensors, scalars: scalars ?? optimizer.scalarState,
                                                            parameters: model), line: line) { error in
                XCTAssertEqual(error as? OptimizerStateError, expected, line: line)
            }
            XCTAssertEqual(optimizer.stateTensors().map { $0.value.toArray() }, before, line: line)
            XCTAssertEqual(optimizer.scalarState, scalars ?? optimizer.scalarState, line: line)
        }
        expect(Array(good.dropLast()), .missingTensor(parameter: "emb"))
        expect(good + [(name: "other", value: Matrix(rows: 1, cols: 1))], .unknownTensor(name: "other"))
        expect(good + [good[1]], .duplicateTensor(name: "l.b"))
        expect([good[0], (name: "l.b", value: Matrix(rows: 2, cols: 1)), good[2]],
               .shapeMismatch(name: "l.b", expectedRows: 1, expectedCols: 2, rows: 2, cols: 1))
        let negative = good[0].value.clone()
        negative.data[3] = -1
        expect([(name: "l.W", value: negative), good[1], good[2]], .invalidValue(name: "l.W", index: 3, value: -1))
        XCTAssertThrowsError(try optimizer.restoreState(tensors: good, scalars: OptimizerScalarState(stepCount: -1),
                                                        parameters: model))
        XCTAssertEqual(optimizer.scalarState, scalars)
    }

    func testPrepareExportsInitialState() throws {
        let model = makeModel()
        let optimizer = try Adagrad(options: .pytorch)
        XCTAssertTrue(optimizer.stateTensors().isEmpty)
        optimizer.prepare(for: model)
        let state = optimizer.stateTensors()
        XCTAssertEqual(state.map(\.name), ["l.W", "l.b", "emb"])
        XCTAssertEqual(state.map { [$0.value.rows, $0.value.cols] }, [[2, 2], [1, 2], [3, 2]])
        XCTAssertTrue(state.allSatisfy { $0.value.toArray().allSatisfy { $0 == 0 } }, "PyTorch accumulators start at 0")
        XCTAssertEqual(optimizer.clippingFactors, [1, 1, 1])
        XCTAssertNil(optimizer.clippingFactor(named: "nope"))
    }
}
