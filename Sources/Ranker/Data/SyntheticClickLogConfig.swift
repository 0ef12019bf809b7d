/// The settings of the synthetic multi-feedback click log
/// (`SyntheticClickLog`). Every key is optional in JSON (snake_case, unknown
/// keys are errors); the defaults make a 200,000-row, two-task log.
///
/// | key | default | meaning |
/// |---|---|---|
/// | `seed` | 1 | everything is a function of it |
/// | `rows` | 200000 | examples (impressions) |
/// | `users`, `items`, `categories` | 2000, 10000, 100 | population sizes |
/// | `context_vocabularies` | [24, 8] | one extra sparse field per entry (think hour, slot) |
/// | `dense_features` | 4 | observed dense features (standard normal) |
/// | `latent_dimension` | 8 | `d`, the size of each latent block |
/// | `tasks` | 2 | `T`, binary feedback labels per impression |
/// | `task_correlation` | 0.5 | `ρ ∈ [0, 1]`, the cosine between any two task directions |
/// | `positive_rates` | [0.2] | one per task, or one for all |
/// | `signal_strength` | 2 | scale of the standardized score in the logit |
/// | `sinusoids` | 0 | MMoE-style non-linear terms `Σ sin(α_m z + β_m)` |
/// | `item_zipf_exponent` | 1.1 | item popularity `∝ 1/rank^s` |
/// | `user_zipf_exponent` | 0.8 | user activity |
/// | `context_zipf_exponent` | 1.0 | context-value frequencies |
/// | `days` | 1 | rows are spread evenly over this many days, in order |
/// | `drift_per_day` | 0 | radians the task directions rotate per day |
/// | `embedding_dimension` | 8 | the `dimension` of every sparse field |
/// | `valid_fraction`, `test_fraction` | 0.1, 0.1 | random split |
/// | `history_length` | 0 | most items in an impression's behaviour history (0: no history) |
/// | `history_signal` | 1 | weight of the standardized history term in every task's score: how much the history carries (0: nothing; see `SyntheticClickLog.addHistory`) |
/// | `history_focus` | 0.3 | chance that a history item is drawn from the impression item's category |
/// | `history_preference` | 0.5 | `π ∈ [0, 1]`: share of the history term from the user's interest in the item's category (the rest: matches of the item's category in the history) |
/// | `history_session` | 0.5 | `η ∈ [0, 1]`: share of the interest that changes per impression (the rest is the user's long-term taste) |
/// | `history_pooling` | `mean` | how the model pools the `history` field: `sum`, `mean`, `attention` (target `item_id`), or `none` (the field is left out; the labels stay the same) |
public struct SyntheticClickLogConfig: Codable, Equatable, Sendable {
    public var seed: UInt64 = 1
    public var rows = 200_000
    public var users = 2_000
    public var items = 10_000
    public var categories = 100
    public var contextVocabularies = [24, 8]
    public var denseFeatures = 4
    public var latentDimension = 8
    public var tasks = 2
    public var taskCorrelation = 0.5
    public var positiveRates = [0.2]
    public var signalStrength = 2.0
    public var sinusoids = 0
    public var itemZipfExponent = 1.1
    public var userZipfExponent = 0.8
    public var contextZipfExponent = 1.0
    public var days = 1
    public var driftPerDay = 0.0
    public var embeddingDimension = 8
    public var validFraction = 0.1
    public var testFraction = 0.1
    public var historyLength = 0
    public var historySignal = 1.0
    public var historyFocus = 0.3
    public var historyPreference = 0.5
    public var historySession = 0.5
    public var historyPooling = SyntheticHistoryPooling.mean

    public init() {}

    enum CodingKeys: String, CodingKey, CaseIterable {
        case seed, rows, users, items, categories
        case contextVocabularies = "context_vocabularies"
        case denseFeatures = "dense_features"
        case latentDimension = "latent_dimension"
        case tasks
        case taskCorrelation = "task_correlation"
        case positiveRates = "positive_rates"
        case signalStrength = "signal_strength"
        case sinusoids
        case itemZipfExponent = "item_zipf_exponent"
        case userZipfExponent = "user_zipf_exponent"
        case contextZipfExponent = "context_zipf_exponent"
        case days
        case driftPerDay = "drift_per_day"
        case embeddingDimension = "embedding_dimension"
        case validFraction = "valid_fraction"
        case testFraction = "test_fraction"
        case historyLength = "history_length"
        case historySignal = "history_signal"
        case historyFocus = "history_focus"
        case historyPreference = "history_preference"
        case historySession = "history_session"
        case historyPooling = "history_pooling"
    }

