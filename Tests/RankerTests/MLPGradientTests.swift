import XCTest
@testable import Ranker

/// MLP backward against central finite differences for every parameter and
/// the input: an expert/bottom MLP (ReLU after every layer) and a tower (final
/// linear layer), in the plain pass and in the stacked pass, shared and
/// task-specific.
final class MLPGradientTests: XCTestCase {
    private let batch = 5
    private let inputSize = 4

    private func makeMLP(outputSize: Int?, group: ParameterGroup, seed: UInt64) -> MLP {
        let mlp = MLP(name: "m", inputSize: inputSize, hiddenSizes: [6, 3], outputSize: outputSize, group: group)
        var rng = RandomGenerator(seed: seed)
        mlp.initialize(using: &rng)
        for layer in mlp.layers {
            let b = layer.bias!
            for i in 0..<b.count { b.value.data[i] = Float(rng.normal()) * 0.1 }
        }
        return mlp
    }

    func testLayerNamesAndShapes() {
        let tower = makeMLP(outputSize: 1, group: .task(0), seed: 1)
        XCTAssertEqual(tower.parameters.map(\.name), ["m.0.W", "m.0.b", "m.1.W", "m.1.b", "m.2.W", "m.2.b"])
        XCTAssertEqual(tower.outputSize, 1)
        XCTAssertEqual(makeMLP(outputSize: nil, group: .shared, seed: 1).parameters.count, 4)
    }

    /// Plain pass (one upstream gradient) for both MLP forms.
    func testMLPGradientsMatchFiniteDifferences() {
        for outputSize in [nil, 2] as [Int?] {
            let mlp = makeMLP(outputSize: outputSize, group: .shared, seed: 61)
            let x = TestData.randomMatrix(rows: batch, cols: inputSize, seed: 62)
            let upstream = StackedUpstream(tasks: 1, rows: batch, cols: mlp.outputSize, seed: 63)
            func loss() -> Double { upstream.loss(0, of: mlp.forward(x.view)) }
            _ = loss()
            let dX = Matrix(rows: batch, cols: inputSize)
            mlp.backward(upstream.stacked.view, inputGradient: dX.view)
            let label = outputSize == nil ? "expert" : "tower"
            for p in mlp.parameters {
                FiniteDifference.assertGradient(name: "\(label) \(p.name)", values: p.value.data, count: p.count,
                                                analytic: p.grad.toArray().map(Double.init), loss: loss)
            }
            FiniteDifference.assertGradient(name: "\(label) x", values: x.data, count: x.count,
                                            analytic: dX.toArray().map(Double.init), loss: loss)
        }
    }

    /// Stacked pass over 3 tasks: a shared MLP fills `taskGradients` (row `t` =
    /// task `t`'s gradient) for every parameter; `dX` block `t` is task `t`'s.
    func testStackedSharedMLPWritesOneGradientPerTask() {
        let tasks = 3
        for outputSize in [nil, 2] as [Int?] {
            let mlp = makeMLP(outputSize: outputSize, group: .shared, seed: 64)
            let x = TestData.randomMatrix(rows: batch, cols: inputSize, seed: 65)
            let upstream = StackedUpstream(tasks: tasks, rows: batch, cols: mlp.outputSize, seed: 66)
            mlp.forward(x.view)
            let dX = Matrix(rows: tasks * batch, cols: inputSize)
            let dOutput = upstream.stacked.clone()
            mlp.backward(dOutput.view, inputGradient: dX.view)
            XCTAssertEqual(dOutput.toArray(), upstream.stacked.toArray(), "backward must not modify dOutput")
            let perTask = mlp.parameters.map { p in (0..<tasks).map { TestData.snapshot(p.taskGradient($0), count: p.count) } }
            let label = outputSize == nil ? "expert" : "tower"
            for t in 0..<tasks {
                func loss() -> Double { upstream.loss(t, of: mlp.forward(x.view)) }
                for (i, p) in mlp.parameters.enumerated() {
                    FiniteDifference.assertGradient(name: "\(label) \(p.name) task \(t)", values: p.value.data,
                                                    count: p.count, analytic: perTask[i][t], loss: loss)
                }
                FiniteDifference.assertGradient(name: "\(label) x task \(t)", values: x.data, count: x.count,
                                                analytic: upstream.block(t, of: dX), loss: loss)
            }
        }
    }

    /// Stacked pass with a tower of task 2: its `grad` holds block 2's gradient.
    func testStackedTaskMLPWritesItsOwnBlock() {
        let tasks = 3, owner = 2
        let mlp = makeMLP(outputSize: 1, group: .task(owner), seed: 67)
        let x = TestData.randomMatrix(rows: batch, cols: inputSize, seed: 68)
        let upstream = StackedUpstream(tasks: tasks, rows: batch, cols: 1, seed: 69)
        mlp.forward(x.view)
        let dX = Matrix(rows: tasks * batch, cols: inputSize)
        mlp.backward(upstream.stacked.view, inputGradient: dX.view)
        let grads = mlp.parameters.map { $0.grad.toArray().map(Double.init) }
        func loss() -> Double { upstream.loss(owner, of: mlp.forward(x.view)) }
        for (i, p) in mlp.parameters.enumerated() {
            XCTAssertEqual(p.taskGradients.count, 0)
            FiniteDifference.assertGradient(name: "\(p.name)", values: p.value.data, count: p.count,
                                            analytic: grads[i], loss: loss)
        }
        for t in 0..<tasks {
            FiniteDifference.assertGradient(name: "x task \(t)", values: x.data, count: x.count,
                                            analytic: upstream.block(t, of: dX)) {
                upstream.loss(t, of: mlp.forward(x.view))
            }
        }
    }

    /// `accumulateInput` adds the input gradient to what `dX` holds.
    func testInputGradientAccumulates() {
        let mlp = makeMLP(outputSize: 1, group: .shared, seed: 70)
        let x = TestData.randomMatrix(rows: batch, cols: inputSize, seed: 71)
        let upstream = StackedUpstream(tasks: 1, rows: batch, cols: 1, seed: 72)
        mlp.forward(x.view)
        let fresh = Matrix(rows: batch, cols: inputSize)
        mlp.backward(upstream.stacked.view, inputGradient: fresh.view)
        let accumulated = TestData.randomMatrix(rows: batch, cols: inputSize, seed: 73)
        let initial = accumulated.toArray()
        mlp.backward(upstream.stacked.view, inputGradient: accumulated.view, accumulateInput: true)
        for i in 0..<accumulated.count {
            XCTAssertEqual(accumulated.data[i], initial[i] + fresh.data[i], accuracy: 1e-6)
        }
    }
}
