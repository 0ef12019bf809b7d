import Foundation
import Ranker
import RankerReport

/// How one training run ended, judged from its **training loss** the way
/// the Clippy paper and production monitors judge runs (the `stability`
/// example). Valid AUC is reported, never used to decide.
///
/// A run **diverged** when the trainer's stability policy (`stop`) ended it:
/// * `nonFinite`: a task's training loss (or a gradient) became non-finite;
/// * `lossDivergence`: a task's training loss stayed above `k ×` its
///   exponential moving average for `n` consecutive steps
///   (`spike_factor`, `divergence_steps`; the average is frozen during the
///   spike and judged after `warmup_steps`);
/// * `lossLimit`: a binary task's training loss rose above
///   `loss_limit_factor × log 2` (an explosion in the first steps, before
///   the moving average has history; predicting the base rate costs at most
///   `log 2`).
/// (`aucDivergence` is the monitor's valid-AUC rule, off in the experiment:
/// `divergence_auc: 0`.)
///
/// **Micro-divergences** are spikes that recover: the monitor's `recovered`
/// events (a loss back below `k ×` its average before `n` steps).
///
/// A run **never learned** (reported, not a divergence) when some task's
/// valid AUC stayed at or below `learnedAUC` at every evaluation.
public struct StabilityTrialOutcome: Codable, Equatable, Sendable {
    /// What stopped a diverged run.
    public enum Cause: String, Codable, Sendable {
        /// The loss stayed above `spike_factor ×` its moving average for `divergence_steps` steps.
        case lossDivergence = "loss_divergence"
        /// The loss rose above its absolute limit (`loss_limit_factor × log 2`).
        case lossLimit = "loss_limit"
        /// A valid AUC fell to `divergence_auc` after having been above it (off in the experiment).
        case aucDivergence = "auc_divergence"
        /// A non-finite loss or gradient.
        case nonFinite = "non_finite"
    }

    /// Stopped by the stability policy (a divergence or a non-finite value).
    public var diverged: Bool
    /// Some task's valid AUC never rose above `learnedAUC` (reported only).
    public var neverLearned: Bool
    /// Why a diverged run stopped (`nil` when it did not).
    public var cause: Cause?
    /// The step of the divergence (or non-finite value) that stopped the run.
    public var divergenceStep: Int?
    /// The monitor's message for that event.
    public var divergenceMessage: String?
    /// Optimizer steps taken.
    public var steps: Int
    /// Spikes that started (`spike` events; a divergence starts as one).
    public var spikes: Int
    /// Micro-divergences: spikes that recovered (`recovered` events).
    public var microDivergences: Int
    /// Rows left out as pass remainders (`last_batch: drop`).
    public var droppedRows: Int
    /// Mean over tasks of the AUC on the test split (in sequential mode the
    /// last day) of the final state; `nil` when the data has no test rows or
    /// no binary task. Also set for diverged runs (the state they stopped in).
    public var testAUC: Double?
    /// Mean over tasks of the valid AUC of each evaluation, in order (in
    /// sequential mode one per trained day).
    public var validAUCs: [Double]
    /// Per task, the largest valid AUC over the evaluations (NaN when a task
    /// had no AUC), in the model's task order.
    public var bestTaskAUCs: [Double]
    /// Wall time of the run (data excluded when it was passed in).
    public var seconds: Double

    public init(diverged: Bool, neverLearned: Bool, cause: Cause?, divergenceStep: Int?, divergenceMessage: String?,
                steps: Int, spikes: Int, microDivergences: Int = 0, droppedRows: Int = 0, testAUC: Double?,
                validAUCs: [Double], bestTaskAUCs: [Double], seconds: Double) {
        self.diverged = diverged
        self.neverLearned = neverLearned
        self.cause = cause
        self.divergenceStep = divergenceStep
        self.divergenceMessage = divergenceMessage
        self.steps = steps
        self.spikes = spikes
        self.microDivergences = microDivergences
        self.droppedRows = droppedRows
        self.testAUC = testAUC
        self.validAUCs = validAUCs
        self.bestTaskAUCs = bestTaskAUCs
        self.seconds = seconds
    }
}

