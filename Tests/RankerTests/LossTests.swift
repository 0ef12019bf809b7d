import Foundation
import XCTest
@testable import Ranker

/// The three losses against central finite differences (moderate logits), and
/// against independent closed forms where finite differences say nothing
/// (extreme logits: the slope is below the resolution of the loss, or the loss
/// is dominated by a term that cancels in the difference).
final class LossTests: XCTestCase {
    // MARK: - Double-precision finite differences

    /// Central difference of a `Double` function with step `h`.
    private func centralDifference(_ f: (Double) -> Double, at x: Double, h: Double = 1e-5) -> Double {
        (f(x + h) - f(x - h)) / (2 * h)
    }

    private func assertClose(_ actual: Double, _ expected: Double, rtol: Double, atol: Double = 0,
                             _ message: @autoclosure () -> String, file: StaticString = #filePath, line: UInt = #line) {
        if actual == expected { return }  // also covers equal infinities
        XCTAssert(abs(actual - expected) <= atol + rtol * abs(expected),
                  "\(message()): got \(actual), expected \(expected)", file: file, line: line)
    }

    func testBinaryCrossEntropyGradientMatchesFiniteDifferences() {
        for y in [0.0, 1.0, 0.3] {
            for z in stride(from: -12.0, through: 12.0, by: 0.75) {
                let numeric = centralDifference({ BinaryCrossEntropy.loss(logit: $0, label: y) }, at: z)
                assertClose(BinaryCrossEntropy.gradient(logit: z, label: y), numeric, rtol: 1e-7, atol: 1e-10,
                            "BCE gradient z=\(z) y=\(y)")
            }
        }
    }

    /// The loss equals the probability-space definition `-[y log σ + (1-y) log(1-σ)]`
    /// where that definition is still accurate in double precision.
    func testBinaryCrossEntropyMatchesDefinitionForModerateLogits() {
        for y in [0.0, 1.0, 0.3] {
            for z in stride(from: -8.0, through: 8.0, by: 0.5) {
                let p = 1 / (1 + exp(-z))
                let definition = -(y * log(p) + (1 - y) * log(1 - p))
                assertClose(BinaryCrossEntropy.loss(logit: z, label: y), definition, rtol: 1e-12,
                            "BCE loss z=\(z) y=\(y)")
            }
        }
    }

    /// Extreme logits against the series of `softplus`: for `t = e^{-|z|} ≤ e^{-30}`,
    /// `log(1 + t) = t - t²/2` to far below double rounding, and
    /// `σ(-|z|) = t/(1+t) = t - t²`.
    func testBinaryCrossEntropyExtremeLogitsMatchClosedForms() {
        for magnitude in [30.0, 40.0, 100.0, 700.0, 800.0] {
            let t = exp(-magnitude)  // 0 for 800: then the closed forms are exact integers
            let softplusSmall = t - t * t / 2   // log(1 + e^{-|z|})
            let sigmoidSmall = t - t * t        // σ(-|z|)
            // (z, y, loss, gradient)
            let cases: [(Double, Double, Double, Double)] = [
                (magnitude, 1, softplusSmall, -sigmoidSmall),          // confident, right
                (-magnitude, 0, softplusSmall, sigmoidSmall),          // confident, right
                (magnitude, 0, magnitude + softplusSmall, 1 - sigmoidSmall),  // confident, wrong
                (-magnitude, 1, magnitude + softplusSmall, -(1 - sigmoidSmall)),
            ]
            for (z, y, loss, gradient) in cases {
                let l = BinaryCrossEntropy.loss(logit: z, label: y)
                XCTAssert(l.isFinite, "BCE loss not finite at z=\(z)")
                assertClose(l, loss, rtol: 1e-14, "BCE loss z=\(z) y=\(y)")
                // σ(z) - y is formed in double around 1: its absolute error is one ulp of 1.
                assertClose(BinaryCrossEntropy.gradient(logit: z, label: y), gradient, rtol: 0, atol: 2.3e-16,
                            "BCE gradient z=\(z) y=\(y)")
            }
        }
        // The spec's worked example (1.1).
        let z = [-2.0, 0.5, 3.0], y = [0.0, 1.0, 0.0]
        let expectedLoss = [0.126928, 0.474077, 3.048587]
        let expectedGradient = [0.1192029, -0.3775407, 0.9525741]
        for i in 0..<3 {
            assertClose(BinaryCrossEntropy.loss(logit: z[i], label: y[i]), expectedLoss[i], rtol: 1e-6, "worked loss \(i)")
            assertClose(BinaryCrossEntropy.gradient(logit: z[i], label: y[i]), expectedGradient[i], rtol: 1e-6,
                        "worked gradient \(i)")
        }
        assertClose(BinaryCrossEntropy.meanLoss(logits: z, labels: y).loss, 1.216531, rtol: 1e-6, "worked mean")
    }

