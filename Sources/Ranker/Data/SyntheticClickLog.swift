import Foundation

/// The embedded default data: a seeded multi-feedback click log with known
/// structure, so that models must learn something real and the task
/// correlation can be dialled (the synthetic study of the MMoE paper, §4,
/// turned into a recommendation log).
///
/// Population: users `u` and items `i` with latent vectors `p_u, q_i`
/// (`d` each); each item has a category `c(i)` (Zipf over categories) with a
/// latent `g_c`; each context field `k` has a latent `r_kv` per value `v`.
/// All are drawn `N(0, I)` and then whitened under the row sampling
/// distribution (`WeightedWhitening`: users under user activity, `[q_i, g_c(i)]`
/// jointly under item popularity, each context field under its value
/// frequencies), so that over rows every block has mean 0 and covariance I.
///
/// One impression (row): a user (Zipf activity), an item (Zipf popularity),
/// one value per context field (Zipf), and `dense_features` observed values
/// `e ~ N(0, I)`. Its latent feature vector is
///
///     x = [p_u, q_i, p_u ⊙ q_i, g_c(i), r_1v₁, …, r_KvK, e]       (width D)
///
/// whose coordinates are uncorrelated with unit variance in the population
/// (the product block too, as user and item are drawn independently), so the
/// correlation of two linear scores is the cosine of their directions.
///
/// Tasks: `2(T + 1)` orthonormal directions `u_0…u_T, v_0…v_T` in `R^D`
/// (Gram–Schmidt of Gaussian vectors) give, with `ρ = task_correlation`,
///
///     w_t = √ρ · u_0 + √(1 − ρ) · u_t,     w'_t = √ρ · v_0 + √(1 − ρ) · v_t
///
/// so `|w_t| = 1` and `cos(w_s, w_t) = ρ` for `s ≠ t` — for two tasks the MMoE
/// construction up to a rotation. On day `k` the direction is rotated by
/// `θ_k = k · drift_per_day` in the plane of `w_t` and `w'_t`:
///
///     W_t(k) = cos θ_k · w_t + sin θ_k · w'_t
///
/// which keeps `|W_t| = 1` and all pairwise cosines at `ρ` while
/// `cos(W_t(0), W_t(k)) = cos θ_k` (the relationship drifts day by day).
/// Score `z_t = W_t(day)·x`, plus `Σ_m sin(α_m z_t + β_m)` with shared
/// `α_m, β_m ~ N(0, 1)` when `sinusoids > 0` (then the score correlation is
/// no longer exactly `ρ`). The logit is `ℓ_t = signal_strength · z̃_t + b_t`
/// with `z̃_t` the score centred and divided by its standard deviation over
/// all rows, and `b_t` found by bisection so that the mean of `σ(ℓ_t)` over
/// (up to 65,536 evenly spaced) rows is the task's positive rate; the label
/// is `1` iff a uniform draw is below `σ(ℓ_t)`.
///
/// Output: sparse fields `user_id`, `item_id`, `category`, `context_1…K`
/// (ids `1…n`, id 0 unused, table size `n + 1`), dense `dense_1…m`, tasks
/// `task_1…T` (binary), users (the user index), days (`0..<days`, rows in day
/// order, evenly spread), and a random train/valid/test split.
///
/// Behaviour history (`history_length = L > 0`): every impression also gets
/// a list of items the user interacted with before, drawn from the user's
/// current interest, and the interest moves the labels — the generative
/// model and its math are in `SyntheticClickLogHistory.swift`
/// (`addHistory`). The field is `history` (ids of `item_id`, sharing its
/// table), pooled as `history_pooling` says, or left out with `none` (the
/// labels stay the same).
///
/// Deterministic for a seed: the same config gives bitwise the same data on
/// the same platform (all draws come from `RandomGenerator` in a fixed order;
/// `log`, `cos`, `sin`, `exp` come from the platform's libm).
public struct SyntheticClickLog {
    public let config: SyntheticClickLogConfig
    public let dataset: Dataset
    /// The generating logit `ℓ_t` of every row, `logits[t][row]`.
    public let logits: [[Float]]
    /// The directions `w_t` and `w'_t` (each of width `latentWidth`).
    public let baseDirections: [[Double]]
    public let driftDirections: [[Double]]

