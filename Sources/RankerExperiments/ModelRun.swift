import Foundation
import Ranker
import RankerReport

/// One model trained to the end by `Trainer` and tested: the unit the example
/// programs (`examples/census-mmoe`, `examples/aliccp-esmm`) are built from;
/// `SeedComparison` puts several of them (models × seeds) in one JSON line.
///
/// In epoch mode the trainer evaluates the valid split after every epoch,
/// keeps the state with the best mean valid AUC and tests that state; when no
/// evaluation had a finite mean AUC, the final state is tested.
public struct ModelRun {
    public let configuration: RunConfiguration
    /// The trainer after the run: its model holds the tested (kept) state.
    public let trainer: Trainer
    public let summary: TrainingSummary
    /// Wall-clock seconds of the whole run (training, evaluations, checkpoints, report).
    public let wallSeconds: Double

    /// Trains `configuration` on `dataset` and tests the kept state.
    ///
    /// - Parameter runDirectory: receives `config.json`, `telemetry.jsonl`,
    ///   the checkpoints and `report.html` (see `Trainer`); it must not hold a run already.
    /// - Throws: `RunConfigurationError` / `ModelConfigurationError` for an unusable
    ///   configuration, `TrainingError` when the stability policy stops the run,
    ///   `FileIOError` when the run directory cannot be written.
    public static func train(_ configuration: RunConfiguration, dataset: Dataset, runDirectory: URL) throws -> ModelRun {
        let start = Date()
        let trainer = try Trainer(configuration: configuration, dataset: dataset, runDirectory: runDirectory)
        let summary = try trainer.run()
        TrainingReport.writeAfterRun(summary, output: configuration.output)
        return ModelRun(configuration: configuration, trainer: trainer, summary: summary,
                        wallSeconds: Date().timeIntervalSince(start))
    }

    /// The architecture's name as in configurations: `mmoe`, `shared_bottom`, `ple`, `esmm`.
    public var modelName: String { configuration.model.model.rawValue }

    /// Optimizer steps per epoch: `⌈train rows / batch size⌉`.
    public var stepsPerEpoch: Int {
        let batch = configuration.training.batchSize
        return (trainer.dataset.splits.train.count + batch - 1) / batch
    }

    /// The epoch (1-based) in which the kept state was reached — with the
    /// default evaluation after every epoch, the epoch after which it was
    /// evaluated; nil when no evaluation had a finite mean valid AUC.
    public var bestEpoch: Int? {
        guard let step = summary.bestStep, stepsPerEpoch > 0 else { return nil }
        return (step + stepsPerEpoch - 1) / stepsPerEpoch
    }

    /// Test AUC per output in the model's output order (ESMM: `ctr`, `cvr`,
    /// `ctcvr`); NaN when the test split lacks a class of that output, or
    /// when there is no test split.
    public var testAUC: [(output: String, auc: Double)] {
        trainer.model.outputNames.map { name in (name, summary.test?.task(named: name)?.auc ?? .nan) }
    }

    /// This run as one JSON object (AUC NaN written as `null`):
    ///
    ///     {"model": "mmoe", "test_auc": {"income": 0.9372, "marital": 0.9921},
    ///      "best_epoch": 7, "train_samples_per_s": 51234.5}
    public var resultJSON: String { resultLine.json }

    /// `resultJSON` still open for more keys (`SeedComparison` adds the seed
    /// statistics to it).
    var resultLine: JSONLine {
        var line = JSONLine()
        line.add("model", modelName)
        line.addRaw("test_auc", "{" + testAUC.map { JSONLine.quote($0.output) + ":" + JSONLine.number($0.auc) }
            .joined(separator: ",") + "}")
        if let epoch = bestEpoch { line.add("best_epoch", epoch) } else { line.addNull("best_epoch") }
        line.add("train_samples_per_s", (summary.trainSamplesPerSecond * 10).rounded() / 10)
        return line
    }
}
