// The Clippy paper's stability experiment in small (Tang et al., KDD 2023, §5):
// a large multitask model trained day by day on drifting synthetic click data,
// with Adagrad, Adagrad + gradient-norm clipping (GC), Adagrad + adaptive
// gradient clipping (AGC) and Clippy Adagrad, each at learning rates
// 1x, 2x, 4x, 8x a base rate, for several seeds. A run that fully diverges
// (the stability monitor's definition, `stop` policy) ends and is counted.
//
//     swift run -c release stability            # quick sweep (a few minutes)
//     swift run -c release stability --full     # more seeds, more data
//
// The settings are in stability.json beside this file (StabilityExperiment).
// Output: one line per run, the table, the wall time, and as the last line one
// JSON object with the results.
//
// Options: `swift run -c release stability --help`.
import ArgumentParser
import Foundation
import Ranker
import RankerExperiments

// MARK: arguments

/// A comma-separated list of numbers (`1,2,4`).
func commaSeparated<T: LosslessStringConvertible>(_ text: String) throws -> [T] {
    let parsed = text.split(separator: ",").map { T(String($0)) }
    guard !parsed.isEmpty, parsed.allSatisfy({ $0 != nil }) else { throw ValidationError("cannot read \"\(text)\"") }
    return parsed.map { $0! }
}

struct StabilityCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "stability",
        abstract: "The Clippy paper's stability experiment in small: optimizers x learning rates x seeds.",
        discussion: "The settings are in examples/stability/stability.json (StabilityExperiment). Prints one line "
            + "per run, the table, the wall time, and as the last line one JSON object with the results.")

    @Flag(help: "The longer sweep (the file's \"full\" section: more seeds, more days).")
    var full = false

    @Option(name: .customLong("config"), help: ArgumentHelp("Another experiment file.", valueName: "path"))
    var configPath: String?

    @Option(name: .customLong("runs"),
            help: ArgumentHelp("Keep every run's directory (telemetry, report.html) under this directory.", valueName: "dir"))
    var runsDirectory: String?

    @Option(help: ArgumentHelp("Only these methods, comma-separated (names as in the file).", valueName: "a,b"),
            transform: { $0.split(separator: ",").map(String.init) })
    var methods: [String]?

    @Option(help: ArgumentHelp("Only these learning-rate multipliers, comma-separated.", valueName: "4,8"),
            transform: commaSeparated)
    var multipliers: [Double]?

    @Option(help: ArgumentHelp("These seeds, comma-separated.", valueName: "1,2"), transform: commaSeparated)
    var seeds: [UInt64]?

    @Option(name: .customLong("base-lr"), help: ArgumentHelp("Another base learning rate.", valueName: "x"))
    var baseLearningRate: Double?

    @Option(help: ArgumentHelp("Another number of synthetic rows.", valueName: "n"))
    var rows: Int?
}

func fail(_ message: String) -> Never {
    FileHandle.standardError.write(Data("stability: \(message)\n".utf8))
    exit(2)
}

let arguments = StabilityCommand.parseOrExit()
let wallStart = Date()
// The data beside the repository, found from this executable as its siblings do.
if let executable = Bundle.main.executablePath { DataLocation.startingPoints = [executable] }

// MARK: the experiment

