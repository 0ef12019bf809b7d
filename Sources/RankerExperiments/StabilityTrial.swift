import Foundation
import Ranker
import RankerReport

/// How one training run ended, judged the way the Clippy paper's stability
/// experiment counts runs (the `stability` example).
///
/// A run **diverged** when the trainer's stability policy stopped it
/// (`TrainingSummary.stopReason == .unstable`). Under the `stop` policy that
/// happens at the first full divergence the `StabilityMonitor` reports — a
/// task loss above `spike_factor ×` its moving average for `divergence_steps`
/// steps, or a valid AUC falling to `divergence_auc` after having been above
/// it — or at a non-finite loss or gradient (the loss overflowed: the same
/// failure, only faster). `cause` says which.
///
/// A run that was not stopped **never learned** when some task's valid AUC
/// stayed at or below `divergence_auc` at every evaluation. The monitor does
/// not call this a divergence (its AUC test needs the AUC to have been above
/// the threshold first), but with a learning rate that trains well at lower
/// multipliers it is the signature of the fastest divergence of all: the loss
/// explodes within the monitor's warm-up steps, every ReLU dies, and the model
/// predicts a constant (AUC 0.5) for the rest of the run. A run **failed**
/// when it diverged or never learned.
///
/// Micro-divergences are the monitor's `spike` events (a spike that recovers
/// is counted, a spike that turns into a divergence too).
public struct StabilityTrialOutcome: Codable, Equatable, Sendable {
    /// What stopped a diverged run.
    public enum Cause: String, Codable, Sendable {
        /// The loss stayed above `spike_factor ×` its moving average for `divergence_steps` steps.
        case lossDivergence = "loss_divergence"
        /// A valid AUC fell to `divergence_auc` after having been above it.
        case aucDivergence = "auc_divergence"
        /// A non-finite loss or gradient.
        case nonFinite = "non_finite"
    }

    /// Stopped by the stability policy (a full divergence or a non-finite value).
    public var diverged: Bool
    /// Not stopped, but some task's valid AUC never rose above `divergence_auc`.
    public var neverLearned: Bool
    /// Diverged or never learned.
    public var failed: Bool { diverged || neverLearned }
    /// Why a diverged run stopped (`nil` when it did not).
    public var cause: Cause?
    /// The step of the divergence (or non-finite value) that stopped the run.
    public var divergenceStep: Int?
    /// The monitor's message for that event.
    public var divergenceMessage: String?
    /// Optimizer steps taken.
    public var steps: Int
    /// Micro-divergence events (`spike`).
    public var spikes: Int
    /// Mean over tasks of the AUC on the test split (in sequential mode the
    /// last day) of the final state; `nil` when the data has no test rows or
    /// no binary task. Also set for diverged runs (usually near 0.5).
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
                steps: Int, spikes: Int, testAUC: Double?, validAUCs: [Double], bestTaskAUCs: [Double], seconds: Double) {
        self.diverged = diverged
        self.neverLearned = neverLearned
        self.cause = cause
        self.divergenceStep = divergenceStep
        self.divergenceMessage = divergenceMessage
        self.steps = steps
        self.spikes = spikes
        self.testAUC = testAUC
        self.validAUCs = validAUCs
        self.bestTaskAUCs = bestTaskAUCs
        self.seconds = seconds
    }
}

/// Runs one configuration with the `Trainer` and classifies its outcome
/// (`StabilityTrialOutcome`): the building block of the stability experiment.
public enum StabilityTrial {
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
                           divergenceAUC: configuration.stability.divergenceAUC, seconds: seconds)
    }

    /// The outcome of a finished run from its summary and its `telemetry.jsonl`
    /// (the events that stopped it, the valid AUC of each evaluation).
    static func outcome(summary: TrainingSummary, telemetryURL: URL, taskNames: [String], divergenceAUC: Double,
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
            if e.kind == "nan" {
                cause = .nonFinite
            } else {
                // The monitor's AUC judgement is the one with a valid AUC as its value.
                cause = (e.message ?? "").hasPrefix("valid AUC") ? .aucDivergence : .lossDivergence
            }
        }
        // A task without a finite AUC (regression, no positives) is not judged.
        let neverLearned = !diverged && best.contains { $0.isFinite && $0 <= divergenceAUC }
        let aucs = summary.test?.tasks.compactMap(\.auc) ?? []
        return StabilityTrialOutcome(
            diverged: diverged, neverLearned: neverLearned, cause: cause,
            divergenceStep: diverged ? stopping?.step : nil,
            divergenceMessage: diverged ? stopping?.message : nil,
            steps: summary.steps, spikes: summary.events[StabilityEvent.Kind.spike.rawValue] ?? 0,
            testAUC: aucs.isEmpty ? nil : aucs.reduce(0, +) / Double(aucs.count),
            validAUCs: validAUCs, bestTaskAUCs: best, seconds: seconds)
    }
}

/// The outcomes of one cell of the stability table (one method at one
/// learning rate, several seeds), summarised.
public struct StabilityCellSummary: Codable, Equatable, Sendable {
    public var runs: Int
    /// Runs stopped by the stability policy.
    public var diverged: Int
    /// Runs not stopped in which some task never learned (see `StabilityTrialOutcome`).
    public var neverLearned: Int
    /// Spike events over all runs of the cell.
    public var spikes: Int
    /// Runs that diverged or never learned.
    public var failed: Int { diverged + neverLearned }
    /// Runs that neither diverged nor failed to learn.
    public var survivors: Int { runs - failed }
    /// Mean and (sample, `n − 1`) standard deviation of the test AUC over the
    /// surviving runs; `nil` without survivors; the deviation is 0 for one.
    public var meanAUC: Double?
    public var standardDeviationAUC: Double?

    public init(_ outcomes: [StabilityTrialOutcome]) {
        runs = outcomes.count
        diverged = outcomes.filter(\.diverged).count
        neverLearned = outcomes.filter(\.neverLearned).count
        spikes = outcomes.reduce(0) { $0 + $1.spikes }
        let aucs = outcomes.filter { !$0.failed }.compactMap(\.testAUC)
        if aucs.isEmpty {
            meanAUC = nil
            standardDeviationAUC = nil
        } else {
            let mean = aucs.reduce(0, +) / Double(aucs.count)
            meanAUC = mean
            standardDeviationAUC = aucs.count < 2 ? 0
                : (aucs.reduce(0) { $0 + ($1 - mean) * ($1 - mean) } / Double(aucs.count - 1)).squareRoot()
        }
    }
}
