/// Evaluation metrics (ALGORITHMS.md 2): AUC, GAUC, log loss, RMSE.
///
/// Each metric lives in its own file as a static function on this namespace.
/// They take any collections of floating-point scores and labels (`[Float]`,
/// `[Double]`, slices…); values are converted to `Double` once (exactly, so
/// ties and order are preserved) and all arithmetic is done in double
/// precision. The functions are `@inlinable`, so the conversion is specialised
/// for the caller's element types; the sorting kernels are not generic.
public enum Metrics {}

/// Input that a metric cannot be computed on. Such input usually means the
/// model diverged (NaN scores) or a regression column was evaluated as a
/// binary task; the error names the first offending position.
public enum MetricError: Error, Equatable, CustomStringConvertible {
    /// A score is NaN or infinite (ranking metrics need an order).
    case nonFiniteScore(index: Int, value: Double)
    /// A label is neither 0 nor 1 (ranking metrics need two classes).
    case nonBinaryLabel(index: Int, value: Double)

    public var description: String {
        switch self {
        case let .nonFiniteScore(index, value):
            return "score \(index) is \(value); AUC/GAUC need finite scores (did training diverge?)"
        case let .nonBinaryLabel(index, value):
            return "label \(index) is \(value); AUC/GAUC need labels 0 or 1 (is this a regression column?)"
        }
    }
}

/// One evaluated impression, as the ranking kernels sort it.
@usableFromInline
struct RankedImpression {
    @usableFromInline var user: Int64
    @usableFromInline var score: Double
    @usableFromInline var positive: Bool

    @inlinable init(user: Int64, score: Double, positive: Bool) {
        self.user = user
        self.score = score
        self.positive = positive
    }
}

extension Metrics {
    /// Converts scores, labels and (optionally) users into impressions,
    /// rejecting non-finite scores and non-binary labels.
    @inlinable
    static func impressions<Scores: Collection, Labels: Collection>(
        scores: Scores, labels: Labels, users: [Int64]?
    ) throws -> [RankedImpression]
    where Scores.Element: BinaryFloatingPoint, Labels.Element: BinaryFloatingPoint {
        precondition(scores.count == labels.count, "metrics: \(scores.count) scores but \(labels.count) labels")
        if let users = users {
            precondition(users.count == scores.count, "metrics: \(scores.count) scores but \(users.count) users")
        }
        var result: [RankedImpression] = []
        result.reserveCapacity(scores.count)
        var index = 0
        var labelIndex = labels.startIndex
        for s in scores {
            let score = Double(s)
            let label = Double(labels[labelIndex])
            guard score.isFinite else { throw MetricError.nonFiniteScore(index: index, value: score) }
            guard label == 0 || label == 1 else { throw MetricError.nonBinaryLabel(index: index, value: label) }
            result.append(RankedImpression(user: users?[index] ?? 0, score: score, positive: label == 1))
            labelIndex = labels.index(after: labelIndex)
            index += 1
        }
        return result
    }

    /// Twice the Mann–Whitney U of `impressions[range]`, which must be sorted
    /// ascending by score, with the class counts.
    ///
    /// Walking the tied groups in order, each positive of a group gains one
    /// point per negative below the group and one half per negative inside it;
    /// doubling keeps the count an exact integer. This equals the rank-sum form
    /// `U = Σ rank(positives) - n₊(n₊+1)/2` with average ranks for ties.
    @usableFromInline
    static func doubledMannWhitney(_ impressions: UnsafeBufferPointer<RankedImpression>, _ range: Range<Int>)
        -> (twiceU: Int, positives: Int, negatives: Int) {
        var twiceU = 0
        var positives = 0
        var negativesBelow = 0
        var i = range.lowerBound
        while i < range.upperBound {
            let score = impressions[i].score
            var groupPositives = 0
            var groupNegatives = 0
            var j = i
            while j < range.upperBound && impressions[j].score == score {
                if impressions[j].positive { groupPositives += 1 } else { groupNegatives += 1 }
                j += 1
            }
            twiceU += groupPositives * (2 * negativesBelow + groupNegatives)
            positives += groupPositives
            negativesBelow += groupNegatives
            i = j
        }
        return (twiceU, positives, negativesBelow)
    }
}