/// Runs one configuration with the `Trainer` and classifies its outcome
/// (`StabilityTrialOutcome`): the building block of the stability experiment.
public enum StabilityTrial {
    /// The valid AUC a task must rise above once for the run to have learned.
    public static let learnedAUC = 0.52

    /// Trains `configuration` on `dataset` in `runDirectory` (which must not
    /// hold a run yet) and judges the run from its summary and telemetry.
    ///
    /// The configuration's stability policy should be `stop`, so that a
    /// diverged run ends and is counted once; with `skip` or `rollback` a run
    /// is counted as diverged only when the policy finally gives up.
    ///
    /// - Throws: configuration, data and I/O errors of the trainer.
    public static func run(_ configuration: RunConfiguration, dataset: Dataset? = nil,
                           runDirectory: URL) throws -> StabilityTrialOutcome {
        let begin = MonotonicClock.now
        let trainer = try Trainer(configuration: configuration, dataset: dataset, runDirectory: runDirectory)
        let summary = try trainer.run()
        TrainingReport.writeAfterRun(summary, output: configuration.output)
        let seconds = MonotonicClock.seconds(since: begin)
        return try outcome(summary: summary, telemetryURL: trainer.telemetryURL,
                           taskNames: trainer.model.outputNames,
                           learnedAUC: learnedAUC, seconds: seconds)
    }

    /// The outcome of a finished run from its summary and its `telemetry.jsonl`
    /// (the events that stopped it, the valid AUC of each evaluation).
    static func outcome(summary: TrainingSummary, telemetryURL: URL, taskNames: [String], learnedAUC: Double,
                        seconds: Double) throws -> StabilityTrialOutcome {
        var validAUCs: [Double] = []
        var best = [Double](repeating: .nan, count: taskNames.count)
        var stopping: TelemetryRecord.Event?
        try TelemetryLogReader(url: telemetryURL).forEachRecord { record, _ in
            switch record {
            case .evaluation(let e) where e.split == "valid":
                validAUCs.append(e.meanAUC ?? .nan)
                for (t, name) in taskNames.enumerated() {
                    if let auc = e.metrics[name]?["auc"], auc.isFinite, !(auc <= best[t]) { best[t] = auc }
                }
            case .event(let e) where stopping == nil && (e.kind == "divergence" || e.kind == "nan"):
                stopping = e
            default:
                break
            }
        }
        let diverged = summary.stopReason == .unstable
        var cause: StabilityTrialOutcome.Cause?
        if diverged, let e = stopping {
            let message = e.message ?? ""
            if e.kind == "nan" {
                cause = .nonFinite
            } else if message.hasPrefix("valid AUC") {  // the monitor's AUC rule has the AUC as its value
                cause = .aucDivergence
            } else if message.contains("absolute limit") {
                cause = .lossLimit
            } else {
                cause = .lossDivergence
            }
        }
        // A task without a finite AUC (regression, no positives) is not judged.
        let neverLearned = best.contains { $0.isFinite && $0 <= learnedAUC }
        let aucs = summary.test?.tasks.compactMap(\.auc) ?? []
        return StabilityTrialOutcome(
            diverged: diverged, neverLearned: neverLearned, cause: cause,
            divergenceStep: diverged ? stopping?.step : nil,
            divergenceMessage: diverged ? stopping?.message : nil,
            steps: summary.steps, spikes: summary.events[StabilityEvent.Kind.spike.rawValue] ?? 0,
            microDivergences: summary.events[StabilityEvent.Kind.recovered.rawValue] ?? 0,
            droppedRows: summary.droppedRows,
            testAUC: aucs.isEmpty ? nil : aucs.reduce(0, +) / Double(aucs.count),
            validAUCs: validAUCs, bestTaskAUCs: best, seconds: seconds)
    }
}