/// stability.json beside this file (the source tree is there for `swift run`),
/// else in the current directory's examples/stability/.
func defaultConfigPath() -> String {
    let beside = URL(fileURLWithPath: #filePath).deletingLastPathComponent().appendingPathComponent("stability.json").path
    return FileManager.default.fileExists(atPath: beside) ? beside : "examples/stability/stability.json"
}

var experiment: StabilityExperiment
do {
    experiment = try StabilityExperiment.load(path: arguments.configPath ?? defaultConfigPath())
    if arguments.full { experiment = experiment.applyingFullSweep() }
    if let names = arguments.methods {
        for n in names where !experiment.methods.contains(where: { $0.name == n }) {
            fail("no method \"\(n)\"; the file has " + experiment.methods.map(\.name).joined(separator: ", "))
        }
        experiment.methods = experiment.methods.filter { names.contains($0.name) }
    }
    if let m = arguments.multipliers { experiment.multipliers = m }
    if let s = arguments.seeds { experiment.seeds = s }
    if let lr = arguments.baseLearningRate { experiment.baseLearningRate = lr }
    if let rows = arguments.rows { experiment.run.data.synthetic?.rows = rows }
    try experiment.validate()
} catch {
    fail("\(error)")
}

let dataset: Dataset
do {
    dataset = try RunData.load(experiment.run.data)
} catch {
    fail("data: \(error)")
}
let modelConfiguration: ModelConfiguration
do {
    modelConfiguration = try RunData.modelConfiguration(experiment.run.model, for: dataset)
} catch {
    fail("model: \(error)")
}
let model = experiment.run.model
let architecture = model.model == .sharedBottom ? "Shared-Bottom \(model.bottomHidden), towers \(model.towerHidden)"
    : model.model == .mmoe ? "MMoE \(model.experts) experts \(model.expertHidden), towers \(model.towerHidden)"
    : "\(model.model.rawValue)"
let parameterCount = (try? makeModel(modelConfiguration).parameterCount) ?? 0
let days = dataset.days.map { Set($0).count } ?? 1
let synthetic = experiment.run.data.synthetic
print("Stability experiment (Clippy paper, in small)" + (arguments.full ? " — full sweep" : ""))
print("  data:  \(dataset.count) rows over \(days) days, \(dataset.tasks.count) tasks"
      + (synthetic.map { ", positive rates \($0.positiveRates), drift \($0.driftPerDay) rad/day" } ?? ""))
print("  model: \(architecture), \(parameterCount) parameters")
print("  training: \(experiment.run.training.mode.rawValue), batch \(experiment.run.training.batchSize), "
      + "window \(experiment.run.training.windowDays) day(s); stability policy \(experiment.run.stability.policy.rawValue), "
      + "spike > \(experiment.run.stability.spikeFactor)x moving average, divergence after "
      + "\(experiment.run.stability.divergenceSteps) spiking steps or valid AUC <= \(experiment.run.stability.divergenceAUC)")
print("  base learning rate \(experiment.baseLearningRate); multipliers "
      + experiment.multipliers.map { StabilityExperiment.format($0) + "x" }.joined(separator: ", ")
      + "; seeds \(experiment.seeds.map(String.init).joined(separator: ", "))")
for m in experiment.methods { print("  \(m.name): \(m.optimizer.summary)") }
print("")

// MARK: the runs

let runsRoot: URL
let keepRuns = arguments.runsDirectory != nil
if let d = arguments.runsDirectory {
    runsRoot = URL(fileURLWithPath: d)
} else {
    runsRoot = FileManager.default.temporaryDirectory.appendingPathComponent("ranker-stability-\(UUID().uuidString)")
}

struct Cell {
    var method: String
    var multiplier: Double
    var learningRate: Double
    var outcomes: [StabilityTrialOutcome]
}

var cells: [Cell] = []
for method in experiment.methods {
    for multiplier in experiment.multipliers {
        var cell = Cell(method: method.name, multiplier: multiplier,
                        learningRate: experiment.baseLearningRate * multiplier, outcomes: [])
        for seed in experiment.seeds {
            let configuration = experiment.configuration(method: method, multiplier: multiplier, seed: seed)
            let directory = runsRoot.appendingPathComponent(configuration.name)
            let outcome: StabilityTrialOutcome
            do {
                outcome = try StabilityTrial.run(configuration, dataset: dataset, runDirectory: directory)
            } catch {
                fail("\(configuration.name): \(error)")
            }
            if !keepRuns { try? FileManager.default.removeItem(at: directory) }
            cell.outcomes.append(outcome)
            var line = String(format: "%-12@ %3@x  seed %-3d ", method.name as NSString,
                              StabilityExperiment.format(multiplier) as NSString, Int(seed))
            if outcome.diverged {
                line += "DIVERGED at step \(outcome.divergenceStep.map(String.init) ?? "?") "
                    + "(\(outcome.cause?.rawValue ?? "?"): \(outcome.divergenceMessage ?? ""))"
            } else if outcome.neverLearned {
                line += "NEVER LEARNED (best valid AUC per task "
                    + outcome.bestTaskAUCs.map { String(format: "%.3f", $0) }.joined(separator: ", ") + ")"
            } else {
                line += String(format: "survived, last-day AUC %.4f", outcome.testAUC ?? .nan)
            }
            line += String(format: ", %d spikes, %d steps, %.1f s", outcome.spikes, outcome.steps, outcome.seconds)
            print(line)
            fflush(stdout)
        }
        cells.append(cell)
    }
}

if !keepRuns { try? FileManager.default.removeItem(at: runsRoot) }

// MARK: the table

func auc(_ s: StabilityCellSummary) -> String {
    guard let mean = s.meanAUC, let sd = s.standardDeviationAUC else { return "—" }
    return String(format: "%.4f ± %.4f", mean, sd)
}

print("")
let header = ["method", "lr", "diverged", "never learned", "spikes", "last-day AUC (survivors)"]
var rows: [[String]] = []
for cell in cells {
    let s = StabilityCellSummary(cell.outcomes)
    rows.append(["\(cell.method) \(StabilityExperiment.format(cell.multiplier))x",
                 String(format: "%g", cell.learningRate), "\(s.diverged)/\(s.runs)", "\(s.neverLearned)/\(s.runs)",
                 "\(s.spikes)", auc(s)])
}
let widths = header.indices.map { c in ([header[c]] + rows.map { $0[c] }).map(\.count).max()! }
func tableLine(_ r: [String]) -> String {
    r.indices.map { c in c == 0 ? r[c].padding(toLength: widths[c], withPad: " ", startingAt: 0)
                              : String(repeating: " ", count: widths[c] - r[c].count) + r[c] }
        .joined(separator: "  ")
}
print(tableLine(header))
print(String(repeating: "-", count: widths.reduce(0, +) + 2 * (widths.count - 1)))
for (i, r) in rows.enumerated() {
    if i > 0 && cells[i].method != cells[i - 1].method { print("") }
    print(tableLine(r))
}

// The point of the experiment: learning rates at which Adagrad diverged and Clippy did not.
func summary(_ method: String, _ multiplier: Double) -> StabilityCellSummary? {
    cells.first { $0.method == method && $0.multiplier == multiplier }.map { StabilityCellSummary($0.outcomes) }
}
let adagradName = experiment.methods.first {
    $0.optimizer.configuration(as: AdagradConfiguration.self).map { ($0.clipping ?? .none) == .none } ?? false
}?.name
let clippyName = experiment.methods.first { $0.optimizer.configuration(as: ClippyAdagradConfiguration.self) != nil }?.name
var clippySurvivesWhereAdagradDiverges: [Double] = []
if let a = adagradName, let c = clippyName {
    for m in experiment.multipliers {
        if let sa = summary(a, m), let sc = summary(c, m), sa.failed > 0, sc.failed == 0 {
            clippySurvivesWhereAdagradDiverges.append(m)
        }
    }
}
let wallSeconds = Date().timeIntervalSince(wallStart)
print("")
if let a = adagradName, let c = clippyName {
    print(clippySurvivesWhereAdagradDiverges.isEmpty
          ? "No learning rate here at which \(a) failed and \(c) survived every seed."
          : "\(c) survived every seed at " + clippySurvivesWhereAdagradDiverges.map { StabilityExperiment.format($0) + "x" }
              .joined(separator: ", ") + " the base rate, where \(a) diverged or never learned.")
}
print(String(format: "wall time %.1f s (%d runs)", wallSeconds, cells.reduce(0) { $0 + $1.outcomes.count }))
if keepRuns { print("run directories (telemetry.jsonl, report.html): \(runsRoot.path)") }

// MARK: the JSON line

func jsonNumber(_ v: Double?) -> Any { v.flatMap { $0.isFinite ? $0 : nil } ?? NSNull() }
let json: [String: Any] = [
    "example": "stability",
    "full": arguments.full,
    "wall_seconds": (wallSeconds * 10).rounded() / 10,
    "base_learning_rate": experiment.baseLearningRate,
    "multipliers": experiment.multipliers,
    "seeds": experiment.seeds.map { Int($0) },
    "rows": dataset.count,
    "days": days,
    "parameters": parameterCount,
    "clippy_survives_where_adagrad_diverges": clippySurvivesWhereAdagradDiverges,
    "cells": cells.map { cell -> [String: Any] in
        let s = StabilityCellSummary(cell.outcomes)
        return ["method": cell.method, "multiplier": cell.multiplier, "learning_rate": cell.learningRate,
                "runs": s.runs, "diverged": s.diverged, "never_learned": s.neverLearned, "spikes": s.spikes,
                "auc_mean": jsonNumber(s.meanAUC), "auc_std": jsonNumber(s.standardDeviationAUC),
                "divergence_steps": cell.outcomes.map { jsonNumber($0.divergenceStep.map(Double.init)) },
                "outcomes": cell.outcomes.map { $0.cause?.rawValue ?? ($0.neverLearned ? "never_learned" : "survived") }]
    },
]
let data = try JSONSerialization.data(withJSONObject: json, options: [.sortedKeys])
print(String(decoding: data, as: UTF8.self))
