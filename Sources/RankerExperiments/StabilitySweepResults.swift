import Foundation

/// One cell of the stability sweep: one method at one learning-rate
/// multiplier, all seeds.
public struct StabilityCell: Codable, Equatable, Sendable {
    public var method: String
    public var multiplier: Double
    public var learningRate: Double
    public var outcomes: [StabilityTrialOutcome]

    public init(method: String, multiplier: Double, learningRate: Double, outcomes: [StabilityTrialOutcome]) {
        self.method = method
        self.multiplier = multiplier
        self.learningRate = learningRate
        self.outcomes = outcomes
    }

    /// Seeds that diverged (training-loss rule, `StabilityTrialOutcome`).
    public var diverged: Int { outcomes.filter(\.diverged).count }
    /// Micro-divergences (spikes that recovered) over all seeds.
    public var microDivergences: Int { outcomes.reduce(0) { $0 + $1.microDivergences } }
    /// Seeds in which some task never learned (reported, not a divergence).
    public var neverLearned: Int { outcomes.filter(\.neverLearned).count }

    /// The final test AUC of every seed, diverged ones included (the state
    /// they stopped in); a missing or non-finite AUC counts as 0.5 (a model
    /// that ranks at random).
    public var finalAUCs: [Double] { outcomes.map { $0.testAUC.flatMap { $0.isFinite ? $0 : nil } ?? 0.5 } }

    /// Mean and sample standard deviation (`n − 1`; 0 for one seed) of `finalAUCs`.
    public var auc: (mean: Double, standardDeviation: Double)? { StabilityStatistics.meanAndDeviation(finalAUCs) }
}

/// Mean and sample standard deviation.
public enum StabilityStatistics {
    /// `(mean, sqrt(Σ(x − mean)² / (n − 1)))`, the deviation 0 for one value; nil for none.
    public static func meanAndDeviation(_ values: [Double]) -> (mean: Double, standardDeviation: Double)? {
        guard !values.isEmpty else { return nil }
        let mean = values.reduce(0, +) / Double(values.count)
        if values.count < 2 { return (mean, 0) }
        let sum = values.reduce(0) { $0 + ($1 - mean) * ($1 - mean) }
        return (mean, (sum / Double(values.count - 1)).squareRoot())
    }
}

/// One method's row of a setting's table: divergences per multiplier, the
/// stability edge, the half-divergence multiplier, the best AUC.
///
/// * **stability edge**: the largest multiplier `m` of the grid such that
///   no seed diverged at any multiplier `≤ m` (the stable range starts at
///   1×; a divergence at a lower rate ends it even if a higher one happened
///   to survive). `nil` when a seed diverged at the smallest multiplier.
///   When nothing diverged it is the largest multiplier of the grid (the
///   true edge lies beyond: the table writes `≥ 16`).
/// * **half divergence**: the smallest multiplier at which at least half
///   the seeds diverged; `nil` when there is none in the grid.
/// * **best AUC**: the largest, over multipliers, of the mean final test
///   AUC over seeds (`StabilityCell.finalAUCs`: diverged seeds count with
///   the state they stopped in), its standard deviation and multiplier.
public struct StabilityMethodResult: Codable, Equatable, Sendable {
    public var method: String
    /// Ascending.
    public var multipliers: [Double]
    public var runs: [Int]
    public var diverged: [Int]
    public var microDivergences: [Int]
    public var neverLearned: [Int]
    /// Mean final AUC per multiplier.
    public var aucMeans: [Double?]
    public var aucStandardDeviations: [Double?]
    public var stabilityEdge: Double?
    public var halfDivergence: Double?
    public var bestAUCMean: Double?
    public var bestAUCStandardDeviation: Double?
    public var bestMultiplier: Double?

    /// The result of `cells` (one method's cells, any order).
    public init(method: String, cells: [StabilityCell]) {
        let sorted = cells.sorted { $0.multiplier < $1.multiplier }
        self.method = method
        multipliers = sorted.map(\.multiplier)
        runs = sorted.map(\.outcomes.count)
        diverged = sorted.map(\.diverged)
        microDivergences = sorted.map(\.microDivergences)
        neverLearned = sorted.map(\.neverLearned)
        let aucs = sorted.map(\.auc)
        aucMeans = aucs.map { $0?.mean }
        aucStandardDeviations = aucs.map { $0?.standardDeviation }
        stabilityEdge = Self.stabilityEdge(multipliers: multipliers, diverged: diverged)
        halfDivergence = Self.halfDivergence(multipliers: multipliers, diverged: diverged, runs: runs)
        var best: Int?
        for (i, m) in aucMeans.enumerated() {
            if let m, best.map({ m > aucMeans[$0]! }) ?? true { best = i }
        }
        bestAUCMean = best.map { aucMeans[$0]! }
        bestAUCStandardDeviation = best.flatMap { aucStandardDeviations[$0] }
        bestMultiplier = best.map { multipliers[$0] }
    }

    /// The largest multiplier with no divergence at it or below (ascending
    /// `multipliers`); nil when the first already diverged.
    public static func stabilityEdge(multipliers: [Double], diverged: [Int]) -> Double? {
        var edge: Double?
        for (m, d) in zip(multipliers, diverged) {
            if d > 0 { break }
            edge = m
        }
        return edge
    }

