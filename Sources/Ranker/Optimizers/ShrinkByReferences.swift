/// TFRS `shrink_by_references` (ALGORITHMS.md 4.2.6), the clipping rule of Clippy
/// Adagrad, as a small public helper that `ClippyAdagrad` itself uses.
///
/// For a tensor `t`, references `ref_1 … ref_k`, relative factors
/// `rel_1 … rel_k >= 0` and an absolute factor `abs >= 0`:
///
///     maxDelta_i = abs + sum_j rel_j * |ref_j,i|
///     scale      = min(1, min over i with t_i != 0 of maxDelta_i / |t_i|)
///     result     = (t * scale, scale)
///
/// i.e. `scale` is the largest value in `[0, 1]` with
/// `scale * |t_i| <= maxDelta_i` for every `i`. Coordinates with `t_i == 0`
/// impose nothing; an empty or all-zero tensor gives `scale = 1`; a
/// coordinate with `maxDelta_i == 0` and `t_i != 0` gives `scale = 0`.
/// The per-coordinate ratios and their minimum are formed in `Double` from the
/// `Float` inputs (so the clip-or-not decision `scale < 1` carries no extra
/// rounding). Inputs must be finite; an infinite `t_i` gives `scale = 0`.
///
/// The pointer kernels below build `maxDelta` in a caller's buffer and reduce
/// it against the tensor without allocating; `shrink(_:references:…)` is the
/// array form with TFRS's signature.
public enum ShrinkByReferences {
    /// `maxDelta[0..<count] = absoluteFactor`.
    @inline(__always)
    public static func fillMaximumDelta(_ maximumDelta: UnsafeMutablePointer<Float>, count: Int,
                                        absoluteFactor: Float) {
        precondition(absoluteFactor >= 0, "absolute factor must be >= 0")
        maximumDelta.update(repeating: absoluteFactor, count: count)
    }

    /// `maxDelta[i] += relativeFactor * |reference[i]|` for `i < count`.
    /// A zero factor adds nothing (the buffer is left as it is).
    @inline(__always)
    public static func addReference(_ reference: UnsafePointer<Float>, relativeFactor: Float,
                                    into maximumDelta: UnsafeMutablePointer<Float>, count: Int) {
        precondition(relativeFactor >= 0, "relative factor must be >= 0")
        if relativeFactor == 0 { return }
        for i in 0..<count { maximumDelta[i] += relativeFactor * abs(reference[i]) }
    }

    /// `maxDelta[i] += relativeFactor * |reference|` (a scalar reference
    /// broadcast over the tensor).
    public static func addReference(_ reference: Float, relativeFactor: Float,
                                    into maximumDelta: UnsafeMutablePointer<Float>, count: Int) {
        precondition(relativeFactor >= 0, "relative factor must be >= 0")
        if relativeFactor == 0 { return }
        let add = relativeFactor * abs(reference)
        for i in 0..<count { maximumDelta[i] += add }
    }

    /// `min(1, min over i with tensor[i] != 0 of maxDelta[i] / |tensor[i]|)`.
    @inline(__always)
    public static func scale(of tensor: UnsafePointer<Float>, maximumDelta: UnsafePointer<Float>,
                             count: Int) -> Double {
        var smallest = 1.0
        for i in 0..<count {
            let magnitude = abs(tensor[i])
            if magnitude != 0 {
                let ratio = Double(maximumDelta[i]) / Double(magnitude)
                if ratio < smallest { smallest = ratio }
            }
        }
        return smallest
    }

    /// The TFRS function on flat arrays: returns `(tensor * scale, scale)`.
    ///
    /// Each reference holds either one value (broadcast, like a scalar in
    /// TFRS) or `tensor.count` values; `references.count` must equal
    /// `relativeFactors.count`.
    ///
    /// - Throws: `OptimizerConfigurationError.negativeValue` for a negative
    ///   factor, `.referenceMismatch` for mismatched counts.
    public static func shrink(_ tensor: [Float], references: [[Float]], relativeFactors: [Float],
                              absoluteFactor: Float) throws -> (tensor: [Float], scale: Float) {
        try OptimizerConfigurationError.requireNonNegative(absoluteFactor, "absolute_factor")
        for f in relativeFactors { try OptimizerConfigurationError.requireNonNegative(f, "relative_factors") }
        guard references.count == relativeFactors.count else {
            throw OptimizerConfigurationError.referenceMismatch(
                "\(references.count) references but \(relativeFactors.count) relative factors")
        }
        let n = tensor.count
        var maximumDelta = [Float](repeating: 0, count: n)
        var scaleValue = 1.0
        try maximumDelta.withUnsafeMutableBufferPointer { md in
            guard let bound = md.baseAddress else { return }
            fillMaximumDelta(bound, count: n, absoluteFactor: absoluteFactor)
            for (reference, factor) in zip(references, relativeFactors) {
                if reference.count == 1 {
                    addReference(reference[0], relativeFactor: factor, into: bound, count: n)
                } else if reference.count == n {
                    reference.withUnsafeBufferPointer {
                        addReference($0.baseAddress!, relativeFactor: factor, into: bound, count: n)
                    }
                } else {
                    throw OptimizerConfigurationError.referenceMismatch(
                        "a reference has \(reference.count) values, the tensor \(n)")
                }
            }
            scaleValue = tensor.withUnsafeBufferPointer { scale(of: $0.baseAddress!, maximumDelta: bound, count: n) }
        }
        let s = Float(scaleValue)
        return (tensor.map { $0 * s }, s)
    }
}
