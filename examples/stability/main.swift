// The Clippy paper's stability experiment (Tang et al., KDD 2023, Table 2
// and §5): does Clippy widen the range of stable learning rates?
//
// Per setting — (a) a large model on a drifting synthetic click log,
// (b) census-income trained day by day on row-order chunks, BatchNorm off —
// the methods adagrad, adagrad_gc, adagrad_agc, clippy (project preset) and
// clippy_paper are trained at learning rates base × 1, √2, 2, …, 16 for
// several seeds. Every batch has the configured size (the remainder of a
// day is dropped and counted). A run has diverged when its TRAINING loss
// becomes non-finite, rises above its absolute limit, or stays above
// k × its moving average for n steps; spikes that recover are counted as
// micro-divergences. Valid AUC is reported, not used to decide.
//
//     swift run -c release stability            # quick sweep (fewer seeds and multipliers)
//     swift run -c release stability --full     # the whole grid (1..16 by √2, 5 seeds)
//     swift run -c release stability --ranks 2  # the trials shared out over 2 processes (mpirun)
//
// The settings are in stability.json beside this file (StabilityExperiment).
// Output: one line per run, per setting the table and the paper's claims
// (reproduced or not), the wall time; files stability.html and a report.html
// of one Clippy run near its edge per setting (in --out); and as the last
// line one JSON object with the results.
//
// With --ranks N (or started by `mpirun -np N`), each setting's trials are
// split round-robin over the N ranks (StabilityTrialSplit), gathered with MPI
// (RankGather.swift) and printed by rank 0 in the sequential order: the same
// tables, claims, figures and JSON line as one process.
//
// Options: `swift run -c release stability --help` (StabilityCommand.swift).
import ArgumentParser
import Foundation
import Ranker
import RankerDistributed
import RankerExperiments
import RankerReport

// The command line: StabilityCommand.swift.

func fail(_ message: String) -> Never {
    FileHandle.standardError.write(Data("stability: \(message)\n".utf8))
    exit(2)
}

// OpenBLAS's generic kernels on a CPU it does not know: run again on the fitting ones.
BLASKernelChoice.relaunchOnFittingKernels()
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
    if !arguments.full { experiment = experiment.applyingQuickSweep() }
    if let names = arguments.settings {
        for n in names where !experiment.settings.contains(where: { $0.name == n }) {
            fail("no setting \"\(n)\"; the file has " + experiment.settings.map(\.name).joined(separator: ", "))
        }
        experiment.settings = experiment.settings.filter { names.contains($0.name) }
    }
    if let names = arguments.methods {
        for n in names where !experiment.methods.contains(where: { $0.name == n }) {
            fail("no method \"\(n)\"; the file has " + experiment.methods.map(\.name).joined(separator: ", "))
        }
        experiment.methods = experiment.methods.filter { names.contains($0.name) }
    }
    if let m = arguments.multipliers { experiment.multiplierOverride = m.sorted() }
    if let s = arguments.seeds { experiment.seeds = s }
    if let lr = arguments.baseLearningRate {
        for i in experiment.settings.indices { experiment.settings[i].baseLearningRate = lr }
    }
    if let rows = arguments.rows {
        for i in experiment.settings.indices where experiment.settings[i].run.data.synthetic != nil {
            experiment.settings[i].run.data.synthetic!.rows = rows
        }
    }
    if let b = arguments.lastBatch { experiment.lastBatch = b }
    try experiment.validate()
} catch {
    fail("\(error)")
}

// MARK: ranks

// `--ranks N`: the same command line under mpirun (a configuration error was reported above, once).
if MPIRelaunch.isNeeded(ranks: arguments.ranks) {
    do {
        try MPIRelaunch.run(ranks: arguments.ranks!)
    } catch {
        fail("\(error)")
    }
}
let communicator: Communicator?
do {
    communicator = Communicator.launchedByMPIRun ? try Communicator.world() : nil
} catch {
    fail("\(error)")
}
let rank = communicator?.rank ?? 0
let rankCount = communicator?.size ?? 1
// Rank 0 prints; the others only run trials (their errors still go to standard error).
if rank != 0 { _ = freopen("/dev/null", "w", stdout) }
TrialCrashNotice.install(rank: communicator.map { _ in rank })

