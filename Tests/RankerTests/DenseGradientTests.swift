import XCTest
@testable import Ranker

/// Dense backward against central finite differences: the plain pass, the
/// stacked multi-gradient pass for a shared layer (one gradient per task in
/// `taskGradients`) and for a task-specific layer (its own block's gradient in
/// `grad`), a bias-free layer, and input-gradient accumulation.
///
/// The loss `Σ w ∘ (xW + b)` is linear in each of `W`, `b` and `x`, so central
/// differences are exact for any step; a large step (`h`) keeps the `Float`
/// rounding of the forward pass far below the tolerance even for small
/// gradient coordinates.
final class DenseGradientTests: XCTestCase {
    private func assertLinearGradient(name: String, values: UnsafeMutablePointer<Float>, count: Int,
                                      analytic: [Double], file: StaticString = #filePath, line: UInt = #line,
                                      loss: () -> Double) {
        FiniteDifference.assertGradient(name: name, values: values, count: count, analytic: analytic, h: 0.1,
                                        file: file, line: line, loss: loss)
    }

    private func makeDense(group: ParameterGroup, hasBias: Bool = true, seed: UInt64) -> Dense {
        var rng = RandomGenerator(seed: seed)
        let dense = Dense(name: "d", inputSize: 5, outputSize: 3, group: group, hasBias: hasBias)
        dense.initialize(using: &rng)
        if let b = dense.bias { for i in 0..<3 { b.value.data[i] = Float(rng.normal()) * 0.1 } }
        return dense
    }

    func testDenseGradientsMatchFiniteDifferences() {
        var rng = RandomGenerator(seed: 7)
        let dense = makeDense(group: .shared, seed: 7)
        let x = TestData.randomMatrix(rows: 4, cols: 5, seed: 1)
        let y = Matrix(rows: 4, cols: 3)
        let w = (0..<12).map { _ in Double(Float(rng.normal())) }
        func loss() -> Double {
            dense.forward(x.view, into: y.view)
            return TestData.weightedSum(y.view, weights: w)
        }
        _ = loss()
        let dY = Matrix(rows: 4, cols: 3, values: w.map { Float($0) })
        let dX = Matrix(rows: 4, cols: 5)
        dense.backward(dY.view, inputGradient: dX.view)
        assertLinearGradient(name: "W", values: dense.weight.value.data, count: 15,
                                        analytic: dense.weight.grad.toArray().map(Double.init), loss: loss)
        assertLinearGradient(name: "b", values: dense.bias!.value.data, count: 3,
                                        analytic: dense.bias!.grad.toArray().map(Double.init), loss: loss)
        assertLinearGradient(name: "x", values: x.data, count: 20,
                                        analytic: dX.toArray().map(Double.init), loss: loss)
    }

    /// Shared layer, 3 stacked copies: `taskGradients` row `t` of W and b is the
    /// gradient of task `t`'s loss; `dX` block `t` likewise.
    func testStackedSharedDenseWritesOneGradientPerTask() {
        let batch = 4, tasks = 3
        let dense = makeDense(group: .shared, seed: 8)
        let x = TestData.randomMatrix(rows: batch, cols: 5, seed: 2)
        let y = Matrix(rows: batch, cols: 3)
        let upstream = StackedUpstream(tasks: tasks, rows: batch, cols: 3, seed: 3)
        dense.forward(x.view, into: y.view)
        let dX = Matrix(rows: tasks * batch, cols: 5)
        dense.backward(upstream.stacked.view, inputGradient: dX.view)
        XCTAssertEqual(dense.weight.taskGradients.rows, tasks)
        XCTAssertEqual(dense.weight.taskGradients.cols, 15)
        let weightGrads = (0..<tasks).map { TestData.snapshot(dense.weight.taskGradient($0), count: 15) }
        let biasGrads = (0..<tasks).map { TestData.snapshot(dense.bias!.taskGradient($0), count: 3) }
        for t in 0..<tasks {
            func loss() -> Double {
                dense.forward(x.view, into: y.view)
                return upstream.loss(t, of: y.view)
            }
            assertLinearGradient(name: "W task \(t)", values: dense.weight.value.data, count: 15,
                                            analytic: weightGrads[t], loss: loss)
            assertLinearGradient(name: "b task \(t)", values: dense.bias!.value.data, count: 3,
                                            analytic: biasGrads[t], loss: loss)
            assertLinearGradient(name: "x task \(t)", values: x.data, count: 20,
                                            analytic: upstream.block(t, of: dX), loss: loss)
        }
    }

