import XCTest
@testable import Ranker

/// BatchNorm and dropout (ALGORITHMS.md 3.2.1) against central finite
/// differences, in training and evaluation mode, and the per-block rule of the
/// stacked backward pass. (`batchnorm.json` checks the same layer against
/// PyTorch; these tests check the backward independently of it.)
final class BatchNormGradientTests: XCTestCase {
    static func training(seed: UInt64 = 21) -> ForwardMode { ModelFixtures.mode(trainingSeed: seed) }

    /// A layer with non-trivial gamma, beta and running statistics.
    static func layer(width: Int, group: ParameterGroup = .shared, seed: UInt64 = 2) -> BatchNorm {
        let bn = BatchNorm(name: "bn", width: width, group: group)
        var rng = RandomGenerator(seed: seed)
        for j in 0..<width {
            bn.gamma.value.data[j] = Float(1 + 0.3 * rng.normal())
            bn.beta.value.data[j] = Float(0.2 * rng.normal())
            bn.runningMean.data[j] = Float(0.5 * rng.normal())
            bn.runningVariance.data[j] = Float(0.5 + rng.nextDouble())
        }
        return bn
    }

    /// `z` with one column around 10 (the statistics must not lose it to rounding).
    static func input(rows: Int, cols: Int, seed: UInt64) -> Matrix {
        let z = TestData.randomMatrix(rows: rows, cols: cols, seed: seed, scale: 1.5)
        for r in 0..<rows { z[r, 1] += 10 }
        return z
    }

    /// `Σ w ∘ BN(z)` for both modes: analytic `dz`, `dgamma`, `dbeta` against differences.
    func testBackwardMatchesFiniteDifferencesInBothModes() {
        for training in [true, false] {
            let rows = 6, n = 4
            let z = Self.input(rows: rows, cols: n, seed: 1)
            let bn = Self.layer(width: n)
            let upstream = StackedUpstream(tasks: 1, rows: rows, cols: n, seed: 3)
            let mode = training ? Self.training() : .evaluation
            let y = z.clone()
            withExtendedLifetime(y) { bn.forward(y.view, mode: mode) }
            let dz = upstream.stacked.clone()
            bn.backward(dz.view)
            let label = training ? "training" : "evaluation"
            let dgamma = bn.gamma.grad.toArray().map(Double.init)
            let dbeta = bn.beta.grad.toArray().map(Double.init)
            let loss = { () -> Double in
                let out = z.clone()
                bn.forward(out.view, mode: mode)
                return TestData.weightedSum(out.view, weights: upstream.weights[0])
            }
            FiniteDifference.assertGradient(name: "\(label) dz", values: z.data, count: z.count,
                                            analytic: dz.toArray().map(Double.init), h: 1e-2, loss: loss)
            FiniteDifference.assertGradient(name: "\(label) dgamma", values: bn.gamma.value.data, count: n,
                                            analytic: dgamma, loss: loss)
            FiniteDifference.assertGradient(name: "\(label) dbeta", values: bn.beta.value.data, count: n,
                                            analytic: dbeta, loss: loss)
        }
    }

    /// Training-mode `dz` sums to zero over the batch per column (the mean is
    /// subtracted), and `dz ⟂ xhat`: the closed-form consequences of 3.2.1.
    func testTrainingGradientIsOrthogonalToTheNormalisation() {
        let rows = 7, n = 3
        let z = Self.input(rows: rows, cols: n, seed: 4)
        let bn = Self.layer(width: n)
        let y = z.clone()
        bn.forward(y.view, mode: Self.training())
        let dz = StackedUpstream(tasks: 1, rows: rows, cols: n, seed: 5).stacked.clone()
        bn.backward(dz.view)
        for j in 0..<n {
            var sum = 0.0, dot = 0.0
            for r in 0..<rows {
                sum += Double(dz[r, j])
                dot += Double(dz[r, j]) * Double((y[r, j] - bn.beta.value.data[j]) / bn.gamma.value.data[j])
            }
            XCTAssertEqual(sum, 0, accuracy: 1e-5, "column \(j): Σ dz")
            XCTAssertEqual(dot, 0, accuracy: 1e-4, "column \(j): Σ dz · xhat")
        }
    }

    /// Stacked backward (the multi-gradient pass): each block of `B` rows is
    /// the backward of that block alone, with the statistics of the one
    /// forward pass; a shared layer gets one gamma/beta gradient per block, a
    /// task-`k` layer block `k`'s.
    func testStackedBackwardTreatsEachBlockSeparately() {
        let rows = 5, n = 3, tasks = 3
        let z = Self.input(rows: rows, cols: n, seed: 6)
        let upstream = StackedUpstream(tasks: tasks, rows: rows, cols: n, seed: 7)
        for group in [ParameterGroup.shared, .task(1)] {
            let bn = Self.layer(width: n, group: group)
            let y = z.clone()
            withExtendedLifetime(y) { bn.forward(y.view, mode: Self.training()) }
            let stacked = upstream.stacked.clone()
            bn.backward(stacked.view)
            // What the stacked pass wrote: per task (shared) or block 1's (task 1).
            let stackedGamma = (0..<tasks).map { t -> [Float] in
                group == .shared ? Array(UnsafeBufferPointer(start: bn.gamma.taskGradient(t), count: n))
                    : bn.gamma.grad.toArray()
            }
            let stackedBeta = (0..<tasks).map { t -> [Float] in
                group == .shared ? Array(UnsafeBufferPointer(start: bn.beta.taskGradient(t), count: n))
                    : bn.beta.grad.toArray()
            }
            for t in 0..<tasks {
                let single = Matrix(rows: rows, cols: n)
                single.copy(from: Array(upstream.stacked.toArray()[(t * rows * n)..<((t + 1) * rows * n)]))
                bn.backward(single.view)
                XCTAssertEqual(stacked.view.rows(t * rows ..< (t + 1) * rows).toArray(), single.toArray(),
                               "\(group): block \(t) of dz")
                if group == .shared || t == 1 {
                    XCTAssertEqual(stackedGamma[t], bn.gamma.grad.toArray(), "\(group): block \(t)'s dgamma")
                    XCTAssertEqual(stackedBeta[t], bn.beta.grad.toArray(), "\(group): block \(t)'s dbeta")
                }
            }
        }
    }