/// A trial that threw: one process exits; a rank stops the whole job (the
/// others may be waiting for its results) after naming the trial.
func failTrial(_ name: String, _ error: Error) -> Never {
    guard let communicator, rankCount > 1 else { fail("\(name): \(error)") }
    FileHandle.standardError.write(Data("stability: rank \(rank): trial \(name) failed: \(error)\n".utf8))
    communicator.abort(code: 2)
}

let rule = experiment.stability
let ruleText = "a run has diverged when a task's training loss is non-finite, or above \(rule.lossLimitFactor) x log 2, "
    + "or above \(rule.spikeFactor) x its moving average (decay \(rule.movingAverageDecay), judged after "
    + "\(rule.warmupSteps) steps) for \(rule.divergenceSteps) consecutive steps; a spike that recovers earlier is a "
    + "micro-divergence. Valid AUC is not used."
print("Stability experiment (Clippy paper, Table 2 and section 5)"
      + (arguments.full ? " — full sweep" : " — QUICK sweep (fewer seeds and multipliers; --full for the whole grid)"))
print("  divergence (k = \(rule.spikeFactor), n = \(rule.divergenceSteps)): \(ruleText)")
print("  batches: " + (experiment.lastBatch == .drop
      ? "all of the configured size; a day's remainder is dropped and counted"
      : "a day's remainder is trained as a smaller batch (--last-batch partial)"))
print("  multipliers " + experiment.multipliers.map { StabilityExperiment.format($0) + "x" }.joined(separator: ", ")
      + "; seeds \(experiment.seeds.map(String.init).joined(separator: ", "))")
for m in experiment.methods { print("  \(m.name): \(m.optimizer.summary)") }
if rankCount > 1 {
    print("  trials on \(rankCount) ranks (MPI), split round-robin; rank 0 prints them in the sequential order")
}
fflush(stdout)

// MARK: the runs

let runsRoot: URL
let keepRuns = arguments.runsDirectory != nil
if let d = arguments.runsDirectory {
    runsRoot = URL(fileURLWithPath: d)
} else {
    runsRoot = FileManager.default.temporaryDirectory.appendingPathComponent("ranker-stability-\(UUID().uuidString)")
}
let outDirectory = URL(fileURLWithPath: arguments.outDirectory)
do {
    try FileManager.default.createDirectory(at: outDirectory, withIntermediateDirectories: true)
} catch {
    fail("cannot create \(outDirectory.path): \(error)")
}

func describe(_ setting: StabilityExperiment.Setting, _ dataset: Dataset) -> String {
    let model = setting.run.model
    let architecture = model.model == .sharedBottom ? "Shared-Bottom \(model.bottomHidden), towers \(model.towerHidden)"
        : model.model == .mmoe ? "MMoE \(model.experts) experts \(model.expertHidden), towers \(model.towerHidden)"
        : "\(model.model.rawValue)"
    let parameters = (try? makeModel(RunData.modelConfiguration(model, for: dataset)).parameterCount) ?? 0
    let days = dataset.days.map { Set($0).count } ?? 1
    let synthetic = setting.run.data.synthetic
    let t = setting.run.training
    return "\(dataset.name): \(dataset.count) rows over \(days) days"
        + (setting.dayRows.map { " (row-order chunks of \($0))" } ?? "") + ", \(dataset.tasks.count) tasks"
        + (synthetic.map { ", positive rates \($0.positiveRates), drift \($0.driftPerDay) rad/day" } ?? "")
        + "; model \(architecture)\(model.batchNorm ? " with BatchNorm" : ", no BatchNorm"), \(parameters) parameters; "
        + "\(t.mode.rawValue) training, batch \(t.batchSize), window \(t.windowDays) day(s); "
        + "base learning rate \(setting.baseLearningRate)"
}

/// The line of one run (setting, method, multiplier, seed: outcome).
func printRun(setting: String, _ trial: StabilityTrialSplit.Trial, _ outcome: StabilityTrialOutcome) {
    var line = String(format: "%-9@ %-13@ %4@x  seed %-3d ", setting as NSString, trial.method.name as NSString,
                      StabilityExperiment.format(trial.multiplier) as NSString, Int(trial.seed))
    if outcome.diverged {
        line += "DIVERGED at step \(outcome.divergenceStep.map(String.init) ?? "?") "
            + "(\(outcome.cause?.rawValue ?? "?"): \(outcome.divergenceMessage ?? ""))"
            + String(format: ", final AUC %.4f", outcome.testAUC ?? .nan)
    } else {
        line += String(format: "stable, final AUC %.4f", outcome.testAUC ?? .nan)
    }
    if outcome.neverLearned { line += " (a task never learned)" }
    line += String(format: ", %d micro, %d steps, %d rows dropped, %.1f s", outcome.microDivergences,
                   outcome.steps, outcome.droppedRows, outcome.seconds)
    print(line)
    fflush(stdout)
}

