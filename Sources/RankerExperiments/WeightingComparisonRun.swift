import Foundation
import Ranker
import RankerReport

/// The split whose metrics a comparison reports.
public enum ComparisonSplit: String, Codable, Sendable, CaseIterable {
    /// The test split.
    case test
    /// The valid split (optimistic: the same split chose the kept state; for
    /// data whose test split lacks positives, like the KuaiRand sample).
    case valid
}

/// One cell of a `WeightingComparison`: one method trained with one seed by
/// `Trainer`, and its per-task metrics on the reported split.
public struct WeightingComparisonRun: Codable, Equatable, Sendable {
    /// One task's metrics (ALGORITHMS.md 2).
    public struct TaskScore: Codable, Equatable, Sendable {
        public var name: String
        /// Examples and positives of the evaluated split.
        public var examples: Int
        public var positives: Int
        /// NaN when the split lacks a class or a prediction is not finite.
        public var auc: Double
        /// NaN when no user has both classes, when the data has no users, or
        /// when a prediction is not finite.
        public var gauc: Double
        /// Users with both classes (0 without users).
        public var gaucUsers: Int

        public init(name: String, examples: Int, positives: Int, auc: Double, gauc: Double, gaucUsers: Int) {
            self.name = name
            self.examples = examples
            self.positives = positives
            self.auc = auc
            self.gauc = gauc
            self.gaucUsers = gaucUsers
        }

        /// AUC is defined by the labels: both classes are present.
        public var hasBothClasses: Bool { positives > 0 && positives < examples }
        /// GAUC is defined by the labels: some user has both classes.
        public var hasGAUCUsers: Bool { gaucUsers > 0 }
    }

    public var method: String
    public var seed: UInt64
    public var split: ComparisonSplit
    public var tasks: [TaskScore]
    public var steps: Int
    public var bestStep: Int?
    public var stopReason: StopReason
    /// Why the stability policy stopped the run (its metrics are then NaN).
    public var failure: String?
    /// Wall-clock seconds of the run (training, evaluations, checkpoints).
    public var wallSeconds: Double
    public var trainSamplesPerSecond: Double
    /// The run directory (telemetry, checkpoints, best weights).
    public var runDirectory: String

    public init(method: String, seed: UInt64, split: ComparisonSplit, tasks: [TaskScore], steps: Int = 0,
                bestStep: Int? = nil, stopReason: StopReason = .completed, failure: String? = nil, wallSeconds: Double = 0,
                trainSamplesPerSecond: Double = 0, runDirectory: String = "") {
        self.method = method
        self.seed = seed
        self.split = split
        self.tasks = tasks
        self.steps = steps
        self.bestStep = bestStep
        self.stopReason = stopReason
        self.failure = failure
        self.wallSeconds = wallSeconds
        self.trainSamplesPerSecond = trainSamplesPerSecond
        self.runDirectory = runDirectory
    }

    /// Trains `method` with `seed` on `dataset` and evaluates the kept state
    /// (the best mean valid AUC; the final state without a valid split) on `split`.
    ///
    /// A run the stability policy stops (stop reason `unstable`, or a thrown
    /// `TrainingError`) is recorded, not thrown: its metrics are NaN (its
    /// method's means become NaN), `failure` says why, and the label counts of
    /// the split are kept.
    ///
    /// - Parameters:
    ///   - dataset: the comparison's data, loaded once (`RunData.load(comparison.data)`).
    ///   - runDirectory: a directory that does not hold a run yet.
    /// - Throws: configuration errors, `FileIOError`, and `TrainingError` when
    ///   the split has no rows.
    public static func train(_ comparison: WeightingComparison, method: WeightingComparison.Method, seed: UInt64,
                             dataset: Dataset, split: ComparisonSplit = .test,
                             runDirectory: URL) throws -> WeightingComparisonRun {
        let rows = split == .test ? dataset.splits.test : dataset.splits.valid
        if rows.isEmpty { throw TrainingError(message: "the data has no \(split.rawValue) rows to report") }
        let start = Date()
        let trainer = try Trainer(configuration: comparison.configuration(method: method, seed: seed),
                                  dataset: dataset, runDirectory: runDirectory)
        var failure: String?
        var summary: TrainingSummary?
        do {
            summary = try trainer.run()
            if let s = summary { TrainingReport.writeAfterRun(s, output: trainer.configuration.output) }
            if let s = summary, s.stopReason == .unstable {
                failure = "stopped by the stability policy at step \(s.steps) ("
                    + s.events.sorted { $0.key < $1.key }.map { "\($0.key) \($0.value)" }.joined(separator: ", ")
                    + "; see the run's telemetry.jsonl)"
            }
        } catch let error as TrainingError {
            failure = error.message
        }
        let wall = Date().timeIntervalSince(start)
        // After `run` the model holds the kept state (the one the trainer tested).
        let evaluation = Evaluator(model: trainer.model, dataset: dataset).evaluate(rows: rows, split: split.rawValue)
        let tasks = evaluation.tasks.map { t in
            TaskScore(name: t.name, examples: t.examples, positives: t.positives ?? 0,
                      auc: failure == nil ? t.auc ?? .nan : .nan, gauc: failure == nil ? t.gauc ?? .nan : .nan,
                      gaucUsers: t.gaucUsers ?? 0)
        }
        return WeightingComparisonRun(method: method.name, seed: seed, split: split, tasks: tasks,
                                      steps: summary?.steps ?? 0, bestStep: summary?.bestStep,
                                      stopReason: summary?.stopReason ?? .unstable, failure: failure, wallSeconds: wall,
                                      trainSamplesPerSecond: summary?.trainSamplesPerSecond ?? 0,
                                      runDirectory: runDirectory.path)
    }
}
