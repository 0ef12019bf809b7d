/// Gradient clipping applied before an ordinary Adagrad step — the
/// baselines the Clippy paper compares against (ALGORITHMS.md 4.3). The clipped
/// gradient is what Adagrad sees: it goes into the accumulator and the update.
///
/// * `gradientNorm(threshold: c, global: false)` — GC per tensor (local, like
///   Clippy): `g <- g * min(1, c / ||g||)`; for an embedding table `||g||` runs
///   over this step's touched rows. `global: true` uses one norm over every
///   parameter's gradient and one factor for all.
/// * `adaptive(lambda:, epsilon:)` — AGC (Brock et al. 2021), unit-wise: for
///   each unit `u`, `g_u <- g_u * min(1, lambda * max(||w_u||, eps) / ||g_u||)`.
///   A unit is a column of a dense parameter (`in × out` weight: one output
///   unit; `1 × out` bias: one element) and a row of an embedding table
///   (touched rows only). `w` is the weight before the step.
///
/// A zero gradient norm gives factor 1. The factor reported for telemetry is
/// `min(1, c/||g||)` for GC and the smallest unit factor of the tensor for AGC.
/// Norms are accumulated in `Double`.
///
/// JSON (snake_case): `{"method": "none"}`,
/// `{"method": "gradient_norm", "threshold": 1.0, "global": false}`,
/// `{"method": "adaptive", "lambda": 0.01, "epsilon": 0.001}`
/// (`global` defaults to false, `epsilon` to 1e-3).
public enum GradientClipping: Equatable, Sendable {
    case none
    case gradientNorm(threshold: Float, global: Bool = false)
    case adaptive(lambda: Float, epsilon: Float = 1e-3)

    /// Checks `threshold > 0`, `lambda > 0`, `epsilon > 0` (all finite).
    public func validate() throws {
        switch self {
        case .none: break
        case .gradientNorm(let threshold, _):
            try OptimizerConfigurationError.requirePositive(threshold, "clipping.threshold")
        case .adaptive(let lambda, let epsilon):
            try OptimizerConfigurationError.requirePositive(lambda, "clipping.lambda")
            try OptimizerConfigurationError.requirePositive(epsilon, "clipping.epsilon")
        }
    }

    /// `min(1, threshold / sqrt(sumOfSquares))`, and 1 for a zero norm.
    @inline(__always)
    static func normFactor(sumOfSquares: Double, threshold: Float) -> Float {
        let norm = sumOfSquares.squareRoot()
        let c = Double(threshold)
        return norm > c ? Float(c / norm) : 1
    }

    /// AGC factor of one unit from the squared norms of its weights and gradient.
    @inline(__always)
    static func unitFactor(weightSumOfSquares: Double, gradientSumOfSquares: Double,
                           lambda: Float, epsilon: Float) -> Float {
        let gradientNorm = gradientSumOfSquares.squareRoot()
        if gradientNorm == 0 { return 1 }
        let limit = Double(lambda) * max(weightSumOfSquares.squareRoot(), Double(epsilon))
        return gradientNorm > limit ? Float(limit / gradientNorm) : 1
    }

    /// AGC factors of the `cols` columns of a `rows × cols` dense parameter:
    /// writes `factors[c]` and returns the smallest.
    /// `weightSquares` and `gradientSquares` are scratch of `cols` doubles.
    static func columnFactors(weight: UnsafePointer<Float>, gradient: UnsafePointer<Float>, rows: Int, cols: Int,
                              lambda: Float, epsilon: Float,
                              weightSquares: UnsafeMutablePointer<Double>,
                              gradientSquares: UnsafeMutablePointer<Double>,
                              factors: UnsafeMutablePointer<Float>) -> Float {
        weightSquares.update(repeating: 0, count: cols)
        gradientSquares.update(repeating: 0, count: cols)
        for r in 0..<rows {
            let w = weight + r * cols
            let g = gradient + r * cols
            for c in 0..<cols {
                let wv = Double(w[c]), gv = Double(g[c])
                weightSquares[c] += wv * wv
                gradientSquares[c] += gv * gv
            }
        }
        var smallest: Float = 1
        for c in 0..<cols {
            let f = unitFactor(weightSumOfSquares: weightSquares[c], gradientSumOfSquares: gradientSquares[c],
                               lambda: lambda, epsilon: epsilon)
            factors[c] = f
            smallest = min(smallest, f)
        }
        return smallest
    }
}

extension GradientClipping: Codable {
    private enum CodingKeys: String, CodingKey {
        case method, threshold, global, lambda, epsilon
    }

    public init(from decoder: Decoder) throws {
        let c = try decoder.container(keyedBy: CodingKeys.self)
        let method = try c.decode(String.self, forKey: .method)
        let allowed: Set<String>
        switch method {
        case "none":
            self = .none
            allowed = ["method"]
        case "gradient_norm":
            self = .gradientNorm(threshold: try c.decode(Float.self, forKey: .threshold),
                                 global: try c.decodeIfPresent(Bool.self, forKey: .global) ?? false)
            allowed = ["method", "threshold", "global"]
        case "adaptive":
            self = .adaptive(lambda: try c.decode(Float.self, forKey: .lambda),
                             epsilon: try c.decodeIfPresent(Float.self, forKey: .epsilon) ?? 1e-3)
            allowed = ["method", "lambda", "epsilon"]
        default:
            throw DecodingError.dataCorruptedError(forKey: .method, in: c,
                debugDescription: "clipping method must be none, gradient_norm or adaptive, got \(method)")
        }
        if let key = try StrictDecoding.unknownKeys(in: decoder, allowed: allowed).first {
            let known = ["epsilon", "global", "lambda", "method", "threshold"]
            // Located at the key, so that a run configuration's message names
            // `optimizer.clipping.<key>`; `OptimizerConfiguration` decoded on
            // its own still throws the typed error.
            throw StrictDecoding.located(
                known.contains(key) ? OptimizerConfigurationError.optionNotApplicable(key: key, kind: "clipping method \(method)")
                                    : OptimizerConfigurationError.unknownKey(key, known: known),
                in: decoder, key: key)
        }
    }

    public func encode(to encoder: Encoder) throws {
        var c = encoder.container(keyedBy: CodingKeys.self)
        switch self {
        case .none:
            try c.encode("none", forKey: .method)
        case .gradientNorm(let threshold, let global):
            try c.encode("gradient_norm", forKey: .method)
            try c.encode(threshold, forKey: .threshold)
            try c.encode(global, forKey: .global)
        case .adaptive(let lambda, let epsilon):
            try c.encode("adaptive", forKey: .method)
            try c.encode(lambda, forKey: .lambda)
            try c.encode(epsilon, forKey: .epsilon)
        }
    }
}
