import Foundation

/// The trials of one setting of the stability sweep, in the order the
/// sequential sweep runs them, and how `stability --ranks N` shares them
/// out over `N` processes.
///
/// The trial list is methods × multipliers × seeds, seed fastest: trial
/// `i` is method `i / (M·S)`, multiplier `(i / S) mod M`, seed `i mod S`
/// (`M` multipliers, `S` seeds). Each trial is single-threaded, independent
/// and deterministic given its seed, so any split gives the sequential
/// sweep's outcomes. The split is **static and round-robin**: rank `r` of
/// `N` runs the trials `i ≡ r (mod N)`. Neighbouring trials differ only in
/// the seed and cost about the same (a divergence depends mostly on the cell,
/// not the seed), so the ranks get similar work without any exchange during
/// the sweep; a dynamic queue would need a coordinator answering requests
/// while it trains.
public struct StabilityTrialSplit: Sendable {
    /// One trial: a cell and a seed.
    public struct Trial: Sendable {
        /// Position in the sequential order.
        public var index: Int
        public var method: StabilityExperiment.Method
        public var multiplier: Double
        public var seed: UInt64
    }

    /// Every trial of a setting, in the sequential order.
    public let trials: [Trial]

    public init(methods: [StabilityExperiment.Method], multipliers: [Double], seeds: [UInt64]) {
        var trials: [Trial] = []
        for method in methods {
            for multiplier in multipliers {
                for seed in seeds {
                    trials.append(Trial(index: trials.count, method: method, multiplier: multiplier, seed: seed))
                }
            }
        }
        self.trials = trials
    }

    /// The trials rank `rank` of `ranks` runs (`index mod ranks == rank`), in order.
    public func trials(rank: Int, of ranks: Int) -> [Trial] {
        precondition(ranks >= 1 && (0..<ranks).contains(rank), "rank \(rank) of \(ranks)")
        return trials.filter { $0.index % ranks == rank }
    }

    /// The outcomes of all trials in the sequential order, from every rank's
    /// `StabilityTrialResults` (any order of the parts).
    ///
    /// - Throws: `StabilityTrialResults.MergeError` when a trial has no
    ///   outcome, two, or an index outside the list.
    public func merge(_ parts: [StabilityTrialResults]) throws -> [StabilityTrialOutcome] {
        var outcomes = [StabilityTrialOutcome?](repeating: nil, count: trials.count)
        for part in parts {
            for (index, outcome) in zip(part.indices, part.outcomes) {
                guard trials.indices.contains(index) else {
                    throw StabilityTrialResults.MergeError(message: "trial index \(index) outside 0..<\(trials.count)")
                }
                guard outcomes[index] == nil else {
                    throw StabilityTrialResults.MergeError(message: "trial \(index) has two outcomes")
                }
                outcomes[index] = outcome
            }
        }
        if let missing = outcomes.firstIndex(where: { $0 == nil }) {
            throw StabilityTrialResults.MergeError(message: "trial \(missing) has no outcome")
        }
        return outcomes.map { $0! }
    }
}

/// The outcomes one rank computed, as the bytes it sends to the others:
/// JSON with the trial indices beside the outcomes. Non-finite numbers (a
/// task without an AUC is NaN) are written as the strings `"nan"`, `"inf"`,
/// `"-inf"`; finite doubles are written in their shortest round-trip form,
/// so the receiving rank decodes the very same values.
public struct StabilityTrialResults: Codable, Equatable, Sendable {
    public struct MergeError: Error, CustomStringConvertible {
        public let message: String
        public var description: String { "stability results from the ranks: \(message)" }
    }

    public var indices: [Int]
    public var outcomes: [StabilityTrialOutcome]

    public init(indices: [Int], outcomes: [StabilityTrialOutcome]) {
        precondition(indices.count == outcomes.count, "one index per outcome")
        self.indices = indices
        self.outcomes = outcomes
    }

    public func encoded() throws -> [UInt8] {
        let encoder = JSONEncoder()
        encoder.nonConformingFloatEncodingStrategy = .convertToString(positiveInfinity: "inf", negativeInfinity: "-inf",
                                                                      nan: "nan")
        return Array(try encoder.encode(self))
    }

    public static func decode(_ bytes: [UInt8]) throws -> StabilityTrialResults {
        let decoder = JSONDecoder()
        decoder.nonConformingFloatDecodingStrategy = .convertFromString(positiveInfinity: "inf", negativeInfinity: "-inf",
                                                                        nan: "nan")
        return try decoder.decode(StabilityTrialResults.self, from: Data(bytes))
    }
}
