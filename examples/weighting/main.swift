// Task balancing compared: Fixed weights, DWA, GradNorm, uncertainty weighting,
// GradCraft and PCGrad trained on the same data with the same PLE model, the
// same optimizer settings and the same seeds; per-task test AUC and GAUC, their
// means, and the relative improvement over Fixed (the GradCraft paper's table).
//
//     swift run -c release weighting                   # synthetic log, 5 tasks, 3 seeds
//     swift run -c release weighting --seeds 5         # seeds 1…5
//     swift run -c release weighting --full            # the config's `full` section
//     swift run -c release weighting --kuairand log.csv --tasks is_click,long_view
//     swift run -c release weighting --aliexpress train.csv test.csv
//
// The settings are in config.json beside this file (`--config` for another).
// Every run writes its own run directory (telemetry.jsonl, checkpoints, best
// weights) under --out. The last line of standard output is one JSON object
// with every number of the table, the spreads over seeds and the settings.
import ArgumentParser
import Foundation
import Ranker
import RankerExperiments

extension ComparisonSplit: ExpressibleByArgument {}

@main
struct WeightingExample: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "weighting",
        abstract: "Compare task-balancing methods on the same data, model, optimizer and seeds.",
        discussion: """
            Trains every method of the configuration with every seed (Trainer, epoch mode: the state \
            with the best mean valid AUC is kept) and prints per-task AUC and GAUC on the test split, \
            their means over the tasks, and the relative improvement of the means over the baseline \
            (Fixed), all averaged over the seeds. The last output line is the same as one JSON object.
            """)

    @Option(help: "The comparison file (default: config.json beside this program's source).")
    var config: String?

    @Option(help: "Use the seeds 1…N instead of the configuration's.")
    var seeds: Int?

    @Flag(help: "The longer run of the configuration's `full` section (more seeds; synthetic data: more rows and epochs).")
    var full = false

    @Option(help: "A KuaiRand log CSV (schemas/kuairand.json; split by date).")
    var kuairand: String?

    @Option(parsing: .upToNextOption,
            help: "AliExpress CSV files in MTReclib format (schemas/aliexpress.json): TRAIN TEST, or TRAIN VALID TEST.")
    var aliexpress: [String] = []

    @Option(help: "Keep only these label columns, comma-separated (CSV data).")
    var tasks: String?

    @Option(help: "The split reported: test, or valid (for data whose test split has no positives).")
    var split: ComparisonSplit = .test

    @Option(help: "Only these methods, comma-separated names of the configuration (the baseline always runs).")
    var methods: String?

    @Option(help: "Epochs (overrides the configuration).")
    var epochs: Int?

    @Option(name: .customLong("batch-size"), help: "Batch size (overrides the configuration).")
    var batchSize: Int?

    @Option(help: "Directory that receives one run directory per method and seed (default runs/weighting-<time>).")
    var out: String?

    func validate() throws {
        if let seeds, seeds < 1 { throw ValidationError("--seeds must be at least 1") }
        if seeds != nil && full { throw ValidationError("--seeds and --full exclude each other (--full picks its own seeds)") }
        if kuairand != nil && !aliexpress.isEmpty { throw ValidationError("give --kuairand or --aliexpress, not both") }
        if !aliexpress.isEmpty && !(2...3).contains(aliexpress.count) {
            throw ValidationError("--aliexpress takes TRAIN TEST or TRAIN VALID TEST, got \(aliexpress.count) files")
        }
        if let epochs, epochs < 1 { throw ValidationError("--epochs must be at least 1") }
        if let batchSize, batchSize < 1 { throw ValidationError("--batch-size must be at least 1") }
    }

    /// OpenBLAS's generic kernels on a CPU it does not know: run again on the fitting ones.
    static func main() {
        BLASKernelChoice.relaunchOnFittingKernels()
        main(nil)
    }

    func run() throws {
        // Data is looked for from the current directory, then from this executable's place.
        if let executable = Bundle.main.executablePath { DataLocation.startingPoints = [executable] }
        let started = Date()
        let source = URL(fileURLWithPath: #filePath).deletingLastPathComponent()
        var comparison = try WeightingComparison.load(path: config ?? source.appendingPathComponent("config.json").path)
        if full { comparison = comparison.applyingFull() }
        if let seeds { comparison.seeds = (1...seeds).map(UInt64.init) }
        if let epochs { comparison.training.epochs = epochs }
        if let batchSize { comparison.training.batchSize = batchSize }
        if let kuairand {
            comparison.data = DataConfiguration(
                source: .csv, schema: try DataLocation.schemaPath(named: "kuairand", filePath: #filePath),
                files: [DataConfiguration.File(path: kuairand)])
        } else if !aliexpress.isEmpty {
            let parts: [DatasetPart] = aliexpress.count == 2 ? [.train, .test] : [.train, .valid, .test]
            comparison.data = DataConfiguration(
                source: .csv, schema: try DataLocation.schemaPath(named: "aliexpress", filePath: #filePath),
                files: zip(aliexpress, parts).map { DataConfiguration.File(path: $0, part: $1) })
        }
        if let tasks { comparison.data.tasks = tasks.split(separator: ",").map { String($0) } }
        if let methods {
            let wanted = Set(methods.split(separator: ",").map { String($0) } + [comparison.baseline])
            let unknown = wanted.subtracting(comparison.methods.map(\.name))
            if !unknown.isEmpty {
                throw ValidationError("unknown methods \(unknown.sorted().joined(separator: ", ")); the configuration has "
                                      + comparison.methods.map(\.name).joined(separator: ", "))
            }
            comparison.methods = comparison.methods.filter { wanted.contains($0.name) }
        }
        try comparison.validate()

        // The data, once for every run.
        let dataset = try RunData.load(comparison.data)
        let model = try RunData.modelConfiguration(comparison.model, for: dataset)
        let total = comparison.methods.count * comparison.seeds.count
        printSettings(comparison, dataset: dataset, model: model, split: split, runs: total)

        let root = URL(fileURLWithPath: out ?? "runs/weighting-\(timestamp())")
        var runs: [WeightingComparisonRun] = []
        for seed in comparison.seeds {
            for method in comparison.methods {
                let directory = root.appendingPathComponent("\(method.name.lowercased())-seed\(seed)")
                // The trainer prints every evaluation on standard output; this
                // program prints one table instead (each run's telemetry.jsonl
                // keeps every evaluation).
                let run = try withStandardOutputSilenced {
                    try WeightingComparisonRun.train(comparison, method: method, seed: seed, dataset: dataset,
                                                     split: split, runDirectory: directory)
                }
                runs.append(run)
                let counted = run.tasks.filter(\.hasBothClasses).map(\.auc)
                let mean = counted.isEmpty ? Double.nan : counted.reduce(0, +) / Double(counted.count)
                progress(String(format: "[%d/%d] %@ seed %llu: mean %@ AUC %.4f, %d steps, %.1f s", runs.count, total,
                                method.name, seed, split.rawValue, mean, run.steps, run.wallSeconds)
                         + (run.failure.map { " — stopped: \($0)" } ?? ""))
            }
        }

        let table = try WeightingComparisonTable(runs: runs, methods: comparison.methods.map(\.name),
                                                 seeds: comparison.seeds, baseline: comparison.baseline)
        let wall = Date().timeIntervalSince(started)
        print("")
        print(table.text())
        if comparison.data.source == .csv && dataset.count < 10_000 {
            print("Only \(dataset.count) rows: these numbers show that the data runs, they measure nothing.")
        }
        print(String(format: "\nwall time %.1f s (%d runs; per method, summed over seeds: %@)", wall, total,
                     table.rows.map { String(format: "%@ %.1f s", $0.method, $0.wallSeconds) }.joined(separator: ", ")))
        print("run directories: \(root.path)")
        print(table.json(extra: [
            ("example", JSONLine.quote("weighting")),
            ("data", JSONLine.quote(describeData(comparison.data, dataset))),
            ("model", describeModel(model)),
            ("optimizer", encoded(comparison.optimizer)),
            ("epochs", String(comparison.training.epochs)),
            ("batch_size", String(comparison.training.batchSize)),
            ("balancers", "{" + comparison.methods.map { JSONLine.quote($0.name) + ":" + encoded($0.balancer) }
                .joined(separator: ",") + "}"),
            ("wall_seconds", JSONLine.number((wall * 10).rounded() / 10)),
            ("run_directory", JSONLine.quote(root.path)),
        ]))
    }

    /// What is compared, before the runs start.
    private func printSettings(_ c: WeightingComparison, dataset: Dataset, model: ModelConfiguration,
                               split: ComparisonSplit, runs: Int) {
        let s = dataset.splits
        print("data: \(describeData(c.data, dataset)); train \(s.train.count), valid \(s.valid.count), test \(s.test.count) rows")
        let rates = dataset.tasks.indices.map { t -> String in
            let labels = dataset.labels[t]
            let positives = s.train.reduce(0) { $0 + (labels[$1] == 1 ? 1 : 0) }
            return String(format: "%@ %.1f%%", dataset.tasks[t].name,
                          s.train.isEmpty ? .nan : 100 * Double(positives) / Double(s.train.count))
        }
        print("tasks (train positive rate): " + rates.joined(separator: ", "))
        print("model: \(model.model.rawValue), \(model.levels) level(s), \(model.specificExperts) specific + "
              + "\(model.sharedExperts) shared expert(s) per task, experts \(model.expertHidden), towers \(model.towerHidden), "
              + "input width \(model.inputSize)")
        print("optimizer: \(encoded(c.optimizer)); \(c.training.epochs) epochs of batch \(c.training.batchSize); "
              + "seeds \(c.seeds.map(String.init).joined(separator: ", ")); reported split: \(split.rawValue)")
        for method in c.methods { print("  \(method.name): \(encoded(method.balancer))") }
        print("\(runs) runs\n")
    }

    /// The architecture keys of the model that matter for PLE, and its input width.
    private func describeModel(_ m: ModelConfiguration) -> String {
        var o = JSONLine()
        o.add("model", m.model.rawValue)
        o.add("levels", m.levels)
        o.add("specific_experts", m.specificExperts)
        o.add("shared_experts", m.sharedExperts)
        o.addRaw("expert_hidden", "[" + m.expertHidden.map(String.init).joined(separator: ",") + "]")
        o.addRaw("tower_hidden", "[" + m.towerHidden.map(String.init).joined(separator: ",") + "]")
        o.add("input_width", m.inputSize)
        return o.json
    }

    private func describeData(_ data: DataConfiguration, _ dataset: Dataset) -> String {
        switch data.source {
        case .synthetic:
            let s = data.synthetic ?? SyntheticClickLogConfig()
            return "synthetic click log, \(s.rows) rows, \(s.tasks) tasks, positive rates "
                + s.positiveRates.map { String(format: "%g", $0) }.joined(separator: "/")
                + ", task correlation \(s.taskCorrelation), data seed \(s.seed)"
        case .census:
            return "census-income, \(dataset.count) rows"
        case .csv:
            return "\(dataset.name): " + (data.files ?? []).map { $0.path }.joined(separator: ", ")
                + " (\(dataset.count) rows)"
        }
    }
}

/// Compact sorted-key JSON of a configuration value.
private func encoded<T: Encodable>(_ value: T) -> String {
    let encoder = JSONEncoder()
    encoder.outputFormatting = [.sortedKeys, .withoutEscapingSlashes]
    return (try? encoder.encode(value)).map { String(decoding: $0, as: UTF8.self) } ?? "null"
}

/// One progress line on standard error.
private func progress(_ message: String) {
    FileHandle.standardError.write(Data((message + "\n").utf8))
}

private func timestamp() -> String {
    let formatter = DateFormatter()
    formatter.dateFormat = "yyyyMMdd-HHmmss"
    return formatter.string(from: Date())
}

/// Runs `body` with file descriptor 1 pointed at /dev/null.
private func withStandardOutputSilenced<T>(_ body: () throws -> T) rethrows -> T {
    fflush(stdout)
    let saved = dup(STDOUT_FILENO)
    let null = open("/dev/null", O_WRONLY)
    if saved >= 0 && null >= 0 { dup2(null, STDOUT_FILENO) }
    if null >= 0 { close(null) }
    defer {
        fflush(stdout)
        if saved >= 0 {
            dup2(saved, STDOUT_FILENO)
            close(saved)
        }
    }
    return try body()
}
