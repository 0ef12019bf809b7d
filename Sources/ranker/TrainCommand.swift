import ArgumentParser
import Foundation
import Ranker
import RankerDistributed
import RankerReport

/// Flags that override parts of a run configuration (shared by `train` and `eval`).
struct RunOverrides: ParsableArguments {
    @Option(name: .customLong("data"), help: "Data source (csv needs a configuration file with data.schema and data.files).")
    var dataSource: DataConfiguration.Source?

    @Option(help: "Architecture.")
    var model: ModelKind?

    @Option(help: "Optimizer, with its default options.")
    var optimizer: OptimizerKind?

    @Option(help: "Clippy preset (ALGORITHMS.md 4.2.4): \(ClippyPreset.allCases.map(\.rawValue).joined(separator: ", ")).")
    var preset: String?

    @Option(name: .customLong("lr"), help: "Base learning rate.")
    var learningRate: Float?

    @Option(help: ArgumentHelp("Loss weighting method with default options: "
                               + TaskBalancerRegistry.methodNames(.lossWeighting).joined(separator: ", ") + ".",
                               valueName: "name"))
    var weighting: String?

    @Option(help: ArgumentHelp("Gradient combination method with default options: "
                               + TaskBalancerRegistry.methodNames(.gradientCombination).joined(separator: ", ") + ".",
                               valueName: "name"))
    var combination: String?

    @Option(help: "Training epochs (sequential mode: passes over each day's window).")
    var epochs: Int?

    @Option(help: "Examples per batch.")
    var batchSize: Int?

    @Option(help: "Seed of initialisation, shuffling and every random choice.")
    var seed: UInt64?

    @Option(help: "OpenBLAS threads.")
    var threads: Int?

    @Option(help: "Stop after this many steps.")
    var maxSteps: Int?

    @Option(help: "Evaluate on the valid split every N steps (0: every epoch).")
    var evalEvery: Int?

    @Option(help: "Write the checkpoint after step N and stop (resume continues exactly).")
    var interruptAfter: Int?

    @Option(help: "Stability policy on a non-finite value, spike or divergence.")
    var policy: StabilityPolicy?

    @Option(help: "Progress display: auto (bar on a terminal, lines otherwise), bar, lines, none, silent (no evaluation or event lines either).")
    var progress: OutputSettings.Progress?

    /// Rejects both balancing flags at once and a method name the registry does not know.
    func validate() throws {
        if let w = weighting { _ = try method(w, .lossWeighting) }
        if let g = combination { _ = try method(g, .gradientCombination) }
    }

    /// Applies every given flag to `c`.
    func apply(to c: inout RunConfiguration) throws {
        if let s = dataSource {
            if s == .csv { throw ValidationError("--data csv needs a configuration file with data.schema and data.files") }
            c.data = DataConfiguration(source: s, embeddingDimension: c.data.embeddingDimension)
        }
        if let m = model { c.model.model = m }
        if let o = optimizer { c.optimizer = OptimizerConfiguration(kind: o, learningRate: c.optimizer.learningRate) }
        if let p = preset {
            do {
                c.optimizer = try c.optimizer.merging(jsonObject: JSONEncoder().encode(["preset": p]))
            } catch {
                throw ValidationError("--preset \(p): \(error)")
            }
        }
        if let lr = learningRate { c.optimizer.learningRate = lr }
        if let w = weighting {
            c.balancer = TaskBalancerConfiguration(weighting: try method(w, .lossWeighting))
        }
        if let g = combination {
            c.balancer = TaskBalancerConfiguration(combination: try method(g, .gradientCombination))
        }
        if let e = epochs { c.training.epochs = e }
        if let b = batchSize { c.training.batchSize = b }
        if let s = seed { c.training.seed = s }
        if let t = threads { c.training.threads = t }
        if let m = maxSteps { c.training.maxSteps = m }
        if let e = evalEvery { c.training.evalEverySteps = e }
        if let i = interruptAfter { c.training.interruptAfterSteps = i }
        if let p = policy { c.stability.policy = p }
        if let p = progress { c.output.progress = p }
    }