    /// Dropout: the mask is `0` or `1/(1-p)`, fixed by the generator's state,
    /// keeps about `1 - p`; evaluation is the identity.
    func testDropoutMaskIsSeededInvertedAndOffInEvaluation() {
        let dropout = Dropout(rate: 0.25)
        let h = Matrix(rows: 200, cols: 50)
        h.fill(1)
        dropout.forward(h.view, mode: Self.training(seed: 3))
        let values = Set(h.toArray())
        XCTAssertEqual(values, [0, Float(1 / 0.75)])
        let kept = Double(h.toArray().filter { $0 != 0 }.count) / Double(h.count)
        XCTAssertEqual(kept, 0.75, accuracy: 0.02)
        let again = Matrix(rows: 200, cols: 50)
        again.fill(1)
        dropout.forward(again.view, mode: Self.training(seed: 3))
        XCTAssertEqual(again.toArray(), h.toArray(), "same generator state, same mask")
        let other = Matrix(rows: 200, cols: 50)
        other.fill(1)
        dropout.forward(other.view, mode: Self.training(seed: 4))
        XCTAssertNotEqual(other.toArray(), h.toArray())
        let evaluated = TestData.randomMatrix(rows: 4, cols: 3, seed: 1)
        let copy = evaluated.clone()
        dropout.forward(evaluated.view, mode: .evaluation)
        XCTAssertEqual(evaluated.toArray(), copy.toArray())
        let gradient = copy.clone()
        dropout.backward(gradient.view)
        XCTAssertEqual(gradient.toArray(), copy.toArray(), "backward after evaluation is the identity")
    }

    /// An MLP with BatchNorm and dropout (fixed mask: the same seed every
    /// pass) against finite differences: every parameter and the input, in
    /// the weighted and the stacked pass.
    func testMLPWithBatchNormAndDropoutMatchesFiniteDifferences() {
        let rows = 6
        let mlp = MLP(name: "m", inputSize: 4, hiddenSizes: [5, 3], outputSize: 2, group: .shared,
                      batchNorm: true, dropout: 0.3)
        var rng = RandomGenerator(seed: 8)
        mlp.initialize(using: &rng)
        for bn in mlp.batchNorms.compactMap({ $0 }) {
            for j in 0..<bn.width {
                bn.gamma.value.data[j] = Float(1 + 0.3 * rng.normal())
                bn.beta.value.data[j] = Float(0.3 * rng.normal())
            }
        }
        XCTAssertEqual(mlp.parameters.map(\.name), ["m.0.W", "m.0.b", "m.0.bn.gamma", "m.0.bn.beta",
                                                    "m.1.W", "m.1.b", "m.1.bn.gamma", "m.1.bn.beta", "m.2.W", "m.2.b"])
        XCTAssertEqual(mlp.stateTensors.map(\.name), ["m.0.bn.running_mean", "m.0.bn.running_var",
                                                      "m.1.bn.running_mean", "m.1.bn.running_var"])
        let x = TestData.randomMatrix(rows: rows, cols: 4, seed: 9)
        let tasks = 2
        let upstream = StackedUpstream(tasks: tasks, rows: rows, cols: 2, seed: 10)
        mlp.forward(x.view, mode: Self.training())
        let dX = Matrix(rows: tasks * rows, cols: 4)
        mlp.backward(upstream.stacked.view, inputGradient: dX.view)
        for t in 0..<tasks {
            let loss = { () -> Double in
                TestData.weightedSum(mlp.forward(x.view, mode: Self.training()), weights: upstream.weights[t])
            }
            for p in mlp.parameters {
                let g = (0..<p.count).map { Double(p.taskGradient(t)[$0]) }
                FiniteDifference.assertGradient(name: "task \(t) \(p.name)", values: p.value.data, count: p.count,
                                                analytic: g, h: 1e-2, rtol: 3e-2, atol: 1e-4, loss: loss)
            }
            let dx = dX.view.rows(t * rows ..< (t + 1) * rows).toArray().map(Double.init)
            FiniteDifference.assertGradient(name: "task \(t) dx", values: x.data, count: x.count, analytic: dx,
                                            h: 1e-2, rtol: 3e-2, atol: 1e-4, loss: loss)
        }
    }
}