    /// Layer of task 1, 3 stacked copies: `grad` is block 1's gradient only,
    /// `taskGradients` stays unused; `dX` still covers every block.
    func testStackedTaskDenseWritesItsOwnBlock() {
        let batch = 4, tasks = 3, owner = 1
        let dense = makeDense(group: .task(owner), seed: 9)
        let x = TestData.randomMatrix(rows: batch, cols: 5, seed: 4)
        let y = Matrix(rows: batch, cols: 3)
        let upstream = StackedUpstream(tasks: tasks, rows: batch, cols: 3, seed: 5)
        dense.forward(x.view, into: y.view)
        let dX = Matrix(rows: tasks * batch, cols: 5)
        dense.backward(upstream.stacked.view, inputGradient: dX.view)
        XCTAssertEqual(dense.weight.taskGradients.count, 0, "a task-specific parameter gets no per-task gradients")
        let weightGrad = dense.weight.grad.toArray().map(Double.init)
        let biasGrad = dense.bias!.grad.toArray().map(Double.init)
        for t in 0..<tasks {
            func loss() -> Double {
                dense.forward(x.view, into: y.view)
                return upstream.loss(t, of: y.view)
            }
            if t == owner {
                assertLinearGradient(name: "W", values: dense.weight.value.data, count: 15,
                                                analytic: weightGrad, loss: loss)
                assertLinearGradient(name: "b", values: dense.bias!.value.data, count: 3,
                                                analytic: biasGrad, loss: loss)
            }
            assertLinearGradient(name: "x task \(t)", values: x.data, count: 20,
                                            analytic: upstream.block(t, of: dX), loss: loss)
        }
    }

    /// Bias-free layer; `x` and `y` are column blocks of wider matrices; the
    /// input gradient is added to what `dX` holds with `accumulateInput`.
    func testBiasFreeDenseOnViewsAccumulatesInputGradient() {
        let dense = makeDense(group: .shared, hasBias: false, seed: 10)
        XCTAssertEqual(dense.parameters.count, 1)
        let wideX = TestData.randomMatrix(rows: 4, cols: 8, seed: 6)
        let x = wideX.view.cols(2..<7)
        let wideY = Matrix(rows: 4, cols: 6)
        let y = wideY.view.cols(1..<4)
        let upstream = StackedUpstream(tasks: 1, rows: 4, cols: 3, seed: 7)
        func loss() -> Double {
            dense.forward(x, into: y)
            return upstream.loss(0, of: y)
        }
        _ = loss()
        let initial = TestData.randomMatrix(rows: 4, cols: 5, seed: 8)
        let dX = initial.clone()
        dense.backward(upstream.stacked.view, inputGradient: dX.view, accumulateInput: true)
        let analyticX = zip(dX.toArray(), initial.toArray()).map { Double($0) - Double($1) }
        var xValues = x.toArray()
        xValues.withUnsafeMutableBufferPointer { p in
            assertLinearGradient(name: "x", values: p.baseAddress!, count: 20, analytic: analyticX) {
                for r in 0..<4 { for c in 0..<5 { x[r, c] = p[r * 5 + c] } }
                return loss()
            }
        }
        for r in 0..<4 { for c in 0..<5 { x[r, c] = xValues[r * 5 + c] } }
        assertLinearGradient(name: "W", values: dense.weight.value.data, count: 15,
                                        analytic: dense.weight.grad.toArray().map(Double.init), loss: loss)
    }
}
