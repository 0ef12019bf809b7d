import Foundation
import Ranker

/// The results of a `WeightingComparison` in the layout of the GradCraft
/// paper's main table: one row per method; per task AUC and GAUC; the mean
/// AUC and mean GAUC over the tasks; the relative improvement of the two means
/// over the baseline method, in percent.
///
/// Arithmetic, with `x[m][s][t]` the AUC (or GAUC) of method `m`, seed `s`,
/// task `t` (from `WeightingComparisonRun.tasks`):
///
///     cell(m, t)     = mean_s x[m][s][t]                  (spread: sample sd over seeds)
///     run mean(m, s) = mean_{t ∈ counted} x[m][s][t]
///     mean(m)        = mean_s run mean(m, s)               (= mean over counted t of cell(m, t))
///     improvement(m) = 100 · (mean(m) / mean(baseline) − 1)
///     paired(m, s)   = 100 · (run mean(m, s) / run mean(baseline, s) − 1)
///
/// The sample standard deviation divides by `n − 1`; with one seed it is NaN.
/// A task is *counted* in the AUC means when its labels on the reported split
/// have both classes, and in the GAUC means when some user has both classes
/// (the labels are the same in every run); tasks left out show `n/a` and are
/// listed in `uncounted…`. Any other NaN (a run the stability policy stopped,
/// see `WeightingComparisonRun.failure`) propagates into its method's means.
public struct WeightingComparisonTable: Sendable {
    /// Mean and spread over the seeds.
    public typealias Statistic = SeedStatistic

    /// One method's row.
    public struct Row: Sendable {
        public var method: String
        /// Per task, in `taskNames` order.
        public var auc: [Statistic]
        public var gauc: [Statistic]
        public var meanAUC: Statistic
        public var meanGAUC: Statistic
        /// `100 · (mean(m) / mean(baseline) − 1)`; 0 for the baseline itself.
        public var relativeImprovementAUC: Double
        public var relativeImprovementGAUC: Double
        /// Per-seed improvements against the baseline run with the same seed.
        public var pairedImprovementAUC: Statistic
        public var pairedImprovementGAUC: Statistic
        /// Wall-clock seconds of the method's runs, summed over seeds.
        public var wallSeconds: Double
    }

    public let split: ComparisonSplit
    public let baseline: String
    public let seeds: [UInt64]
    public let taskNames: [String]
    /// Positives / examples of each task on the reported split.
    public let positiveRates: [Double]
    /// Indices of the tasks in the AUC and GAUC means.
    public let countedAUCTasks: [Int]
    public let countedGAUCTasks: [Int]
    public let rows: [Row]
    /// `method seed s: reason` of every run the stability policy stopped.
    public let failures: [String]

    /// Builds the table from every run of every method (`methods` in row
    /// order) with every seed (`seeds` in column order of the statistics).
    ///
    /// - Throws: `RunConfigurationError` when a (method, seed) run is missing
    ///   or duplicated, the baseline is not a method, or runs disagree on the tasks.
    public init(runs: [WeightingComparisonRun], methods: [String], seeds: [UInt64], baseline: String) throws {
        func fail(_ message: String) -> RunConfigurationError { RunConfigurationError(file: nil, message: message) }
        guard methods.contains(baseline) else { throw fail("baseline \(baseline) is not among the methods") }
        guard !seeds.isEmpty, let first = runs.first else { throw fail("no runs") }
        var grid: [[WeightingComparisonRun]] = []
        for method in methods {
            var row: [WeightingComparisonRun] = []
            for seed in seeds {
                let matching = runs.filter { $0.method == method && $0.seed == seed }
                guard matching.count == 1 else {
                    throw fail("\(matching.isEmpty ? "no" : "\(matching.count)") runs of \(method) with seed \(seed)")
                }
                row.append(matching[0])
            }
            grid.append(row)
        }
        let names = first.tasks.map(\.name)
        for run in runs where run.tasks.map(\.name) != names || run.split != first.split {
            throw fail("run \(run.method) seed \(run.seed) has other tasks or another split than \(first.method) seed \(first.seed)")
        }
        split = first.split
        self.baseline = baseline
        self.seeds = seeds
        taskNames = names
        positiveRates = first.tasks.map { $0.examples > 0 ? Double($0.positives) / Double($0.examples) : .nan }
        let allRuns = grid.flatMap { $0 }
        let countedAUC = names.indices.filter { t in allRuns.contains { $0.tasks[t].hasBothClasses } }
        let countedGAUC = names.indices.filter { t in allRuns.contains { $0.tasks[t].hasGAUCUsers } }
        countedAUCTasks = countedAUC
        countedGAUCTasks = countedGAUC
        failures = allRuns.compactMap { run in run.failure.map { "\(run.method) seed \(run.seed): \($0)" } }

        func runMean(_ run: WeightingComparisonRun, _ metric: KeyPath<WeightingComparisonRun.TaskScore, Double>,
                     _ counted: [Int]) -> Double {
            counted.isEmpty ? .nan : counted.reduce(0) { $0 + run.tasks[$1][keyPath: metric] } / Double(counted.count)
        }
        let baseIndex = methods.firstIndex(of: baseline)!
        let baseAUC = grid[baseIndex].map { runMean($0, \.auc, countedAUC) }
        let baseGAUC = grid[baseIndex].map { runMean($0, \.gauc, countedGAUC) }
        let baseMeanAUC = Statistic(values: baseAUC, spread: .sample).mean
        let baseMeanGAUC = Statistic(values: baseGAUC, spread: .sample).mean
        rows = zip(methods, grid).map { method, runs in
            let aucs = runs.map { runMean($0, \.auc, countedAUC) }
            let gaucs = runs.map { runMean($0, \.gauc, countedGAUC) }
            let meanAUC = Statistic(values: aucs, spread: .sample), meanGAUC = Statistic(values: gaucs, spread: .sample)
            return Row(method: method,
                       auc: names.indices.map { t in Statistic(values: runs.map { $0.tasks[t].auc }, spread: .sample) },
                       gauc: names.indices.map { t in Statistic(values: runs.map { $0.tasks[t].gauc }, spread: .sample) },
                       meanAUC: meanAUC, meanGAUC: meanGAUC,
                       relativeImprovementAUC: 100 * (meanAUC.mean / baseMeanAUC - 1),
                       relativeImprovementGAUC: 100 * (meanGAUC.mean / baseMeanGAUC - 1),
                       pairedImprovementAUC: Statistic(values: zip(aucs, baseAUC).map { 100 * ($0 / $1 - 1) }, spread: .sample),
                       pairedImprovementGAUC: Statistic(values: zip(gaucs, baseGAUC).map { 100 * ($0 / $1 - 1) }, spread: .sample),
                       wallSeconds: runs.reduce(0) { $0 + $1.wallSeconds })
        }
    }

