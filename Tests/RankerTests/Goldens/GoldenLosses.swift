import Foundation
@testable import Ranker

/// `losses.json`: BCE-with-logits (ALGORITHMS.md 1.1) and the ESMM CTCVR loss (ALGORITHMS.md 1.2).
///
/// The double-precision scalar and batch APIs are checked at the float64
/// tolerance; the `Float` column API used by model heads at the float32
/// single-step tolerance (its inputs are the golden logits rounded to `Float`).
enum GoldenLosses {
    static func check(_ json: GoldenValue, _ checker: GoldenChecker) throws {
        checkBinaryCrossEntropy(json["bce_with_logits"], checker)
        checkCTCVR(json["esmm_ctcvr"], checker)
    }

    static func checkBinaryCrossEntropy(_ c: GoldenValue, _ checker: GoldenChecker) {
        let d = GoldenTolerance.double
        let f = GoldenTolerance.floatStep
        let z = c["z"].doubles
        let y = c["y"].doubles
        let n = z.count
        checker.close(z.indices.map { BinaryCrossEntropy.loss(logit: z[$0], label: y[$0]) },
                      c["loss_per_example"].doubles, rtol: d.rtol, atol: d.atol, "bce loss_per_example")
        checker.close(z.indices.map { BinaryCrossEntropy.gradient(logit: z[$0], label: y[$0]) },
                      c["dloss_dz_per_example"].doubles, rtol: d.rtol, atol: d.atol, "bce dloss_dz_per_example")
        let batch = BinaryCrossEntropy.meanLoss(logits: z, labels: y)
        checker.close(batch.loss, c["loss_mean"].double, rtol: d.rtol, atol: d.atol, "bce loss_mean")
        checker.close(batch.gradient, c["dmean_dz"].doubles, rtol: d.rtol, atol: d.atol, "bce dmean_dz")

        // Float column API: logits and labels as strided columns of 2-wide matrices.
        let logits = Matrix(rows: n, cols: 2)
        let labels = Matrix(rows: n, cols: 2)
        let gradient = Matrix(rows: n, cols: 3)
        for i in 0..<n { logits[i, 1] = Float(z[i]); labels[i, 0] = Float(y[i]) }
        let mean = BinaryCrossEntropy.meanLoss(logits: logits.view.cols(1..<2), labels: labels.view.cols(0..<1),
                                               gradient: gradient.view.cols(2..<3))
        checker.close(mean, c["loss_mean"].double, rtol: f.rtol, atol: f.atol, "bce Float loss_mean")
        checker.close((0..<n).map { Double(gradient[$0, 2]) }, c["dmean_dz"].doubles,
                      rtol: f.rtol, atol: f.atol, "bce Float dmean_dz")
    }

    static func checkCTCVR(_ c: GoldenValue, _ checker: GoldenChecker) {
        let d = GoldenTolerance.double
        let f = GoldenTolerance.floatStep
        let a = c["a_ctr_logit"].doubles
        let b = c["b_cvr_logit"].doubles
        let y = c["y_ctcvr"].doubles
        let n = a.count
        let each = (0..<n).map { CTCVRCrossEntropy.evaluate(ctrLogit: a[$0], cvrLogit: b[$0], label: y[$0]) }
        checker.close(each.map(\.loss), c["loss_per_example"].doubles, rtol: d.rtol, atol: d.atol, "ctcvr loss_per_example")
        checker.close(each.map(\.ctrGradient), c["dloss_da"].doubles, rtol: d.rtol, atol: d.atol, "ctcvr dloss_da")
        checker.close(each.map(\.cvrGradient), c["dloss_db"].doubles, rtol: d.rtol, atol: d.atol, "ctcvr dloss_db")
        checker.close((0..<n).map { sigmoid(a[$0]) * sigmoid(b[$0]) }, c["p_ctcvr"].doubles,
                      rtol: d.rtol, atol: d.atol, "ctcvr p_ctcvr")

        // Batch forms: the mean and gradients of the mean (per-example values / B).
        let expectedMean = c["loss_per_example"].doubles.reduce(0, +) / Double(n)
        let batch = CTCVRCrossEntropy.meanLoss(ctrLogits: a, cvrLogits: b, labels: y)
        checker.close(batch.loss, expectedMean, rtol: d.rtol, atol: d.atol, "ctcvr mean loss")
        checker.close(batch.ctrGradient, c["dloss_da"].doubles.map { $0 / Double(n) },
                      rtol: d.rtol, atol: d.atol, "ctcvr dmean_da")
        checker.close(batch.cvrGradient, c["dloss_db"].doubles.map { $0 / Double(n) },
                      rtol: d.rtol, atol: d.atol, "ctcvr dmean_db")

        // Float column API: columns of one B × 3 matrix [a, b, y]; gradients into a B × 2 matrix.
        let columns = Matrix(rows: n, cols: 3)
        for i in 0..<n { columns[i, 0] = Float(a[i]); columns[i, 1] = Float(b[i]); columns[i, 2] = Float(y[i]) }
        let gradients = Matrix(rows: n, cols: 2)
        let mean = CTCVRCrossEntropy.meanLoss(ctrLogits: columns.view.cols(0..<1), cvrLogits: columns.view.cols(1..<2),
                                              labels: columns.view.cols(2..<3),
                                              ctrGradient: gradients.view.cols(0..<1),
                                              cvrGradient: gradients.view.cols(1..<2))
        checker.close(mean, expectedMean, rtol: f.rtol, atol: f.atol, "ctcvr Float mean loss")
        checker.close((0..<n).map { Double(gradients[$0, 0]) }, c["dloss_da"].doubles.map { $0 / Double(n) },
                      rtol: f.rtol, atol: f.atol, "ctcvr Float dmean_da")
        checker.close((0..<n).map { Double(gradients[$0, 1]) }, c["dloss_db"].doubles.map { $0 / Double(n) },
                      rtol: f.rtol, atol: f.atol, "ctcvr Float dmean_db")
    }
}
