import Foundation
@testable import Ranker

/// Upstream gradients for gradient checks of the multi-gradient (stacked)
/// backward pass.
///
/// Task `t`'s scalar loss is the fixed linear functional
/// `L_t(Y) = Σ weights[t] ∘ Y` of a `B × n` output, so `dL_t/dY = weights[t]`;
/// `stacked` holds the `S` weight blocks one under the other (`S·B × n`),
/// which is exactly the `dY` a stacked backward takes. The weights are drawn
/// as `Float` and widened, so the functional and `dY` agree exactly.
struct StackedUpstream {
    let weights: [[Double]]
    let stacked: Matrix
    let rows: Int

    init(tasks: Int, rows: Int, cols: Int, seed: UInt64) {
        var rng = RandomGenerator(seed: seed)
        let stacked = Matrix(rows: tasks * rows, cols: cols)
        var weights: [[Double]] = []
        for t in 0..<tasks {
            var w: [Double] = []
            for i in 0..<(rows * cols) {
                let value = Float(rng.normal())
                stacked.data[t * rows * cols + i] = value
                w.append(Double(value))
            }
            weights.append(w)
        }
        self.weights = weights
        self.stacked = stacked
        self.rows = rows
    }

    var tasks: Int { weights.count }

    /// `L_t` of an output view.
    func loss(_ t: Int, of output: MatrixView) -> Double {
        TestData.weightedSum(output, weights: weights[t])
    }

    /// Rows `t·B ..< (t+1)·B` of a stacked gradient, widened to `Double`.
    func block(_ t: Int, of stackedGradient: Matrix) -> [Double] {
        stackedGradient.view.rows(t * rows ..< (t + 1) * rows).toArray().map(Double.init)
    }
}

extension TestData {
    /// `count` floats at `pointer`, widened to `Double` (a snapshot of a gradient).
    static func snapshot(_ pointer: UnsafePointer<Float>, count: Int) -> [Double] {
        (0..<count).map { Double(pointer[$0]) }
    }
}