var results: [StabilitySettingResult] = []
/// Seconds this process spent in its trials (`--ranks`: the balance of the split).
var busySeconds = 0.0
var sections: [StabilitySweepDocument.Setting] = []
var claimLines: [String] = []
var runCount = 0

for setting in experiment.settings {
    let dataset: Dataset
    do {
        dataset = try StabilityExperiment.loadData(setting)
    } catch {
        fail("setting \(setting.name): data: \(error)")
    }
    let description = describe(setting, dataset)
    print("")
    print("Setting \(setting.name): \(description)")
    fflush(stdout)
    // This rank's trials (all of them in one process), then every trial's outcome in the sequential order.
    let split = StabilityTrialSplit(methods: experiment.methods, multipliers: experiment.multipliers,
                                    seeds: experiment.seeds)
    var mine = StabilityTrialResults(indices: [], outcomes: [])
    for trial in split.trials(rank: rank, of: rankCount) {
        let configuration = experiment.configuration(setting: setting, method: trial.method,
                                                     multiplier: trial.multiplier, seed: trial.seed)
        TrialCrashNotice.starting(configuration.name)
        let directory = runsRoot.appendingPathComponent(configuration.name)
        let outcome: StabilityTrialOutcome
        do {
            outcome = try StabilityTrial.run(configuration, dataset: dataset, runDirectory: directory)
        } catch {
            failTrial(configuration.name, error)
        }
        if !keepRuns { try? FileManager.default.removeItem(at: directory) }
        mine.indices.append(trial.index)
        mine.outcomes.append(outcome)
        busySeconds += outcome.seconds
        // One process prints each run as it ends; several ranks print after the gather below.
        if rankCount == 1 { printRun(setting: setting.name, trial, outcome) }
    }
    let outcomes: [StabilityTrialOutcome]
    if let communicator, rankCount > 1 {
        do {
            let parts = try communicator.allgatherBytes(try mine.encoded()).map(StabilityTrialResults.decode)
            outcomes = try split.merge(parts)
        } catch {
            FileHandle.standardError.write(Data("stability: rank \(rank): gathering the results: \(error)\n".utf8))
            communicator.abort(code: 2)
        }
        for (trial, outcome) in zip(split.trials, outcomes) { printRun(setting: setting.name, trial, outcome) }
    } else {
        outcomes = try! split.merge([mine])
    }
    runCount += outcomes.count
    // One cell per method and multiplier: its seeds are consecutive trials.
    let cells = stride(from: 0, to: outcomes.count, by: experiment.seeds.count).map { first in
        let trial = split.trials[first]
        return StabilityCell(method: trial.method.name, multiplier: trial.multiplier,
                             learningRate: setting.baseLearningRate * trial.multiplier,
                             outcomes: Array(outcomes[first..<(first + experiment.seeds.count)]))
    }
    let result = StabilitySettingResult(name: setting.name, cells: cells, methodOrder: experiment.methods.map(\.name))
    results.append(result)
    let claims = StabilityClaims.judge(result).map { $0.line(setting: setting.name) }
    claimLines += claims

    print("")
    print("Table (\(setting.name)): diverged seeds per learning-rate multiplier; edge = largest multiplier with no "
          + "divergence at or below it; half = first multiplier where half the seeds diverged; best AUC = best mean "
          + "final test AUC over multipliers (all seeds, diverged ones in the state they stopped in; sample std); "
          + "micro = spikes that recovered; no-learn = runs where a task's valid AUC never rose above "
          + "\(StabilityTrial.learnedAUC)")
    for l in result.tableText { print(l) }
    print("")
    for c in claims { print(c) }
    fflush(stdout)

    // One Clippy run near its edge, with a report of per-tensor clipping factors beside the loss (by rank 0;
    // the other ranks go on with the next setting's trials).
    var links: [(text: String, href: String)] = []
    if rank == 0, !arguments.noEdgeReport, let clippy = experiment.methods.first(where: { $0.name == "clippy" }),
       let r = result.method("clippy") {
        // The first multiplier where a seed diverged (the edge's far side), else the edge.
        let firstDiverged = zip(r.multipliers, r.diverged).first { $0.1 > 0 }?.0
        let multiplier = firstDiverged ?? r.stabilityEdge ?? r.multipliers[0]
        var configuration = experiment.configuration(setting: setting, method: clippy, multiplier: multiplier,
                                                     seed: experiment.seeds[0])
        configuration.output.report = true
        configuration.output.telemetryEverySteps = 1
        let directory = runsRoot.appendingPathComponent(configuration.name + "-report")
        try? FileManager.default.removeItem(at: directory)
        do {
            _ = try StabilityTrial.run(configuration, dataset: dataset, runDirectory: directory)
            let name = "report-\(setting.name)-clippy-x\(StabilityExperiment.format(multiplier)).html"
            let target = outDirectory.appendingPathComponent(name)
            try? FileManager.default.removeItem(at: target)
            try FileManager.default.copyItem(at: directory.appendingPathComponent("report.html"), to: target)
            links.append(("report.html of clippy at \(StabilityExperiment.format(multiplier))x, seed "
                          + "\(experiment.seeds[0]) (per-tensor clipping factors beside the loss)", name))
            print("report of one Clippy run near its edge: \(target.path)")
        } catch {
            print("report of one Clippy run near its edge not written: \(error)")
        }
        if !keepRuns { try? FileManager.default.removeItem(at: directory) }
    }
    sections.append(StabilitySweepDocument.Setting(
        name: setting.name, description: description,
        divergedFraction: result.methods.map { m in
            .init(method: m.method, multipliers: m.multipliers,
                  values: zip(m.diverged, m.runs).map { $0.1 > 0 ? Double($0.0) / Double($0.1) : nil })
        },
        meanAUC: result.methods.map { .init(method: $0.method, multipliers: $0.multipliers, values: $0.aucMeans) },
        tableHeader: result.tableRows.header, tableRows: result.tableRows.rows, claims: claims, links: links))
}