    public init(from decoder: Decoder) throws {
        let c = try schemaContainer(decoder, CodingKeys.self)
        let d = SyntheticClickLogConfig()
        seed = try c.decode(.seed, default: d.seed)
        rows = try c.decode(.rows, default: d.rows)
        users = try c.decode(.users, default: d.users)
        items = try c.decode(.items, default: d.items)
        categories = try c.decode(.categories, default: d.categories)
        contextVocabularies = try c.decode(.contextVocabularies, default: d.contextVocabularies)
        denseFeatures = try c.decode(.denseFeatures, default: d.denseFeatures)
        latentDimension = try c.decode(.latentDimension, default: d.latentDimension)
        tasks = try c.decode(.tasks, default: d.tasks)
        taskCorrelation = try c.decode(.taskCorrelation, default: d.taskCorrelation)
        positiveRates = try c.decode(.positiveRates, default: d.positiveRates)
        signalStrength = try c.decode(.signalStrength, default: d.signalStrength)
        sinusoids = try c.decode(.sinusoids, default: d.sinusoids)
        itemZipfExponent = try c.decode(.itemZipfExponent, default: d.itemZipfExponent)
        userZipfExponent = try c.decode(.userZipfExponent, default: d.userZipfExponent)
        contextZipfExponent = try c.decode(.contextZipfExponent, default: d.contextZipfExponent)
        days = try c.decode(.days, default: d.days)
        driftPerDay = try c.decode(.driftPerDay, default: d.driftPerDay)
        embeddingDimension = try c.decode(.embeddingDimension, default: d.embeddingDimension)
        validFraction = try c.decode(.validFraction, default: d.validFraction)
        testFraction = try c.decode(.testFraction, default: d.testFraction)
        historyLength = try c.decode(.historyLength, default: d.historyLength)
        historySignal = try c.decode(.historySignal, default: d.historySignal)
        historyFocus = try c.decode(.historyFocus, default: d.historyFocus)
        historyPreference = try c.decode(.historyPreference, default: d.historyPreference)
        historySession = try c.decode(.historySession, default: d.historySession)
        historyPooling = try c.decode(.historyPooling, default: d.historyPooling)
    }

    /// Every key; the history keys only with a history (`history_length > 0`),
    /// so a configuration without one encodes as it did before they existed.
    public func encode(to encoder: Encoder) throws {
        var c = encoder.container(keyedBy: CodingKeys.self)
        try c.encode(seed, forKey: .seed)
        try c.encode(rows, forKey: .rows)
        try c.encode(users, forKey: .users)
        try c.encode(items, forKey: .items)
        try c.encode(categories, forKey: .categories)
        try c.encode(contextVocabularies, forKey: .contextVocabularies)
        try c.encode(denseFeatures, forKey: .denseFeatures)
        try c.encode(latentDimension, forKey: .latentDimension)
        try c.encode(tasks, forKey: .tasks)
        try c.encode(taskCorrelation, forKey: .taskCorrelation)
        try c.encode(positiveRates, forKey: .positiveRates)
        try c.encode(signalStrength, forKey: .signalStrength)
        try c.encode(sinusoids, forKey: .sinusoids)
        try c.encode(itemZipfExponent, forKey: .itemZipfExponent)
        try c.encode(userZipfExponent, forKey: .userZipfExponent)
        try c.encode(contextZipfExponent, forKey: .contextZipfExponent)
        try c.encode(days, forKey: .days)
        try c.encode(driftPerDay, forKey: .driftPerDay)
        try c.encode(embeddingDimension, forKey: .embeddingDimension)
        try c.encode(validFraction, forKey: .validFraction)
        try c.encode(testFraction, forKey: .testFraction)
        if historyLength > 0 {
            try c.encode(historyLength, forKey: .historyLength)
            try c.encode(historySignal, forKey: .historySignal)
            try c.encode(historyFocus, forKey: .historyFocus)
            try c.encode(historyPreference, forKey: .historyPreference)
            try c.encode(historySession, forKey: .historySession)
            try c.encode(historyPooling, forKey: .historyPooling)
        }
    }