    /// `W_t(day) = cos(day · drift) w_t + sin(day · drift) w'_t`.
    public func taskDirection(task t: Int, day: Int) -> [Double] {
        let theta = Double(day) * config.driftPerDay
        return zip(baseDirections[t], driftDirections[t]).map { cos(theta) * $0 + sin(theta) * $1 }
    }

    /// Generates the log. Throws a `SchemaError` for an invalid configuration.
    public init(config: SyntheticClickLogConfig = SyntheticClickLogConfig()) throws {
        try config.validate()
        self.config = config
        var rng = RandomGenerator(seed: config.seed)
        let d = config.latentDimension
        let contextCount = config.contextVocabularies.count
        let m = config.denseFeatures
        let taskCount = config.tasks
        let width = config.latentWidth
        let rows = config.rows
        let categoryDimension = config.categoryLatentDimension
        let contextDimensions = (0..<contextCount).map(config.contextLatentDimension)

        // Samplers first: their probabilities weight the whitening.
        let userSampler = ZipfSampler(count: config.users, exponent: config.userZipfExponent)
        let itemSampler = ZipfSampler(count: config.items, exponent: config.itemZipfExponent)
        let categorySampler = ZipfSampler(count: config.categories, exponent: 1)
        let contextSamplers = config.contextVocabularies.map { ZipfSampler(count: $0, exponent: config.contextZipfExponent) }

        // Population latents, whitened under the row distribution.
        var userLatent = (0..<(config.users * d)).map { _ in rng.normal() }
        WeightedWhitening.whiten(&userLatent, count: config.users, dimension: d,
                                 weights: (0..<config.users).map(userSampler.probability))
        let itemCategory = (0..<config.items).map { _ in categorySampler.sample(&rng) }
        let categoryLatent = (0..<(config.categories * categoryDimension)).map { _ in rng.normal() }
        let itemWidth = d + categoryDimension
        var itemLatent = [Double](repeating: 0, count: config.items * itemWidth)   // [q_i, g_c(i)]
        for i in 0..<config.items {
            for k in 0..<d { itemLatent[i * itemWidth + k] = rng.normal() }
            for k in 0..<categoryDimension {
                itemLatent[i * itemWidth + d + k] = categoryLatent[itemCategory[i] * categoryDimension + k]
            }
        }
        WeightedWhitening.whiten(&itemLatent, count: config.items, dimension: itemWidth,
                                 weights: (0..<config.items).map(itemSampler.probability))
        var contextLatent: [[Double]] = []
        for c in 0..<contextCount {
            var table = (0..<(config.contextVocabularies[c] * contextDimensions[c])).map { _ in rng.normal() }
            WeightedWhitening.whiten(&table, count: config.contextVocabularies[c], dimension: contextDimensions[c],
                                     weights: (0..<config.contextVocabularies[c]).map(contextSamplers[c].probability))
            contextLatent.append(table)
        }

        // 2(T + 1) orthonormal directions by Gram–Schmidt (re-drawn if degenerate).
        var basis: [[Double]] = []
        while basis.count < 2 * (taskCount + 1) {
            var v = (0..<width).map { _ in rng.normal() }
            for b in basis {
                let projection = zip(v, b).reduce(0) { $0 + $1.0 * $1.1 }
                for k in 0..<width { v[k] -= projection * b[k] }
            }
            let norm = v.reduce(0) { $0 + $1 * $1 }.squareRoot()
            if norm > 1e-6 { basis.append(v.map { $0 / norm }) }
        }
        let rho = config.taskCorrelation
        let shared = rho.squareRoot(), own = (1 - rho).squareRoot()
        let base = (0..<taskCount).map { t in (0..<width).map { shared * basis[0][$0] + own * basis[1 + t][$0] } }
        let drift = (0..<taskCount).map { t in
            (0..<width).map { shared * basis[taskCount + 1][$0] + own * basis[taskCount + 2 + t][$0] }
        }
        baseDirections = base
        driftDirections = drift
        let alphas = (0..<config.sinusoids).map { _ in rng.normal() }
        let betas = (0..<config.sinusoids).map { _ in rng.normal() }

        // Rows: sparse ids, dense features, raw scores (flat buffers, row-major where per row).
        let fieldCount = 3 + contextCount
        var idColumns = [Int32](repeating: 0, count: fieldCount * rows)     // field-major
        var denseColumns = [Float](repeating: 0, count: m * rows)           // feature-major
        var scores = [Double](repeating: 0, count: taskCount * rows)        // task-major
        var users = [Int64](repeating: 0, count: rows)
        var days = [Int32](repeating: 0, count: rows)
        var rowItems = [Int](repeating: 0, count: config.historyLength > 0 ? rows : 0)
        let directions = (base + drift).flatMap { $0 }                      // 2T × width
        let cosines = (0..<config.days).map { cos(Double($0) * config.driftPerDay) }
        let sines = (0..<config.days).map { sin(Double($0) * config.driftPerDay) }
        var contextOffsets: [Int] = []
        var offset = 3 * d + categoryDimension
        for c in 0..<contextCount { contextOffsets.append(offset); offset += contextDimensions[c] }
        let denseOffset = offset
        var x = [Double](repeating: 0, count: width)
        idColumns.withUnsafeMutableBufferPointer { ids in
        denseColumns.withUnsafeMutableBufferPointer { dense in
        scores.withUnsafeMutableBufferPointer { score in
        x.withUnsafeMutableBufferPointer { x in
        directions.withUnsafeBufferPointer { w in
        userLatent.withUnsafeBufferPointer { userTable in
        itemLatent.withUnsafeBufferPointer { itemTable in
            for r in 0..<rows {
                let day = Int(Int64(r) * Int64(config.days) / Int64(rows))
                let user = userSampler.sample(&rng)
                let item = itemSampler.sample(&rng)
                if !rowItems.isEmpty { rowItems[r] = item }
                users[r] = Int64(user)
                days[r] = Int32(day)
                ids[r] = Int32(user + 1)
                ids[rows + r] = Int32(item + 1)
                ids[2 * rows + r] = Int32(itemCategory[item] + 1)
                let p = userTable.baseAddress! + user * d
                let q = itemTable.baseAddress! + item * itemWidth
                for k in 0..<d {
                    x[k] = p[k]
                    x[d + k] = q[k]
                    x[2 * d + k] = p[k] * q[k]
                }
                for k in 0..<categoryDimension { x[3 * d + k] = q[d + k] }
                for c in 0..<contextCount {
                    let value = contextSamplers[c].sample(&rng)
                    ids[(3 + c) * rows + r] = Int32(value + 1)
                    let k = contextDimensions[c]
                    contextLatent[c].withUnsafeBufferPointer { table in
                        for a in 0..<k { x[contextOffsets[c] + a] = table[value * k + a] }
                    }
                }
                for j in 0..<m {
                    let e = rng.normal()
                    x[denseOffset + j] = e
                    dense[j * rows + r] = Float(e)
                }
                for t in 0..<taskCount {
                    let wa = w.baseAddress! + t * width
                    let wb = w.baseAddress! + (taskCount + t) * width
                    var a = 0.0, b = 0.0
                    for k in 0..<width {
                        a += wa[k] * x[k]
                        b += wb[k] * x[k]
                    }
                    var z = cosines[day] * a + sines[day] * b
                    if !alphas.isEmpty {
                        let linear = z
                        for s in 0..<alphas.count { z += sin(alphas[s] * linear + betas[s]) }
                    }
                    score[t * rows + r] = z
                }
            }
        }}}}}}}

        let history = config.historyLength > 0
            ? SyntheticClickLog.addHistory(config: config, rowUsers: users, rowItems: rowItems,
                                           itemCategory: itemCategory, categoryLatent: categoryLatent,
                                           itemSampler: itemSampler, scores: &scores)
            : nil

        // Logits: standardized score × strength + intercept for the positive rate; then labels.
        var logits = [[Float]](repeating: [], count: taskCount)
        var logitValues = [[Double]](repeating: [], count: taskCount)
        for t in 0..<taskCount {
            let column = scores[(t * rows)..<((t + 1) * rows)]
            let mean = column.reduce(0, +) / Double(rows)
            let variance = column.reduce(0) { $0 + ($1 - mean) * ($1 - mean) } / Double(rows)
            let scale = variance > 0 ? config.signalStrength / variance.squareRoot() : 0
            let centered = column.map { ($0 - mean) * scale }
            let intercept = SyntheticClickLog.intercept(for: centered, positiveRate: config.positiveRate(task: t))
            logitValues[t] = centered.map { $0 + intercept }
            logits[t] = logitValues[t].map { Float($0) }
        }
        var labels = [[Float]](repeating: [Float](repeating: 0, count: rows), count: taskCount)
        for r in 0..<rows {
            for t in 0..<taskCount {
                let probability = 1 / (1 + exp(-logitValues[t][r]))
                labels[t][r] = rng.nextDouble() < probability ? 1 : 0
            }
        }
        self.logits = logits

        // Random split from its own stream, so it does not move the data.
        var splitRNG = RandomGenerator(seed: config.seed ^ 0x5EED_5EED_5EED_5EED)
        var splits = DatasetSplits(train: [], valid: [], test: [])
        for r in 0..<rows {
            let u = splitRNG.nextDouble()
            if u < config.validFraction {
                splits.valid.append(r)
            } else if u < config.validFraction + config.testFraction {
                splits.test.append(r)
            } else {
                splits.train.append(r)
            }
        }

        let dim = config.embeddingDimension
        var fields = [SparseField(name: "user_id", vocabulary: config.users + 1, dimension: dim),
                      SparseField(name: "item_id", vocabulary: config.items + 1, dimension: dim),
                      SparseField(name: "category", vocabulary: config.categories + 1, dimension: dim)]
        for (c, size) in config.contextVocabularies.enumerated() {
            fields.append(SparseField(name: "context_\(c + 1)", vocabulary: size + 1, dimension: dim))
        }
        dataset = Dataset(name: "synthetic", fields: fields, denseNames: (0..<m).map { "dense_\($0 + 1)" },
                          tasks: (0..<taskCount).map { TaskSpec(name: "task_\($0 + 1)", kind: .binary) },
                          ids: (0..<fieldCount).map { Array(idColumns[($0 * rows)..<(($0 + 1) * rows)]) },
                          dense: (0..<m).map { Array(denseColumns[($0 * rows)..<(($0 + 1) * rows)]) },
                          labels: labels, users: users, days: days, splits: splits,
                          sequenceFields: history != nil && config.historyPooling != .none
                              ? [SequenceField(name: "history", vocabulary: config.items + 1, dimension: dim,
                                               maxLength: config.historyLength, sharesEmbeddingWith: "item_id",
                                               pooling: SequencePooling(rawValue: config.historyPooling.rawValue)!,
                                               target: config.historyPooling == .attention ? "item_id" : nil)]
                              : [],
                          sequences: history != nil && config.historyPooling != .none ? [history!] : [])
    }

    /// The `b` with mean `σ(ℓ + b) = rate` over up to 65,536 evenly spaced
    /// entries of `logits` (bisection; the mean is increasing in `b`).
    static func intercept(for logits: [Double], positiveRate rate: Double) -> Double {
        let stride = max(1, logits.count / 65_536)
        let sample = Swift.stride(from: 0, to: logits.count, by: stride).map { logits[$0] }
        var low = -60.0, high = 60.0
        for _ in 0..<64 {
            let mid = (low + high) / 2
            let mean = sample.reduce(0) { $0 + 1 / (1 + exp(-($1 + mid))) } / Double(sample.count)
            if mean < rate { low = mid } else { high = mid }
        }
        return (low + high) / 2
    }
}
