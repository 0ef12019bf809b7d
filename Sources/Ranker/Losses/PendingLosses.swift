import Foundation
// TEMPORARY: replaced by the losses of the numerics branch when it lands.
enum BinaryCrossEntropy {
    static func meanLoss(logits z: MatrixView, labels y: MatrixView, gradient dz: MatrixView) -> Double {
        let n = z.rows
        var total = 0.0
        for b in 0..<n {
            let zz = Double(z[b, 0]), yy = Double(y[b, 0])
            total += max(zz, 0) - zz * yy + log1p(exp(-abs(zz)))
            dz[b, 0] = Float((sigmoid(zz) - yy) / Double(n))
        }
        return total / Double(n)
    }
}
enum SquaredError {
    static func meanLoss(predictions z: MatrixView, targets y: MatrixView, gradient dz: MatrixView) -> Double {
        let n = z.rows
        var total = 0.0
        for b in 0..<n {
            let d = Double(z[b, 0]) - Double(y[b, 0])
            total += d * d
            dz[b, 0] = Float(2 * d / Double(n))
        }
        return total / Double(n)
    }
}
enum CTCVRCrossEntropy {
    static func evaluate(ctrLogit a: Double, cvrLogit b: Double, label y: Double) -> (loss: Double, dCTRLogit: Double, dCVRLogit: Double) {
        func softplus(_ x: Double) -> Double { max(x, 0) + log1p(exp(-abs(x))) }
        let u = -softplus(-a) - softplus(-b)
        let log1mpq = u > -log(2.0) ? log(-expm1(u)) : log1p(-exp(u))
        let loss = -(y * u + (1 - y) * log1mpq)
        if y == 1 { return (loss, -sigmoid(-a), -sigmoid(-b)) }
        let c = -y + (1 - y) / expm1(-u)
        return (loss, sigmoid(-a) * c, sigmoid(-b) * c)
    }
}