    /// Task names left out of the AUC / GAUC means.
    public var uncountedAUCTasks: [String] {
        taskNames.indices.filter { !countedAUCTasks.contains($0) }.map { taskNames[$0] }
    }
    public var uncountedGAUCTasks: [String] {
        taskNames.indices.filter { !countedGAUCTasks.contains($0) }.map { taskNames[$0] }
    }

    // MARK: text

    /// The table as aligned text: the paper layout (means over seeds), then
    /// the spread of the two means and the per-seed paired improvements.
    public func text() -> String {
        let methodWidth = max(8, rows.map(\.method.count).max() ?? 0) + 2
        func pad(_ s: String, _ width: Int, left: Bool = false) -> String {
            let gap = String(repeating: " ", count: max(0, width - s.count))
            return left ? s + gap : gap + s
        }
        func metric(_ v: Double) -> String { v.isFinite ? String(format: "%.4f", v) : "n/a" }
        func percent(_ v: Double) -> String { v.isFinite ? String(format: "%+.2f%%", v) : "n/a" }
        func spread(_ v: Double) -> String { v.isFinite ? String(format: "%.4f", v) : "–" }
        var lines: [String] = []
        // Header: task names (with positive rates) over AUC/GAUC pairs.
        let cell = 8
        var top = pad("", methodWidth, left: true), sub = pad("method", methodWidth, left: true)
        let headings = taskNames.indices.map { t in
            taskNames[t] + (positiveRates[t].isFinite ? String(format: " %.1f%%", 100 * positiveRates[t]) : "")
        }
        // Every task column pair is as wide as the widest heading (plus a space).
        let taskWidth = max(2 * cell, (headings.map(\.count).max() ?? 0) + 1)
        for heading in headings {
            top += pad(heading, taskWidth, left: true)
            sub += pad("AUC", cell, left: true) + pad("GAUC", taskWidth - cell, left: true)
        }
        top += "  " + pad("mean", 2 * cell, left: true) + "  " + pad("rel. impr. vs \(baseline)", 2 * cell, left: true)
        sub += "  " + pad("AUC", cell, left: true) + pad("GAUC", cell, left: true)
            + "  " + pad("AUC", cell, left: true) + pad("GAUC", cell, left: true)
        lines.append(top.trimmingTrailingSpaces())
        lines.append(sub.trimmingTrailingSpaces())
        for row in rows {
            var line = pad(row.method, methodWidth, left: true)
            for t in taskNames.indices {
                line += pad(metric(row.auc[t].mean), cell, left: true) + pad(metric(row.gauc[t].mean), taskWidth - cell, left: true)
            }
            line += "  " + pad(metric(row.meanAUC.mean), cell, left: true) + pad(metric(row.meanGAUC.mean), cell, left: true)
            if row.method == baseline {
                line += "  " + pad("–", cell, left: true) + pad("–", cell, left: true)
            } else {
                line += "  " + pad(percent(row.relativeImprovementAUC), cell, left: true)
                    + pad(percent(row.relativeImprovementGAUC), cell, left: true)
            }
            lines.append(line.trimmingTrailingSpaces())
        }
        lines.append("")
        lines.append(pad("", methodWidth, left: true) + "mean AUC         mean GAUC        paired Δ mean AUC vs \(baseline), per seed (%)")
        for row in rows {
            var line = pad(row.method, methodWidth, left: true)
            line += pad(metric(row.meanAUC.mean) + " ± " + spread(row.meanAUC.standardDeviation), 17, left: true)
            line += pad(metric(row.meanGAUC.mean) + " ± " + spread(row.meanGAUC.standardDeviation), 17, left: true)
            if row.method != baseline {
                line += row.pairedImprovementAUC.values.map { percent($0) }.joined(separator: " ")
            }
            lines.append(line.trimmingTrailingSpaces())
        }
        var notes = ["\(split.rawValue) split; means over \(seeds.count) seed\(seeds.count == 1 ? "" : "s") "
                     + "(\(seeds.map(String.init).joined(separator: ", "))); ± is the sample standard deviation over seeds; "
                     + "the percentage after a task is its positive rate on this split."]
        if !uncountedAUCTasks.isEmpty {
            notes.append("Not in the AUC means (one class only on this split): \(uncountedAUCTasks.joined(separator: ", ")).")
        }
        if !uncountedGAUCTasks.isEmpty {
            notes.append("Not in the GAUC means (no user with both classes): \(uncountedGAUCTasks.joined(separator: ", ")).")
        }
        for failure in failures { notes.append("Stopped (metrics NaN): \(failure)") }
        return (lines + [""] + notes).joined(separator: "\n")
    }