    /// Width of the category block: `min(d, categories − 1)` (a block can
    /// only be whitened with more values than dimensions).
    public var categoryLatentDimension: Int { min(latentDimension, categories - 1) }

    /// Width of the block of context field `k`: `min(d, vocabulary − 1)`.
    public func contextLatentDimension(_ k: Int) -> Int { min(latentDimension, contextVocabularies[k] - 1) }

    /// Width `D` of the latent feature vector: user, item and user⊙item
    /// (`d` each), category, one block per context field, then the dense features.
    public var latentWidth: Int {
        3 * latentDimension + categoryLatentDimension
            + contextVocabularies.indices.reduce(0) { $0 + contextLatentDimension($1) } + denseFeatures
    }

    /// The positive rate of task `t`.
    public func positiveRate(task t: Int) -> Double {
        positiveRates.count == 1 ? positiveRates[0] : positiveRates[t]
    }

    /// Checks ranges; throws a `SchemaError` naming the key (source `synthetic`).
    public func validate() throws {
        func fail(_ key: CodingKeys, _ message: String) -> SchemaError {
            SchemaError(source: "synthetic", path: key.rawValue, problem: .invalidValue(message))
        }
        for (key, value) in [(CodingKeys.rows, rows), (.users, users), (.items, items), (.categories, categories),
                             (.latentDimension, latentDimension), (.tasks, tasks), (.days, days),
                             (.embeddingDimension, embeddingDimension)] where value < 1 {
            throw fail(key, "\(key.rawValue) must be at least 1, got \(value)")
        }
        if denseFeatures < 0 { throw fail(.denseFeatures, "dense_features must be 0 or more") }
        if sinusoids < 0 { throw fail(.sinusoids, "sinusoids must be 0 or more") }
        if contextVocabularies.contains(where: { $0 < 1 }) {
            throw fail(.contextVocabularies, "every context vocabulary needs at least 1 value")
        }
        guard taskCorrelation >= 0 && taskCorrelation <= 1 else {
            throw fail(.taskCorrelation, "task_correlation must be in [0, 1], got \(taskCorrelation)")
        }
        guard positiveRates.count == 1 || positiveRates.count == tasks else {
            throw fail(.positiveRates, "give one positive rate for all tasks or one per task (\(tasks))")
        }
        guard positiveRates.allSatisfy({ $0 > 0 && $0 < 1 }) else {
            throw fail(.positiveRates, "positive rates must be in (0, 1)")
        }
        guard signalStrength >= 0, signalStrength.isFinite else {
            throw fail(.signalStrength, "signal_strength must be a finite number ≥ 0")
        }
        for (key, value) in [(CodingKeys.itemZipfExponent, itemZipfExponent), (.userZipfExponent, userZipfExponent),
                             (.contextZipfExponent, contextZipfExponent)] where !(value >= 0 && value.isFinite) {
            throw fail(key, "\(key.rawValue) must be a finite number ≥ 0")
        }
        if historyLength < 0 { throw fail(.historyLength, "history_length must be 0 or more") }
        guard historySignal >= 0, historySignal.isFinite else {
            throw fail(.historySignal, "history_signal must be a finite number ≥ 0")
        }
        for (key, value) in [(CodingKeys.historyFocus, historyFocus), (.historyPreference, historyPreference),
                             (.historySession, historySession)] where !(value >= 0 && value <= 1) {
            throw fail(key, "\(key.rawValue) must be in [0, 1], got \(value)")
        }
        guard driftPerDay.isFinite else { throw fail(.driftPerDay, "drift_per_day must be finite") }
        guard validFraction >= 0, testFraction >= 0, validFraction + testFraction < 1 else {
            throw fail(.validFraction, "fractions must be non-negative and sum to less than 1")
        }
        guard latentWidth >= 2 * (tasks + 1) else {
            throw fail(.latentDimension, "the latent width \(latentWidth) must be at least 2·(tasks + 1) = "
                       + "\(2 * (tasks + 1)) to hold the orthonormal task directions")
        }
    }
}

/// How the synthetic log's `history` field reaches the model (`history_pooling`).
public enum SyntheticHistoryPooling: String, ConfigurationEnum {
    case none, sum, mean, attention
}