if !keepRuns { try? FileManager.default.removeItem(at: runsRoot) }

let wallSeconds = Date().timeIntervalSince(wallStart)
let document = StabilitySweepDocument(
    title: "Stability sweep: does Clippy widen the range of stable learning rates?",
    notes: ["Divergence rule (k = \(rule.spikeFactor), n = \(rule.divergenceSteps)): \(ruleText)",
            (arguments.full ? "Full sweep" : "Quick sweep") + ": multipliers "
                + experiment.multipliers.map { StabilityExperiment.format($0) + "x" }.joined(separator: ", ")
                + "; seeds " + experiment.seeds.map(String.init).joined(separator: ", ") + "; "
                + (experiment.lastBatch == .drop ? "every batch full (a day's remainder dropped)."
                   : "a day's remainder trained as a small batch."),
            String(format: "%d runs, wall time %.0f s.", runCount, wallSeconds)],
    settings: sections)
let htmlURL = outDirectory.appendingPathComponent("stability.html")
if rank == 0 {
    do {
        try Data(document.render().utf8).write(to: htmlURL)
    } catch {
        fail("cannot write \(htmlURL.path): \(error)")
    }
}
// How evenly the round-robin split shared the work: every rank's seconds in its trials.
var busyLine: String?
if let communicator {
    do {
        if rankCount > 1 {
            let busy = try communicator.allgather([busySeconds.bitPattern]).map(Double.init(bitPattern:))
            busyLine = "seconds in trials per rank: " + busy.map { String(format: "%.1f", $0) }.joined(separator: ", ")
        }
        try communicator.finalize()
    } catch {
        FileHandle.standardError.write(Data("stability: rank \(rank): \(error)\n".utf8))
        communicator.abort(code: 2)
    }
}

print("")
print("Claims (Clippy paper), per setting:")
for c in claimLines { print("  " + c) }
print("figures: \(htmlURL.path)")
if keepRuns { print("run directories (telemetry.jsonl, report.html): \(runsRoot.path)") }
print(String(format: "wall time %.1f s (%d runs", wallSeconds, runCount)
      + (rankCount > 1 ? " on \(rankCount) ranks)" : ")"))
if let busyLine { print(busyLine) }
do {
    print(try StabilitySweepJSON.line(settings: results, full: arguments.full))
} catch {
    fail("JSON: \(error)")
}
