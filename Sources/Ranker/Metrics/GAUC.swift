/// The result of `Metrics.gauc`: the value and how much of the data it covers.
public struct GAUCResult: Equatable, Sendable, CustomStringConvertible {
    /// `Σ_u n_u AUC_u / Σ_u n_u` over the users used; NaN when none qualifies.
    public var value: Double
    /// Users whose impressions contain both classes.
    public var usersUsed: Int
    /// `Σ_u n_u` over those users.
    public var impressionsUsed: Int

    public var description: String {
        "GAUC \(value) over \(usersUsed) users / \(impressionsUsed) impressions"
    }
}

extension Metrics {
    /// Group AUC (ALGORITHMS.md 2.2): the impression-weighted mean of per-user AUCs,
    ///
    ///     GAUC = Σ_u n_u AUC_u / Σ_u n_u,
    ///
    /// over the users whose impressions contain both classes; `n_u` is the
    /// number of impressions of user `u`. Users whose labels are all 1 or all 0
    /// are skipped (neither numerator nor denominator). Each `AUC_u` is the
    /// tie-aware AUC of `auc(scores:labels:)`.
    ///
    /// Cost: one O(n log n) sort by (user, score), then one pass.
    ///
    /// - Parameters:
    ///   - users: one user id per impression (any integer type; converted to
    ///     `Int64` bit pattern, so distinct ids stay distinct).
    /// - Returns: the value (NaN when no user qualifies, including empty input)
    ///   with the number of users and impressions used.
    /// - Throws: as `auc(scores:labels:)`.
    /// - Precondition: the three collections have the same count.
    @inlinable
    public static func gauc<Scores: Collection, Labels: Collection, Users: Collection>(
        scores: Scores, labels: Labels, users: Users
    ) throws -> GAUCResult
    where Scores.Element: BinaryFloatingPoint, Labels.Element: BinaryFloatingPoint, Users.Element: BinaryInteger {
        let userIDs = users.map { Int64(truncatingIfNeeded: $0) }
        var impressions = try impressions(scores: scores, labels: labels, users: userIDs)
        return gauc(sorting: &impressions)
    }

    /// GAUC of already validated impressions (sorts them by user, then score).
    @usableFromInline
    static func gauc(sorting impressions: inout [RankedImpression]) -> GAUCResult {
        impressions.sort { $0.user != $1.user ? $0.user < $1.user : $0.score < $1.score }
        var weightedSum = 0.0
        var usersUsed = 0
        var impressionsUsed = 0
        impressions.withUnsafeBufferPointer { all in
            var start = 0
            while start < all.count {
                let user = all[start].user
                var end = start + 1
                while end < all.count && all[end].user == user { end += 1 }
                let counts = doubledMannWhitney(all, start..<end)
                if counts.positives > 0 && counts.negatives > 0 {
                    let n = end - start
                    let auc = Double(counts.twiceU) / (2 * Double(counts.positives) * Double(counts.negatives))
                    weightedSum += Double(n) * auc
                    usersUsed += 1
                    impressionsUsed += n
                }
                start = end
            }
        }
        let value = impressionsUsed > 0 ? weightedSum / Double(impressionsUsed) : .nan
        return GAUCResult(value: value, usersUsed: usersUsed, impressionsUsed: impressionsUsed)
    }
}
