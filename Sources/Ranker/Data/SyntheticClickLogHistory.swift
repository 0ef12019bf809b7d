import Foundation

/// The behaviour history of the synthetic click log (`history_length = L > 0`):
/// a list of items the user interacted with before each impression, drawn
/// from the user's current interest, and the history's share of every
/// task's score.
///
/// Interest. Categories have latents `g_c ~ N(0, I)` of width
/// `d_g = categoryLatentDimension` (the raw draws of the item population,
/// before whitening). Each user `u` has a long-term taste `a_u ~ N(0, I_{d_g})`
/// and each impression `r` a session interest `ε_r ~ N(0, I_{d_g})`; with
/// `η = history_session` the user's interest at that impression is
///
///     s_r = √(1 − η) · a_u + √η · ε_r
///
/// and its affinity to category `c` is `α(s, c) = ⟨s, g_c⟩ / √d_g` (about
/// `N(0, 1)` over categories). `η = 0`: the interest is the user's alone
/// (the `user_id` field carries all of it); `η = 1`: it changes with every
/// impression and only the history reveals it.
///
/// History. A length `n` uniform in `0…L`; then `n` items, each, with
/// probability `f = history_focus`, an item of the impression item's category
/// `c*` (the item was shown because of a recent one), else an item of a
/// category drawn by interest,
///
///     P(c | s_r) ∝ w_c · exp(κ · α(s_r, c)),     κ = 2 (`historyConcentration`)
///
/// with `w_c` the summed popularity of `c`'s items (`κ = 0` would be an item
/// by popularity); the item inside the category is drawn by popularity. The
/// list is oldest first.
///
/// Labels. Two history terms per row:
///
///     A_r = α(s_r, c*)            the interest's affinity to the shown item's category
///     B_r = m_r / √L              m_r: history items in c* (the shown item is close to recent ones)
///
/// each standardized over all rows (`Ã`, `B̃`), mixed with
/// `π = history_preference` and standardized again,
///
///     h_r = std(√π · Ã_r + √(1 − π) · B̃_r)
///
/// and `history_signal · h_r` is added to every task's score before the
/// logits are formed (with the base score of about unit variance, the
/// history is about `signal² / (1 + signal²)` of the logit's variance).
///
/// What a model can use: without the history, only the taste part of `A`
/// (as an interaction of `user_id` and the item's category, `1 − η` of `A`'s
/// variance). A mean-pooled history is an estimate of `s_r` (the history's
/// categories are drawn from it), so beside the candidate's embedding it
/// gives `A`, the session part included; the mean hides the list's length
/// and so most of `B`. Target attention weighs each history item against
/// the candidate, so its (unnormalised) sum counts the matches of `B` and
/// the similar categories of `A`.
///
/// Everything comes from a stream of its own (seed `seed ^ 0x4849_5354_4F52_5921`,
/// drawn in row order), so the rest of the log is the same with or without
/// a history, and the history is the same on every rank.
extension SyntheticClickLog {
    /// `κ`: how sharply a history's categories follow the interest.
    static let historyConcentration = 2.0

    /// Draws every row's history, adds `history_signal · h_r` to each task's
    /// score (`scores`, task-major `T × rows`), and returns the lists as
    /// `item_id` ids (`item + 1`). `rowUsers`, `rowItems`: the user and item
    /// of each row; `itemCategory[i]`: the category of item `i`;
    /// `categoryLatent`: `categories × d_g`, row-major.
    static func addHistory(config: SyntheticClickLogConfig, rowUsers: [Int64], rowItems: [Int], itemCategory: [Int],
                           categoryLatent: [Double], itemSampler: ZipfSampler, scores: inout [Double]) -> RaggedColumn {
        var rng = RandomGenerator(seed: config.seed ^ 0x4849_5354_4F52_5921)
        let rows = rowItems.count
        let maxLength = config.historyLength
        let categories = config.categories
        let width = config.categoryLatentDimension
        let eta = config.historySession

        // The items of each category with their running popularity, and w_c.
        var itemsOfCategory = [[Int]](repeating: [], count: categories)
        var popularityOfCategory = [[Double]](repeating: [], count: categories)
        for (item, category) in itemCategory.enumerated() {
            itemsOfCategory[category].append(item)
            popularityOfCategory[category].append((popularityOfCategory[category].last ?? 0)
                                                  + itemSampler.probability(item))
        }
        let categoryWeight = popularityOfCategory.map { $0.last ?? 0 }

        let taste = (0..<(config.users * width)).map { _ in rng.normal() }     // a_u, users × d_g
        var interest = [Double](repeating: 0, count: width)                    // s_r
        var cumulative = [Double](repeating: 0, count: categories)             // running w_c exp(κ α)
        var offsets = [0]
        offsets.reserveCapacity(rows + 1)
        var ids: [Int32] = []
        ids.reserveCapacity(rows * maxLength / 2 + 1)
        var affinityTerm = [Double](repeating: 0, count: rows)                 // A_r
        var matchTerm = [Double](repeating: 0, count: rows)                    // B_r
        let norm = width > 0 ? 1 / Double(width).squareRoot() : 0
        for r in 0..<rows {
            let user = Int(rowUsers[r])
            let shown = itemCategory[rowItems[r]]
            for k in 0..<width {
                interest[k] = (1 - eta).squareRoot() * taste[user * width + k] + eta.squareRoot() * rng.normal()
            }
            var total = 0.0
            for c in 0..<categories {
                var dot = 0.0
                for k in 0..<width { dot += interest[k] * categoryLatent[c * width + k] }
                let affinity = dot * norm
                if c == shown { affinityTerm[r] = affinity }
                total += categoryWeight[c] * exp(historyConcentration * affinity)
                cumulative[c] = total
            }
            let length = min(maxLength, Int(rng.nextDouble() * Double(maxLength + 1)))
            var matches = 0
            for _ in 0..<length {
                let category = rng.nextDouble() < config.historyFocus
                    ? shown : firstAbove(cumulative, rng.nextDouble() * total)
                let inside = popularityOfCategory[category]
                let item = itemsOfCategory[category][firstAbove(inside, rng.nextDouble() * inside[inside.count - 1])]
                if category == shown { matches += 1 }
                ids.append(Int32(item + 1))
            }
            offsets.append(ids.count)
            matchTerm[r] = Double(matches) / Double(maxLength).squareRoot()
        }

        let preference = config.historyPreference
        let a = standardized(affinityTerm), b = standardized(matchTerm)
        let h = standardized((0..<rows).map { preference.squareRoot() * a[$0] + (1 - preference).squareRoot() * b[$0] })
        for t in 0..<config.tasks {
            for r in 0..<rows { scores[t * rows + r] += config.historySignal * h[r] }
        }
        return RaggedColumn(offsets: offsets, ids: ids)
    }

    /// `(v − mean) / standard deviation` over all entries (all zeros for a constant `v`).
    static func standardized(_ values: [Double]) -> [Double] {
        let mean = values.reduce(0, +) / Double(values.count)
        let deviation = (values.reduce(0) { $0 + ($1 - mean) * ($1 - mean) } / Double(values.count)).squareRoot()
        return values.map { deviation > 0 ? ($0 - mean) / deviation : 0 }
    }

    /// The first index whose running total exceeds `target` (binary search;
    /// `target` below the last total, so an entry of weight 0 is never chosen).
    static func firstAbove(_ running: [Double], _ target: Double) -> Int {
        var low = 0, high = running.count - 1
        while low < high {
            let mid = (low + high) >> 1
            if running[mid] <= target { low = mid + 1 } else { high = mid }
        }
        return low
    }
}