    func testBinaryCrossEntropyPropagatesNaN() {
        XCTAssert(BinaryCrossEntropy.loss(logit: .nan, label: 0).isNaN)
        XCTAssert(BinaryCrossEntropy.loss(logit: .nan, label: 1).isNaN)
        XCTAssert(BinaryCrossEntropy.gradient(logit: .nan, label: 1).isNaN)
    }

    // MARK: - BCE column API (Float)

    /// Strided `Float` columns: the returned mean against finite differences of
    /// itself, the written gradient (divided by the scale) against those
    /// differences, `accumulate` adds, and nothing outside the column is touched.
    func testBinaryCrossEntropyColumnAPI() {
        let batch = 7
        let logits = TestData.randomMatrix(rows: batch, cols: 3, seed: 11, scale: 2)
        let labels = Matrix(rows: batch, cols: 2)
        var rng = RandomGenerator(seed: 12)
        for b in 0..<batch { labels[b, 1] = rng.nextDouble() < 0.5 ? 1 : 0 }
        let column = logits.view.cols(2..<3)
        let labelColumn = labels.view.cols(1..<2)
        let scale: Float = 0.7
        let gradient = Matrix(rows: batch, cols: 2)
        gradient.fill(5)
        let mean = BinaryCrossEntropy.meanLoss(logits: column, labels: labelColumn, gradient: gradient.view.cols(0..<1),
                                               gradientScale: scale)
        var expectedMean = 0.0
        for b in 0..<batch {
            let z = Double(logits[b, 2]), y = Double(labels[b, 1])
            expectedMean += -(y * log(1 / (1 + exp(-z))) + (1 - y) * log(1 - 1 / (1 + exp(-z))))
            XCTAssertEqual(gradient[b, 1], 5, "column 1 of the gradient must stay untouched")
        }
        assertClose(mean, expectedMean / Double(batch), rtol: 1e-12, "column mean")
        let analytic = (0..<batch).map { Double(gradient[$0, 0]) / Double(scale) }
        // Finite differences through the third column of `logits` (stride 3).
        var column2 = (0..<batch).map { logits[$0, 2] }
        column2.withUnsafeMutableBufferPointer { p in
            FiniteDifference.assertGradient(name: "BCE dz", values: p.baseAddress!, count: batch, analytic: analytic) {
                for b in 0..<batch { logits[b, 2] = p[b] }
                return BinaryCrossEntropy.meanLoss(logits: column, labels: labelColumn, gradient: nil)
            }
        }
        for b in 0..<batch { logits[b, 2] = column2[b] }
        // accumulate: adds scale·(σ - y)/B to what is there.
        let before = (0..<batch).map { gradient[$0, 0] }
        _ = BinaryCrossEntropy.meanLoss(logits: column, labels: labelColumn, gradient: gradient.view.cols(0..<1),
                                        gradientScale: 2, accumulate: true)
        for b in 0..<batch {
            let z = Double(logits[b, 2]), y = Double(labels[b, 1])
            let expected = Double(before[b]) + 2 * (1 / (1 + exp(-z)) - y) / Double(batch)
            assertClose(Double(gradient[b, 0]), expected, rtol: 1e-6, atol: 1e-7, "accumulated gradient \(b)")
        }
    }

