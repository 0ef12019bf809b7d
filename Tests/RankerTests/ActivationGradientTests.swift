import Foundation
import XCTest
@testable import Ranker

/// ReLU, Sigmoid and RowSoftmax backward against central finite differences,
/// for one upstream gradient and for stacked copies (each block masked or
/// scaled by the same forward output), plus the forward's edge behaviour.
final class ActivationGradientTests: XCTestCase {
    private let batch = 5
    private let width = 4
    private let tasks = 3

    /// Checks an in-place activation: `L_t = Σ w_t ∘ f(z)`; `backward` turns
    /// the stacked `dL/df` into `dL/dz` given the forward output.
    private func checkActivation(name: String, z: Matrix,
                                 forward: (MatrixView) -> Void,
                                 backward: (_ gradient: MatrixView, _ output: MatrixView) -> Void,
                                 file: StaticString = #filePath, line: UInt = #line) {
        let output = Matrix(rows: batch, cols: width)
        func evaluate() { output.copy(from: z); forward(output.view) }
        evaluate()
        for stack in [1, tasks] {
            let upstream = StackedUpstream(tasks: stack, rows: batch, cols: width, seed: UInt64(40 + stack))
            let gradient = upstream.stacked.clone()
            backward(gradient.view, output.view)
            for t in 0..<stack {
                FiniteDifference.assertGradient(name: "\(name) stack \(stack) task \(t)", values: z.data, count: z.count,
                                                analytic: upstream.block(t, of: gradient),
                                                file: file, line: line) {
                    evaluate()
                    return upstream.loss(t, of: output.view)
                }
            }
            evaluate()
        }
    }

    /// Pre-activations kept at least 0.05 away from ReLU's kink, so a step of
    /// 1e-3 never crosses it.
    private func awayFromZero(seed: UInt64) -> Matrix {
        let z = TestData.randomMatrix(rows: batch, cols: width, seed: seed)
        for i in 0..<z.count { z.data[i] = z.data[i] >= 0 ? z.data[i] + 0.05 : z.data[i] - 0.05 }
        return z
    }

    func testReLUGradientMatchesFiniteDifferences() {
        checkActivation(name: "ReLU", z: awayFromZero(seed: 31), forward: ReLU.forward,
                        backward: { ReLU.backward(gradient: $0, output: $1) })
    }

    func testReLUForwardAndMask() {
        let v = Matrix(rows: 1, cols: 4, values: [-1, 0, 2, -0.5])
        ReLU.forward(v.view)
        XCTAssertEqual(v.toArray(), [0, 0, 2, 0])
        let g = Matrix(rows: 2, cols: 4, values: [1, 2, 3, 4, 5, 6, 7, 8])
        ReLU.backward(gradient: g.view, output: v.view)
        XCTAssertEqual(g.toArray(), [0, 0, 3, 0, 0, 0, 7, 0], "zero output (z ≤ 0) gets zero gradient in every copy")
    }

    func testSigmoidGradientMatchesFiniteDifferences() {
        checkActivation(name: "Sigmoid", z: TestData.randomMatrix(rows: batch, cols: width, seed: 32, scale: 2),
                        forward: Sigmoid.forward, backward: { Sigmoid.backward(gradient: $0, output: $1) })
    }

    func testSigmoidForwardIsOverflowFree() {
        let v = Matrix(rows: 1, cols: 5, values: [-800, -30, 0, 30, 800])
        Sigmoid.forward(v.view)
        let expected: [Double] = [0, exp(-30) / (1 + exp(-30)), 0.5, 1 / (1 + exp(-30)), 1]
        for i in 0..<5 {
            XCTAssert(v.data[i].isFinite)
            XCTAssertEqual(Double(v.data[i]), expected[i], accuracy: 1e-7 * expected[i] + 1e-45)
        }
        XCTAssertEqual(sigmoid(-800.0), 0)
        XCTAssertEqual(sigmoid(800.0), 1)
        XCTAssertEqual(sigmoid(-30.0), exp(-30) / (1 + exp(-30)), accuracy: 1e-28)
    }

    func testRowSoftmaxGradientMatchesFiniteDifferences() {
        checkActivation(name: "RowSoftmax", z: TestData.randomMatrix(rows: batch, cols: width, seed: 33, scale: 1.5),
                        forward: RowSoftmax.forward,
                        backward: { RowSoftmax.backward(gradient: $0, probabilities: $1) })
    }

    /// Rows sum to one, large logits do not overflow, and the result matches
    /// `exp(a_e) / Σ exp(a_f)` computed in double.
    func testRowSoftmaxForward() {
        let rows: [[Float]] = [[1, 2, 3], [1000, 1000, 999], [-1000, 0, -1000], [0.5, 0.5, 0.5]]
        let m = Matrix(rows)
        RowSoftmax.forward(m.view)
        for (r, row) in rows.enumerated() {
            let top = Double(row.max()!)
            let e = row.map { exp(Double($0) - top) }
            let s = e.reduce(0, +)
            var sum = 0.0
            for c in 0..<3 {
                XCTAssertEqual(Double(m[r, c]), e[c] / s, accuracy: 1e-6, "row \(r) col \(c)")
                sum += Double(m[r, c])
            }
            XCTAssertEqual(sum, 1, accuracy: 1e-6)
        }
    }
}
