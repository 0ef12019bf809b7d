import Foundation

/// GradNorm's per-step quantities as pure functions (ALGORITHMS.md 5.3), for the three
/// numerical variants of `GradNorm.Variant`.
///
/// With current weights `w`, unweighted task-gradient norms `n_i = ||g_i||` over
/// the chosen parameters, losses `L` (or their EMA) and reference losses `L0`:
///
///     G_i      = w_i n_i                                   (paper)
///              = sqrt(w_i² n_i² + 1e-8)                    (nextrec)
///              = sqrt(max(w_i² n_i², 1e-8))                (nextrec_clamp)
///     ratio_i  = L_i / max(L0_i, 1e-8)                     (paper, nextrec_clamp)
///              = L_i / (L0_i + 1e-8)                       (nextrec)
///     r_i      = ratio_i / mean(ratio)                     (paper; r = 1 if mean(ratio) = 0)
///              = ratio_i / (mean(ratio) + 1e-8)            (nextrec)
///              = ratio_i / max(mean(ratio), 1e-8)          (nextrec_clamp)
///     target_i = mean(G) · r_i^alpha                       (a constant for the gradient)
///     L_grad   = Σ_i |G_i − target_i|
///     dL_grad/dw_i = sign(G_i − target_i) · dG_i/dw_i      (sign(0) = 0)
///
/// with `dG_i/dw_i = n_i` (paper), `w_i n_i² / G_i` (nextrec), and the same or 0
/// where the clamp is active (nextrec_clamp, as torch's `clamp`). A zero
/// gradient norm gives `G_i = 0` (paper) and a zero weight gradient.
public struct GradNormRule: Equatable, Sendable {
    /// `G_i`.
    public var gradientNorms: [Double]
    /// `r_i`.
    public var inverseTrainingRates: [Double]
    /// `target_i`.
    public var targets: [Double]
    /// `L_grad`.
    public var gradientLoss: Double
    /// `dL_grad/dw_i`.
    public var weightGradient: [Double]

    /// The 1e-8 of every guard above (NextRec's `eps`; the clamps of ALGORITHMS.md 5.3).
    public static let epsilon = 1e-8

    /// - Parameters:
    ///   - weights: current `w` (positive).
    ///   - squaredGradientNorms: `n_i²` of the UNWEIGHTED task gradients.
    ///   - losses: the numerator losses (current, or their EMA).
    ///   - initialLosses: `L0`.
    public init(weights: [Double], squaredGradientNorms: [Double], losses: [Double], initialLosses: [Double],
                alpha: Double, variant: GradNorm.Variant) {
        let t = weights.count
        precondition(squaredGradientNorms.count == t && losses.count == t && initialLosses.count == t,
                     "GradNormRule: every input needs \(t) values")
        let eps = GradNormRule.epsilon
        var norms = [Double](repeating: 0, count: t)
        var derivatives = [Double](repeating: 0, count: t)
        var ratios = [Double](repeating: 0, count: t)
        for i in 0..<t {
            let w = weights[i]
            let squared = squaredGradientNorms[i]
            switch variant {
            case .paper:
                let n = squared.squareRoot()
                norms[i] = w * n
                derivatives[i] = n
                ratios[i] = losses[i] / max(initialLosses[i], eps)
            case .nextrec:
                norms[i] = (w * w * squared + eps).squareRoot()
                derivatives[i] = w * squared / norms[i]
                ratios[i] = losses[i] / (initialLosses[i] + eps)
            case .nextrecClamp:
                let q = w * w * squared
                norms[i] = max(q, eps).squareRoot()
                derivatives[i] = q >= eps ? w * squared / norms[i] : 0
                ratios[i] = losses[i] / max(initialLosses[i], eps)
            }
        }
        let meanRatio = ratios.reduce(0, +) / Double(t)
        let rates: [Double]
        switch variant {
        case .paper: rates = ratios.map { meanRatio > 0 ? $0 / meanRatio : 1 }
        case .nextrec: rates = ratios.map { $0 / (meanRatio + eps) }
        case .nextrecClamp: rates = ratios.map { $0 / max(meanRatio, eps) }
        }
        let meanNorm = norms.reduce(0, +) / Double(t)
        targets = rates.map { meanNorm * Foundation.pow($0, alpha) }
        gradientNorms = norms
        inverseTrainingRates = rates
        gradientLoss = 0
        weightGradient = [Double](repeating: 0, count: t)
        for i in 0..<t {
            let difference = norms[i] - targets[i]
            gradientLoss += abs(difference)
            let sign: Double = difference > 0 ? 1 : (difference < 0 ? -1 : 0)
            weightGradient[i] = sign * derivatives[i]
        }
    }

    /// Clamps `w` at 1e-8 and rescales it to sum `T` (ALGORITHMS.md 5.3):
    /// `w ← T · max(w, 1e-8) / Σ max(w, 1e-8)`; the `nextrec` variant divides by
    /// `Σ + 1e-8` as NextRec 0.4.x does.
    public static func renormalize(_ weights: inout [Double], variant: GradNorm.Variant) {
        let t = Double(weights.count)
        var sum = 0.0
        for i in weights.indices {
            weights[i] = max(weights[i], epsilon)
            sum += weights[i]
        }
        let denominator = variant == .nextrec ? sum + epsilon : max(sum, epsilon)
        for i in weights.indices { weights[i] = weights[i] * t / denominator }
    }

    /// LibMTL's parametrisation `w = T · softmax(s)` (not used for training;
    /// ALGORITHMS.md 5.3 table): the chain rule `dL/ds_k = T p_k (dL/dw_k − Σ_i p_i dL/dw_i)`
    /// with `p = softmax(s)`.
    public static func softmaxLogitGradient(logits: [Double], weightGradient: [Double]) -> [Double] {
        precondition(logits.count == weightGradient.count)
        let t = Double(logits.count)
        let p = softmax(logits)
        var mean = 0.0
        for i in p.indices { mean += p[i] * weightGradient[i] }
        return p.indices.map { t * p[$0] * (weightGradient[$0] - mean) }
    }

    /// `softmax(s)`, computed from `s − max s`.
    public static func softmax(_ logits: [Double]) -> [Double] {
        let top = logits.max() ?? 0
        let e = logits.map { Foundation.exp($0 - top) }
        let sum = e.reduce(0, +)
        return e.map { $0 / sum }
    }
}