    /// |z| = 800 in `Float`: finite mean, gradients ±1/B.
    func testBinaryCrossEntropyColumnAPIExtremeLogits() {
        let logits = Matrix(rows: 4, cols: 1, values: [800, -800, 800, -800])
        let labels = Matrix(rows: 4, cols: 1, values: [0, 1, 1, 0])
        let gradient = Matrix(rows: 4, cols: 1)
        let mean = BinaryCrossEntropy.meanLoss(logits: logits.view, labels: labels.view, gradient: gradient.view)
        XCTAssertEqual(mean, 400)  // (800 + 800 + 0 + 0) / 4 exactly
        XCTAssertEqual(gradient.toArray(), [0.25, -0.25, 0, 0])
    }

    // MARK: - CTCVR

    /// An independent, probability-space evaluation of the CTCVR loss and its
    /// gradients: `1 - pq` is taken as `-log1p(-pq)` from `pq = σ(a)σ(b)` when
    /// `pq < 1/2`, and as `s_a + s_b - s_a s_b` (`s = σ(-·)`, no cancellation)
    /// otherwise; `-log p` is `log` of an accurate `p`, or `-log1p(-s_a)`.
    /// `dloss/da = -y s_a + (1-y) p s_a q / (1 - pq)` (and symmetrically for `b`).
    private func ctcvrReference(a: Double, b: Double, y: Double) -> (loss: Double, da: Double, db: Double) {
        func sigma(_ x: Double) -> Double { x >= 0 ? 1 / (1 + exp(-x)) : exp(x) / (1 + exp(x)) }
        let p = sigma(a), q = sigma(b), sa = sigma(-a), sb = sigma(-b)
        // -log σ(x): below -30 the series -x + e^x (next term e^{2x}/2 < 1e-26 relative);
        // otherwise the log of whichever of σ(x), 1 - σ(x) is accurate.
        func negLogSigmoid(_ x: Double, probability: Double, complement: Double) -> Double {
            if x < -30 { return -x + exp(x) }
            return probability < 0.5 ? -log(probability) : -log1p(-complement)
        }
        let pq = p * q
        let oneMinusPQ = pq < 0.5 ? 1 - pq : sa + sb - sa * sb
        let lossPositive = negLogSigmoid(a, probability: p, complement: sa) + negLogSigmoid(b, probability: q, complement: sb)
        let lossNegative = pq < 0.5 ? -log1p(-pq) : -log(oneMinusPQ)
        let loss = (y == 0 ? 0 : y * lossPositive) + (y == 1 ? 0 : (1 - y) * lossNegative)
        let da = -y * sa + (1 - y) * p * sa * q / oneMinusPQ
        let db = -y * sb + (1 - y) * p * q * sb / oneMinusPQ
        return (loss, da, db)
    }

    func testCTCVRMatchesProbabilitySpaceReferenceIncludingExtremes() {
        let logits: [Double] = [-800, -100, -40, -30, -5, -1.2, -0.3, 0, 0.4, 2, 25, 30, 40, 100]
        for y in [0.0, 1.0, 0.3] {
            for a in logits {
                for b in logits {
                    let e = CTCVRCrossEntropy.evaluate(ctrLogit: a, cvrLogit: b, label: y)
                    let r = ctcvrReference(a: a, b: b, y: y)
                    XCTAssert(e.loss.isFinite && e.ctrGradient.isFinite && e.cvrGradient.isFinite,
                              "non-finite at a=\(a) b=\(b) y=\(y): \(e)")
                    assertClose(e.loss, r.loss, rtol: 1e-12, "CTCVR loss a=\(a) b=\(b) y=\(y)")
                    assertClose(e.ctrGradient, r.da, rtol: 1e-12, "CTCVR dloss/da a=\(a) b=\(b) y=\(y)")
                    assertClose(e.cvrGradient, r.db, rtol: 1e-12, "CTCVR dloss/db a=\(a) b=\(b) y=\(y)")
                }
            }
        }
        // The spec's extreme case (1.2): the exact gradient is 6.26e-16, not torch's clamped 3.9e-19.
        let extreme = CTCVRCrossEntropy.evaluate(ctrLogit: -30, cvrLogit: -5, label: 0)
        assertClose(extreme.ctrGradient, 6.26e-16, rtol: 1e-3, "a=-30 b=-5 dloss/da")
    }

