import XCTest
@testable import Ranker

/// `TaskGradientGram` over a model-shaped `ParameterSlab` against an
/// independent float64 reference: a plain loop over the coordinates, every
/// product `Double(a) · Double(b)` (exact) added in `Double`, left to right.
///
/// Magnitudes spread over 2^±20, and task `t`'s gradient is task 0's with the
/// sign of a random half of the coordinates flipped (plus noise), so the
/// off-diagonal entries are sums with cancellation. The bound is the worst
/// case of recursive double summation in any order,
/// `|P − P_ref| ≤ (n − 1) u Σ_k |g_ik g_jk|` (u = 2^-53, n coordinates); the
/// test checks that the same sums accumulated in `Float` break it, so the
/// bound does catch single-precision accumulation.
final class TaskGradientGramTests: XCTestCase {
    /// Shared dense tensors whose sizes are no multiple of 16 or of any block
    /// width, a task-specific tensor between them and an embedding table with
    /// touched rows (its own run); `d` (the slab's shared run) is
    /// `sizes` rounded up to 16 each. The slab is returned to keep the
    /// storage the parameters are bound to alive.
    private func makeParameters(denseSizes: [Int], taskCount: Int, seed: UInt64) -> ([Parameter], ParameterSlab) {
        var parameters = denseSizes.enumerated().map { i, n in
            Parameter(name: "dense\(i)", rows: 1, cols: n, group: .shared)
        }
        parameters.insert(Parameter(name: "tower", rows: 3, cols: 5, group: .task(0)), at: 1)
        parameters.append(Parameter(name: "table", rows: 50, cols: 4, group: .shared, kind: .embedding))
        let slab = ParameterSlab(parameters: parameters)
        let table = parameters.last!
        table.sparseGrad!.set(ids: [3, 41, 7, 3, 19], rows: (0..<5).map { _ in [0, 0, 0, 0] })

        var rng = RandomGenerator(seed: seed)
        for p in parameters where p.group == .shared {
            p.prepareTaskGradients(tasks: taskCount)
            let base = (0..<p.gradientCount).map { _ in rng.normal() * Double.pow2(rng.uniform(-20, 20).rounded()) }
            for t in 0..<taskCount {
                let g = p.taskGradient(t)
                for k in 0..<p.gradientCount {
                    let sign: Double = t == 0 || rng.nextDouble() < 0.5 ? 1 : -1
                    g[k] = Float(sign * base[k] * (1 + 0.01 * rng.normal()))
                }
            }
        }
        return (parameters, slab)
    }

    /// `P_ref[i][j]` and `Σ_k |g_ik g_jk|` by a plain double loop, the same
    /// sums accumulated in `Float` (what the bound must reject), and the
    /// number of coordinates.
    private func reference(_ parameters: [Parameter], taskCount t: Int)
        -> (gram: [Double], magnitude: [Double], singleSums: [Float], n: Int) {
        var gram = [Double](repeating: 0, count: t * t), magnitude = gram, n = 0
        var singleSums = [Float](repeating: 0, count: t * t)
        for p in parameters where p.group == .shared {
            n += p.gradientCount
            for i in 0..<t {
                for j in 0..<t {
                    let a = p.taskGradient(i), b = p.taskGradient(j)
                    for k in 0..<p.gradientCount {
                        let product = Double(a[k]) * Double(b[k])
                        gram[i * t + j] += product
                        singleSums[i * t + j] += a[k] * b[k]
                        magnitude[i * t + j] += abs(product)
                    }
                }
            }
        }
        return (gram, magnitude, singleSums, n)
    }

    func testSlabGramEqualsAFloat64LoopOnRandomData() throws {
        let cases: [(taskCount: Int, sizes: [Int])] = [
            (1, [1]),
            (2, [3001, 1029]),
            (3, [17, 1024, 2047]),
            (6, [4099, 5, 1]),
            (7, [1023, 1025]),
        ]
        for (t, sizes) in cases {
            let (parameters, slab) = makeParameters(denseSizes: sizes, taskCount: t, seed: UInt64(31 * t + sizes.count))
            XCTAssertEqual(slab.taskGradients.view.rows, t)
            let (exact, magnitude, singleSums, n) = reference(parameters, taskCount: t)
            var singleRejected = 0
            for width in [1024, 100, 1] {
                let gram = TaskGradientGram(taskCount: t, blockColumns: width)
                try gram.compute(parameters: parameters, include: SharedGradientScope.allShared.includes)
                for i in 0..<t {
                    for j in 0..<t {
                        let bound = Double(n - 1) * Double.ulpOfOne / 2 * magnitude[i * t + j]
                        XCTAssertEqual(gram[i, j], exact[i * t + j], accuracy: bound,
                                       "T=\(t) sizes \(sizes) block \(width) P[\(i)][\(j)]")
                        XCTAssertEqual(gram[i, j], gram[j, i], "symmetric")
                        if abs(Double(singleSums[i * t + j]) - exact[i * t + j]) > bound { singleRejected += 1 }
                    }
                }
            }
            if n > 1 {
                XCTAssertGreaterThan(singleRejected, 0, "T=\(t): a Float-accumulated Gram would fail this bound")
            }
        }
    }
}

private extension Double {
    /// `2^e` for an integral `e`.
    static func pow2(_ e: Double) -> Double { Double(sign: .plus, exponent: Int(e), significand: 1) }
}