    // MARK: JSON

    /// The table as one JSON object (NaN as `null`):
    ///
    ///     {"split": "test", "baseline": "Fixed", "seeds": [1, 2, 3],
    ///      "tasks": [{"name": "task_1", "positive_rate": 0.3, "in_auc_mean": true, "in_gauc_mean": true}, …],
    ///      "methods": [{"name": "Fixed",
    ///                   "auc": {"task_1": {"mean": …, "sd": …, "per_seed": […]}, …}, "gauc": {…},
    ///                   "mean_auc": {…}, "mean_gauc": {…},
    ///                   "relative_improvement_auc_percent": 0, "relative_improvement_gauc_percent": 0,
    ///                   "paired_improvement_auc_percent": {…}, "paired_improvement_gauc_percent": {…},
    ///                   "wall_seconds": …}, …]}
    ///
    /// `extra` members (pre-encoded JSON values) are appended at the top level.
    public func json(extra: [(String, String)] = []) -> String {
        func statistic(_ s: Statistic) -> String {
            var o = JSONLine()
            o.add("mean", s.mean)
            o.add("sd", s.standardDeviation)
            o.add("per_seed", s.values)
            return o.json
        }
        func perTask(_ values: [Statistic]) -> String {
            "{" + zip(taskNames, values).map { JSONLine.quote($0) + ":" + statistic($1) }.joined(separator: ",") + "}"
        }
        var line = JSONLine()
        line.add("split", split.rawValue)
        line.add("baseline", baseline)
        line.addRaw("seeds", "[" + seeds.map(String.init).joined(separator: ",") + "]")
        line.addRaw("tasks", "[" + taskNames.indices.map { t in
            var o = JSONLine()
            o.add("name", taskNames[t])
            o.add("positive_rate", positiveRates[t])
            o.add("in_auc_mean", countedAUCTasks.contains(t))
            o.add("in_gauc_mean", countedGAUCTasks.contains(t))
            return o.json
        }.joined(separator: ",") + "]")
        line.addRaw("methods", "[" + rows.map { row in
            var o = JSONLine()
            o.add("name", row.method)
            o.addRaw("auc", perTask(row.auc))
            o.addRaw("gauc", perTask(row.gauc))
            o.addRaw("mean_auc", statistic(row.meanAUC))
            o.addRaw("mean_gauc", statistic(row.meanGAUC))
            o.add("relative_improvement_auc_percent", row.relativeImprovementAUC)
            o.add("relative_improvement_gauc_percent", row.relativeImprovementGAUC)
            o.addRaw("paired_improvement_auc_percent", statistic(row.pairedImprovementAUC))
            o.addRaw("paired_improvement_gauc_percent", statistic(row.pairedImprovementGAUC))
            o.add("wall_seconds", (row.wallSeconds * 10).rounded() / 10)
            return o.json
        }.joined(separator: ",") + "]")
        line.add("failures", failures)
        for (key, value) in extra { line.addRaw(key, value) }
        return line.json
    }
}

private extension String {
    func trimmingTrailingSpaces() -> String {
        var s = self
        while s.last == " " { s.removeLast() }
        return s
    }
}