    func testCTCVRWorkedExample() {
        // ALGORITHMS.md 1.2: a = 0.4, b = -1.2.
        let positive = CTCVRCrossEntropy.evaluate(ctrLogit: 0.4, cvrLogit: -1.2, label: 1)
        assertClose(positive.loss, 1.976298, rtol: 1e-6, "y=1 loss")
        assertClose(positive.ctrGradient, -0.4013123, rtol: 1e-6, "y=1 da")
        assertClose(positive.cvrGradient, -0.7685248, rtol: 1e-6, "y=1 db")
        let negative = CTCVRCrossEntropy.evaluate(ctrLogit: 0.4, cvrLogit: -1.2, label: 0)
        assertClose(negative.loss, 0.1491747, rtol: 1e-6, "y=0 loss")
        assertClose(negative.ctrGradient, 0.06456142, rtol: 1e-6, "y=0 da")
        assertClose(negative.cvrGradient, 0.1236370, rtol: 1e-6, "y=0 db")
    }

    func testCTCVRGradientsMatchFiniteDifferences() {
        let grid: [Double] = [-6, -2.5, -0.7, 0, 0.4, 1.3, 3, 7]
        for y in [0.0, 1.0, 0.6] {
            for a in grid {
                for b in grid {
                    let e = CTCVRCrossEntropy.evaluate(ctrLogit: a, cvrLogit: b, label: y)
                    let da = centralDifference({ CTCVRCrossEntropy.loss(ctrLogit: $0, cvrLogit: b, label: y) }, at: a)
                    let db = centralDifference({ CTCVRCrossEntropy.loss(ctrLogit: a, cvrLogit: $0, label: y) }, at: b)
                    assertClose(e.ctrGradient, da, rtol: 1e-6, atol: 1e-10, "da a=\(a) b=\(b) y=\(y)")
                    assertClose(e.cvrGradient, db, rtol: 1e-6, atol: 1e-10, "db a=\(a) b=\(b) y=\(y)")
                }
            }
        }
    }

    /// `y = 1` when `u` rounds to 0 (both logits huge) is finite (the explicit
    /// special case); `y = 0` there is the documented `+∞` (pq rounds to 1).
    func testCTCVRDocumentedEdges() {
        let positive = CTCVRCrossEntropy.evaluate(ctrLogit: 800, cvrLogit: 800, label: 1)
        XCTAssertEqual(positive.loss, 0)
        XCTAssertEqual(positive.ctrGradient, 0)
        XCTAssertEqual(positive.cvrGradient, 0)
        XCTAssertEqual(CTCVRCrossEntropy.loss(ctrLogit: 800, cvrLogit: 800, label: 0), .infinity)
        XCTAssert(CTCVRCrossEntropy.loss(ctrLogit: .nan, cvrLogit: 0, label: 0).isNaN)
    }

