import XCTest
@testable import Ranker

/// Dense and MLP backward against central finite differences, for the plain
/// pass and for the stacked (multi-gradient) pass.
final class DenseGradientTests: XCTestCase {
    func testDenseGradientsMatchFiniteDifferences() {
        var rng = RandomGenerator(seed: 7)
        let dense = Dense(name: "d", inputSize: 5, outputSize: 3, group: .shared)
        dense.initialize(using: &rng)
        for i in 0..<3 { dense.bias!.value.data[i] = Float(rng.normal()) * 0.1 }
        let x = TestData.randomMatrix(rows: 4, cols: 5, seed: 1)
        let y = Matrix(rows: 4, cols: 3)
        let w = (0..<12).map { _ in rng.normal() }
        func loss() -> Double {
            dense.forward(x.view, into: y.view)
            return TestData.weightedSum(y.view, weights: w)
        }
        _ = loss()
        let dY = Matrix(rows: 4, cols: 3, values: w.map { Float($0) })
        let dX = Matrix(rows: 4, cols: 5)
        dense.backward(dY.view, inputGradient: dX.view)
        FiniteDifference.assertGradient(name: "W", values: dense.weight.value.data, count: 15,
                                        analytic: dense.weight.grad.toArray().map(Double.init), loss: loss)
        FiniteDifference.assertGradient(name: "b", values: dense.bias!.value.data, count: 3,
                                        analytic: dense.bias!.grad.toArray().map(Double.init), loss: loss)
        FiniteDifference.assertGradient(name: "x", values: x.data, count: 20,
                                        analytic: dX.toArray().map(Double.init), loss: loss)
    }
}