    /// The smallest multiplier at which `2 · diverged ≥ runs` (ascending
    /// `multipliers`); nil when there is none.
    public static func halfDivergence(multipliers: [Double], diverged: [Int], runs: [Int]) -> Double? {
        for i in multipliers.indices where runs[i] > 0 && 2 * diverged[i] >= runs[i] { return multipliers[i] }
        return nil
    }

    /// Whether the edge reached the top of the grid (the true edge lies beyond).
    public var edgeIsOpen: Bool { stabilityEdge != nil && stabilityEdge == multipliers.last }

    /// Mean final AUC at `multiplier` (nil when it is not in the grid).
    public func aucMean(at multiplier: Double) -> Double? {
        multipliers.firstIndex { StabilityClaims.same($0, multiplier) }.flatMap { aucMeans[$0] }
    }

    /// Diverged seeds at `multiplier` (nil when it is not in the grid).
    public func divergedSeeds(at multiplier: Double) -> Int? {
        multipliers.firstIndex { StabilityClaims.same($0, multiplier) }.map { diverged[$0] }
    }
}

/// The results of one setting: one `StabilityMethodResult` per method, in
/// the experiment's method order.
public struct StabilitySettingResult: Codable, Equatable, Sendable {
    public var name: String
    public var methods: [StabilityMethodResult]

    public init(name: String, methods: [StabilityMethodResult]) {
        self.name = name
        self.methods = methods
    }

    /// The results of `cells`, methods in the order of `methodOrder`.
    public init(name: String, cells: [StabilityCell], methodOrder: [String]) {
        self.name = name
        methods = methodOrder.map { m in StabilityMethodResult(method: m, cells: cells.filter { $0.method == m }) }
    }

    public func method(_ name: String) -> StabilityMethodResult? { methods.first { $0.method == name } }

    /// The last-line JSON object of this setting (issue 15, item 6).
    public var jsonObject: [String: Any] {
        func number(_ v: Double?) -> Any { v.flatMap { $0.isFinite ? $0 : nil } ?? NSNull() }
        return ["name": name, "methods": methods.map { m -> [String: Any] in
            ["method": m.method, "stability_edge": number(m.stabilityEdge), "half_divergence": number(m.halfDivergence),
             "best_auc_mean": number(m.bestAUCMean), "best_auc_std": number(m.bestAUCStandardDeviation),
             "best_multiplier": number(m.bestMultiplier)]
        }]
    }

    /// The setting's table as text columns: per method, diverged seeds per
    /// multiplier, edge, half divergence, best AUC (mean ± std @ multiplier),
    /// micro-divergences (total), never-learned seeds (total).
    public var tableRows: (header: [String], rows: [[String]]) {
        let grid = methods.first?.multipliers ?? []
        let header = ["method"] + grid.map { StabilityExperiment.format($0) + "x" }
            + ["edge", "half", "best AUC (mean ± std @ lr)", "micro", "no-learn"]
        let rows = methods.map { m -> [String] in
            var r = [m.method]
            for g in grid {
                if let i = m.multipliers.firstIndex(where: { StabilityClaims.same($0, g) }) {
                    r.append("\(m.diverged[i])/\(m.runs[i])")
                } else {
                    r.append("—")
                }
            }
            r.append(m.stabilityEdge.map { (m.edgeIsOpen ? "≥" : "") + StabilityExperiment.format($0) + "x" } ?? "<"
                     + (m.multipliers.first.map { StabilityExperiment.format($0) + "x" } ?? "—"))
            r.append(m.halfDivergence.map { StabilityExperiment.format($0) + "x" } ?? "—")
            if let mean = m.bestAUCMean, let sd = m.bestAUCStandardDeviation, let at = m.bestMultiplier {
                r.append(String(format: "%.4f ± %.4f @ %@x", mean, sd, StabilityExperiment.format(at) as NSString))
            } else {
                r.append("—")
            }
            r.append("\(m.microDivergences.reduce(0, +))")
            r.append("\(m.neverLearned.reduce(0, +))")
            return r
        }
        return (header, rows)
    }

    /// The table as aligned text lines (first column left, others right).
    public var tableText: [String] {
        let (header, rows) = tableRows
        let widths = header.indices.map { c in ([header[c]] + rows.map { $0[c] }).map(\.count).max()! }
        func line(_ r: [String]) -> String {
            r.indices.map { c in c == 0 ? r[c].padding(toLength: widths[c], withPad: " ", startingAt: 0)
                                      : String(repeating: " ", count: widths[c] - r[c].count) + r[c] }
                .joined(separator: "  ")
        }
        return [line(header), String(repeating: "-", count: widths.reduce(0, +) + 2 * (widths.count - 1))] + rows.map(line)
    }
}

/// The last line of the example: `{"settings": [...], "full": ...}` (keys sorted).
public enum StabilitySweepJSON {
    public static func line(settings: [StabilitySettingResult], full: Bool) throws -> String {
        let object: [String: Any] = ["settings": settings.map(\.jsonObject), "full": full]
        let data = try JSONSerialization.data(withJSONObject: object, options: [.sortedKeys])
        return String(decoding: data, as: UTF8.self)
    }
}