    /// Column API: gradients of the returned mean by finite differences in
    /// `Float`, the scale, and `accumulate` (ESMM adds to the CTR loss's gradient).
    func testCTCVRColumnAPI() {
        let batch = 6
        // Columns: 0 = a, 1 = b, 2 = y.
        let inputs = TestData.randomMatrix(rows: batch, cols: 3, seed: 21, scale: 1.5)
        for b in 0..<batch { inputs[b, 2] = b % 3 == 0 ? 1 : 0 }
        let a = inputs.view.cols(0..<1), bv = inputs.view.cols(1..<2), y = inputs.view.cols(2..<3)
        let gradients = Matrix(rows: batch, cols: 2)
        let scale: Float = 1.5
        let mean = CTCVRCrossEntropy.meanLoss(ctrLogits: a, cvrLogits: bv, labels: y,
                                              ctrGradient: gradients.view.cols(0..<1), cvrGradient: gradients.view.cols(1..<2),
                                              gradientScale: scale)
        var expected = 0.0
        for b in 0..<batch {
            expected += ctcvrReference(a: Double(inputs[b, 0]), b: Double(inputs[b, 1]), y: Double(inputs[b, 2])).loss
        }
        assertClose(mean, expected / Double(batch), rtol: 1e-12, "CTCVR column mean")
        for (column, name) in [(0, "da"), (1, "db")] {
            let analytic = (0..<batch).map { Double(gradients[$0, column]) / Double(scale) }
            var values = (0..<batch).map { inputs[$0, column] }
            values.withUnsafeMutableBufferPointer { p in
                FiniteDifference.assertGradient(name: "CTCVR \(name)", values: p.baseAddress!, count: batch,
                                                analytic: analytic) {
                    for b in 0..<batch { inputs[b, column] = p[b] }
                    return CTCVRCrossEntropy.meanLoss(ctrLogits: a, cvrLogits: bv, labels: y,
                                                      ctrGradient: nil, cvrGradient: nil)
                }
            }
            for b in 0..<batch { inputs[b, column] = values[b] }
        }
        let before = gradients.toArray()
        _ = CTCVRCrossEntropy.meanLoss(ctrLogits: a, cvrLogits: bv, labels: y,
                                       ctrGradient: gradients.view.cols(0..<1), cvrGradient: nil,
                                       gradientScale: scale, accumulate: true)
        for b in 0..<batch {
            XCTAssertEqual(gradients[b, 0], 2 * before[2 * b], accuracy: 1e-6 * abs(before[2 * b]) + 1e-9,
                           "accumulate adds the same value again")
            XCTAssertEqual(gradients[b, 1], before[2 * b + 1], "no cvrGradient given: untouched")
        }
    }

    // MARK: - Squared error

    func testSquaredError() {
        for (z, y) in [(0.3, -1.2), (-4.0, 2.5), (1.0, 1.0), (1e3, -1e3)] {
            assertClose(SquaredError.loss(prediction: z, target: y), (z - y) * (z - y), rtol: 1e-15, "loss")
            let numeric = centralDifference({ SquaredError.loss(prediction: $0, target: y) }, at: z, h: 1e-3)
            assertClose(SquaredError.gradient(prediction: z, target: y), numeric, rtol: 1e-8, atol: 1e-8, "gradient")
        }
        let batch = SquaredError.meanLoss(predictions: [1, 2, 4], targets: [0, 2, 1])
        XCTAssertEqual(batch.loss, 10.0 / 3, accuracy: 1e-15)
        XCTAssertEqual(batch.gradient, [2.0 / 3, 0, 2])

        // Column API on strided views, with scale and accumulate.
        let m = Matrix(rows: 3, cols: 2, values: [1, 0, 2, 2, 4, 1])  // column 0 = z, column 1 = y
        let g = Matrix(rows: 3, cols: 1, values: [10, 10, 10])
        let mean = SquaredError.meanLoss(predictions: m.view.cols(0..<1), targets: m.view.cols(1..<2),
                                         gradient: g.view, gradientScale: 3, accumulate: true)
        XCTAssertEqual(mean, 10.0 / 3, accuracy: 1e-15)
        XCTAssertEqual(g.toArray(), [12, 10, 16])
    }
}
