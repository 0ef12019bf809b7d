extension Metrics {
    /// Log loss of a binary task, evaluated on **logits**: the mean
    /// binary cross-entropy `(1/n) Σ_i loss(z_i, y_i)` with the stable,
    /// clamp-free form of `BinaryCrossEntropy.loss(logit:label:)`,
    ///
    ///     loss(z, y) = max(z, 0) - z·y + log1p(exp(-|z|))  = -[y log σ(z) + (1-y) log(1-σ(z))].
    ///
    /// Because it never forms `σ(z)`, a confidently wrong prediction costs its
    /// true (large, finite) loss instead of a clamped one. Summed in double
    /// precision. (ESMM's pCTCVR is a product of two sigmoids, not one logit:
    /// evaluate it with `CTCVRCrossEntropy.loss(ctrLogit:cvrLogit:label:)`.)
    ///
    /// - Parameters:
    ///   - logits: one logit per impression.
    ///   - labels: labels in [0, 1] (not validated; soft labels work).
    /// - Returns: the mean, NaN for empty input; a NaN logit gives NaN.
    /// - Precondition: `logits.count == labels.count`.
    @inlinable
    public static func logLoss<Logits: Collection, Labels: Collection>(logits: Logits, labels: Labels) -> Double
    where Logits.Element: BinaryFloatingPoint, Labels.Element: BinaryFloatingPoint {
        precondition(logits.count == labels.count, "logLoss: \(logits.count) logits but \(labels.count) labels")
        if logits.isEmpty { return .nan }
        var sum = 0.0
        var labelIndex = labels.startIndex
        for z in logits {
            sum += BinaryCrossEntropy.loss(logit: Double(z), label: Double(labels[labelIndex]))
            labelIndex = labels.index(after: labelIndex)
        }
        return sum / Double(logits.count)
    }
}
