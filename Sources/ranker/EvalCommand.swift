import ArgumentParser
import Foundation
import Ranker

/// `ranker eval`: metrics of a trained run's weights on a split of its data.
struct EvalCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "eval",
        abstract: "Evaluate a trained run's weights on a split of its data.",
        discussion: """
            Rebuilds the model from the run's config.json and its data files, encoded with the run's \
            frozen encoding.json (the train vocabularies and statistics, as `ranker predict` does; \
            synthetic data is generated again from its seed), and warns on standard error, naming the \
            file, when a data file differs from the one the run trained on (data-fingerprints.json: \
            size and content hash). It reads the weights (--weights best: best.safetensors; last: the model tensors \
            of checkpoint.safetensors) and prints, per output, AUC, GAUC (when the data has users), \
            logloss and the example count (RMSE for regression outputs), and the mean AUC. ESMM \
            reports ctr and ctcvr over all impressions and cvr over clicked ones.

            With --json, standard output is one JSON object: {"run", "weights", "step", "split", \
            "examples", "mean_auc", "non_finite_predictions", "metrics"}, with "metrics" laid out as \
            in the telemetry's eval lines (TELEMETRY.md); NaN is null.
            """
    )

    @OptionGroup var target: RunDirectoryArgument

    @Option(help: "Split to evaluate: valid, test or train.")
    var split: DatasetPart = .test

    @OptionGroup var weightsOption: WeightsOption

    @Option(help: "OpenBLAS threads (default: the run's training.threads).")
    var threads: Int?

    @Option(help: "Rows per forward pass.")
    var batchSize: Int = 4096

    @Flag(help: "Print one JSON object instead of the table.")
    var json = false

    func validate() throws {
        if let t = threads, t < 1 { throw ValidationError("--threads must be at least 1") }
        if batchSize < 1 { throw ValidationError("--batch-size must be at least 1") }
    }

    func run() throws {
        let directory = target.directory
        let weights = weightsOption.weights ?? .best
        let configuration = try directory.configuration()
        let weightsURL = try weightsFile(weights, in: directory)
        BLAS.threadCount = threads ?? configuration.training.threads
        if !json { print("Loading data (\(configuration.data.source.rawValue)) …") }
        let dataset: Dataset
        if let encoding = try directory.encoding() {
            dataset = try RunData.load(configuration.data, encoding: encoding, encodingSource: directory.encodingURL.path)
        } else {
            dataset = try RunData.load(configuration.data)
        }
        warnAboutChangedData(configuration.data, in: directory)
        let model = try makeModel(try RunData.modelConfiguration(configuration.model, for: dataset))
        // The library's CheckpointError names the tensor; the file is named here (as `ranker export` does).
        let metadata = try StateFileError.naming(weightsURL.path) { try ModelWeights.load(into: model, from: weightsURL) }
        let step = metadata[Checkpoint.Key.step].flatMap { Int($0) }
        let rows = dataset.splits[split]
        guard !rows.isEmpty else {
            throw CommandError("the data of \(directory.url.path) has no \(split.rawValue) rows")
        }
        let evaluation = Evaluator(model: model, dataset: dataset, batchSize: batchSize)
            .evaluate(rows: rows, split: split.rawValue)
        if json {
            var line = JSONLine()
            line.add("run", directory.url.path)
            line.add("weights", weights.rawValue)
            if let step { line.add("step", step) } else { line.addNull("step") }
            line.add("split", split.rawValue)
            line.add("examples", rows.count)
            line.add("mean_auc", evaluation.meanAUC)
            line.add("non_finite_predictions", evaluation.nonFinitePredictions)
            line.addRaw("metrics", evaluation.metricsJSON)
            print(line.json)
            return
        }
        print("\(model.configuration.model.rawValue) (\(model.parameterCount) parameters), weights \(weights.rawValue) "
              + "(\(weightsURL.lastPathComponent)\(step.map { ", step \($0)" } ?? "")), "
              + "\(split.rawValue) split of \(dataset.name): \(rows.count) examples")
        print("")
        printEvaluationTable(split.rawValue, evaluation)
        if evaluation.nonFinitePredictions > 0 {
            print("warning: \(evaluation.nonFinitePredictions) predictions are NaN or infinite")
        }
    }

    /// Writes a warning to standard error for each data file that differs
    /// from the one the run trained on, and one when the run recorded none.
    func warnAboutChangedData(_ data: DataConfiguration, in directory: RunDirectory) {
        func warn(_ text: String) { FileHandle.standardError.write(Data("warning: \(text)\n".utf8)) }
        do {
            let files = try RunData.dataFiles(data)
            guard !files.isEmpty else { return }
            guard let recorded = try directory.dataFingerprints() else {
                warn("\(directory.fingerprintsURL.path) is absent: cannot tell whether the data files changed since training")
                return
            }
            for difference in recorded.differences(from: try DataFingerprints.of(paths: files)) {
                warn(difference + "; the metrics are of the file as it is now")
            }
        } catch {
            warn("cannot compare the data files with the run's: \(error)")
        }
    }
}
