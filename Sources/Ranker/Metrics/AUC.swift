extension Metrics {
    /// Area under the ROC curve (ALGORITHMS.md 2.1): the Mann–Whitney statistic with
    /// average ranks for ties,
    ///
    ///     AUC = U / (n₊ n₋),   U = Σ rank(positives) - n₊(n₊+1)/2,
    ///
    /// i.e. the fraction of (positive, negative) pairs where the positive
    /// scores higher, a tie counting one half. Exact floating-point equality
    /// defines a tie (after the exact conversion to `Double`; `-0.0 == 0.0`).
    /// Equals scikit-learn's `roc_auc_score`.
    ///
    /// Cost: one O(n log n) sort of `n` impressions, then one pass; `U` is
    /// counted exactly in integers (doubled, so half points stay integral), so
    /// the only rounding is the final division.
    ///
    /// - Parameters:
    ///   - scores: one finite score per impression (logits or probabilities: only
    ///     the order matters).
    ///   - labels: one label per impression, each exactly 0 or 1.
    /// - Returns: the AUC in [0, 1], or NaN when a class is absent (`n₊ = 0` or
    ///   `n₋ = 0`, including empty input), never 0.5.
    /// - Throws: `MetricError.nonFiniteScore` for a NaN or infinite score,
    ///   `MetricError.nonBinaryLabel` for a label other than 0 and 1.
    /// - Precondition: `scores.count == labels.count`.
    @inlinable
    public static func auc<Scores: Collection, Labels: Collection>(scores: Scores, labels: Labels) throws -> Double
    where Scores.Element: BinaryFloatingPoint, Labels.Element: BinaryFloatingPoint {
        var impressions = try impressions(scores: scores, labels: labels, users: nil)
        return auc(sorting: &impressions)
    }

    /// AUC of already validated impressions (sorts them by score in place).
    @usableFromInline
    static func auc(sorting impressions: inout [RankedImpression]) -> Double {
        impressions.sort { $0.score < $1.score }
        let counts = impressions.withUnsafeBufferPointer { doubledMannWhitney($0, 0..<$0.count) }
        if counts.positives == 0 || counts.negatives == 0 { return .nan }
        return Double(counts.twiceU) / (2 * Double(counts.positives) * Double(counts.negatives))
    }
}