    /// The registered method `name` of `family` with its default options.
    private func method(_ name: String, _ family: TaskBalancerFamily) throws -> TaskBalancerMethodConfiguration {
        do {
            return try TaskBalancerMethodConfiguration(defaultsOf: name, family: family)
        } catch let error as TaskBalancerConfigurationError {
            throw ValidationError("--\(family.configurationKey) \(name): \(error.message)")
        }
    }
}

struct TrainCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "train",
        abstract: "Train a model from a run configuration (JSON) with optional flag overrides.",
        discussion: """
            Without --config, trains the embedded default (configs/mmoe-synthetic.json): MMoE (8 experts \
            [128, 64], towers [32]) on the synthetic click log (200,000 rows, 3 tasks) with Clippy Adagrad \
            (lr 0.2), 8 epochs, batch 512.

            The run directory (--out, else output.directory, else runs/<name>-<timestamp>) receives \
            config.json, telemetry.jsonl (one JSON object per step, evaluation and stability event), \
            checkpoint.safetensors (resumable), best.safetensors (best valid weights, export format) and \
            report.html. --resume DIR continues an interrupted run exactly (same seed and threads give \
            bitwise the same result); only --epochs, --max-steps, --interrupt-after and --progress may change.

            Data parallel: `mpirun -np N ranker train …` (or `ranker train --ranks N …`, which starts that \
            itself) trains one replica per process, each on its slice of every global batch, with the \
            gradients summed over the ranks; rank 0 alone writes the run directory (README, "Train on many \
            cores and machines").

            The configuration format is documented in README.md ("Run configuration"); examples are in configs/.
            """
    )

    @Option(name: .shortAndLong, help: "Run configuration file (JSON).")
    var config: String?

    @Option(help: "Run directory (default: output.directory, else runs/<name>-<timestamp>).")
    var out: String?

    @Option(help: "Resume the run in this directory from its checkpoint.")
    var resume: String?

    @Flag(help: "Print the resolved configuration and exit without training.")
    var printConfig = false

    @OptionGroup var overrides: RunOverrides

    @OptionGroup var distributed: DistributedOptions

    func run() throws {
        if distributed.needsRelaunch { try MPIRelaunch.run(ranks: distributed.ranks!) }
        let communicator = try distributed.communicator()
        do {
            try train(communicator: communicator)
        } catch let status as ExitCode {
            try communicator?.finalize()
            throw status
        } catch let error where (communicator?.size ?? 1) > 1 {
            // The other ranks may wait in a collective: stop the whole job.
            FileHandle.standardError.write(Data("rank \(communicator!.rank): error: \(error)\n".utf8))
            communicator!.abort(code: 1)
        }
        try communicator?.finalize()
    }

    /// The `config.json` of the run directory `dir` that `--resume` continues
    /// without `--config`. A process killed before it wrote that file (the
    /// trainer writes it first, before any telemetry or checkpoint) left
    /// nothing that could be resumed: the error says how to start the run.
    static func savedConfiguration(ofRun dir: String) throws -> String {
        var isDirectory: ObjCBool = false
        guard FileManager.default.fileExists(atPath: dir, isDirectory: &isDirectory), isDirectory.boolValue else {
            throw TrainingError(message: "cannot resume: \(dir) is not a run directory (it does not exist)")
        }
        let path = (dir as NSString).appendingPathComponent("config.json")
        guard FileManager.default.fileExists(atPath: path) else {
            throw TrainingError(message: "cannot resume \(dir): it has no config.json, so the run stopped before it "
                                + "wrote its configuration and trained nothing. Start it from the beginning with "
                                + "`ranker train --config FILE --resume \(dir)` (the configuration it was started with)")
        }
        return path
    }

    /// Trains in this process: alone, or as one replica of `communicator`.
    private func train(communicator: Communicator?) throws {
        let isWriter = (communicator?.rank ?? 0) == 0
        func print(_ line: String) { if isWriter { Swift.print(line) } }
        var configuration: RunConfiguration
        if let path = config {
            configuration = try RunConfiguration.load(path: path)
        } else if let dir = resume {
            configuration = try RunConfiguration.load(path: try Self.savedConfiguration(ofRun: dir))
        } else {
            configuration = .default
        }
        try overrides.apply(to: &configuration)
        if !isWriter { configuration.output.progress = .silent }
        try configuration.validate()
        if printConfig {
            print(configuration.encodedJSON())
            return
        }
        let directory: URL
        if let dir = resume ?? out {
            directory = URL(fileURLWithPath: dir)
        } else if let dir = configuration.output.directory {
            directory = URL(fileURLWithPath: dir)
        } else {
            let stamp = DateFormatter()
            stamp.dateFormat = "yyyyMMdd-HHmmss"
            directory = URL(fileURLWithPath: "runs/\(configuration.name)-\(stamp.string(from: Date()))")
        }
        let start = Date()
        print("Loading data (\(configuration.data.source.rawValue)) …")
        let dataset = try RunData.load(configuration.data)
        print("\(dataset.count) examples (train \(dataset.splits.train.count), valid \(dataset.splits.valid.count), "
              + "test \(dataset.splits.test.count)); \(dataset.fields.count) sparse fields, "
              + "\(dataset.denseNames.count) dense features, tasks: \(dataset.tasks.map(\.name).joined(separator: ", "))")
        let dataParallel = communicator.map { DataParallelSettings(group: $0, checkEverySteps: distributed.checkReplicasEvery) }
        let trainer = try Trainer(configuration: configuration, dataset: dataset, runDirectory: directory,
                                  resume: resume != nil, dataParallel: dataParallel)
        // What the data files were, so that `ranker eval` can tell when they change (rank 0 writes).
        if isWriter {
            try RunDirectory(url: directory).recordDataFingerprints(of: configuration.data)
        }
        if let communicator, communicator.size > 1 {
            print("data parallel: \(communicator.size) ranks, batch \(configuration.training.batchSize) split into "
                  + "slices of \(configuration.training.batchSize / communicator.size)-"
                  + "\((configuration.training.batchSize + communicator.size - 1) / communicator.size) rows")
        }
        print("Training \(trainer.modelConfiguration.model.rawValue) (\(trainer.model.parameterCount) parameters) with "
              + "\(configuration.optimizer.kind.rawValue), \(trainer.balancer.methodName) → \(directory.path)")
        let summary = try trainer.run()
        if isWriter { TrainingReport.writeAfterRun(summary, output: configuration.output) }
        print("")
        if isWriter { printSummary(summary) }
        print(String(format: "wall time %.1f s, training %.0f samples/s", Date().timeIntervalSince(start),
                     summary.trainSamplesPerSecond))
        print("telemetry:  \(trainer.telemetryURL.path)")
        print("checkpoint: \(trainer.checkpointURL.path)")
        if FileManager.default.fileExists(atPath: trainer.bestURL.path) { print("best:       \(trainer.bestURL.path)") }
        let report = directory.appendingPathComponent("report.html")
        if FileManager.default.fileExists(atPath: report.path) { print("report:     \(report.path)") }
        if summary.stopReason == .unstable { throw ExitCode(2) }
    }
}

/// The per-task table of a finished run.
func printSummary(_ s: TrainingSummary) {
    print("stopped: \(s.stopReason.rawValue) after \(s.steps) steps"
          + (s.bestStep.map { ", best valid at step \($0)" } ?? ""))
    if !s.events.isEmpty {
        print("stability events: " + s.events.sorted { $0.key < $1.key }.map { "\($0.key) \($0.value)" }.joined(separator: ", "))
    }
    for (label, evaluation) in [("valid (best)", s.bestValid), ("test", s.test)] {
        guard let e = evaluation else { continue }
        print("")
        printEvaluationTable(label, e)
    }
}
