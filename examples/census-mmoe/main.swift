// census-mmoe: Shared-Bottom, MMoE and PLE on the census-income protocol
// (shared/data/census-income/PROTOCOL.md), the models of the MMoE and PLE
// papers on the data set of their experiments.
//
//     swift run -c release census-mmoe [--seed 0 | --seeds 0-4] [--models mmoe,ple] [--epochs 10] [--out DIR]
//
// Every model is trained with the same data, optimizer and schedule
// (config.json beside this file): embeddings of dimension 8, Adagrad at
// learning rate 0.05 with initial accumulator 0.1, batches of 1,024, 10
// epochs. After every epoch the trainer evaluates the valid split and keeps
// the state with the best mean valid AUC; that state is tested.
//
// With `--seeds` (a list like 0-4 or 0,2,5) every model is trained once per
// seed, and a second table gives the mean ± population std of each task's
// test AUC over the seeds beside the peers' 5-seed means, with a column that
// says whether Ranker is at or above the peer.
//
// Prints the training log, a table of test AUC per task and model beside the
// PyTorch peers' numbers, and as its LAST line one JSON object
// (`SeedComparison.json`; the single-run keys are the first seed's run):
//
//     {"models": [{"model": "mmoe", "test_auc": {"income": …, "marital": …},
//                  "best_epoch": …, "train_samples_per_s": …,
//                  "test_auc_mean": {…}, "test_auc_std": {…}, "per_seed": […]}, …],
//      "seed": 0, "seeds": [0, …]}
//
// Data: census-income.test.gz is looked for under $RANKER_DATA, ../shared/data
// and ./data (`make data` downloads it).
import ArgumentParser
import Foundation
import Ranker
import RankerExperiments

/// Test AUC of the PyTorch peers (torch-rechub with BatchNorm in every layer,
/// same protocol) per seed 0–4: shared/data/census-income/PROTOCOL.md, "Five
/// seeds" table, per-seed columns (seed 0 is also its "Reference results").
let peerTestAUC: [String: [(income: Double, marital: Double)]] = [
    "mmoe": [(0.9372, 0.9921), (0.9418, 0.9928), (0.9388, 0.9936), (0.9448, 0.9925), (0.9394, 0.9937)],
    "shared_bottom": [(0.9358, 0.9933), (0.9426, 0.9927), (0.9400, 0.9935), (0.9435, 0.9912), (0.9418, 0.9937)],
    "ple": [(0.9400, 0.9930), (0.9425, 0.9924), (0.9387, 0.9938), (0.9411, 0.9931), (0.9382, 0.9933)],
]

/// The peers' mean test AUC over seeds 0–4 as PROTOCOL.md publishes it ("Five
/// seeds" table, mean column), per model and task.
let peerFiveSeedMean: [String: [String: Double]] = [
    "mmoe": ["income": 0.9404, "marital": 0.9929],
    "shared_bottom": ["income": 0.9407, "marital": 0.9929],
    "ple": ["income": 0.9401, "marital": 0.9931],
]

struct CensusMMoE: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "census-mmoe",
        abstract: "Shared-Bottom, MMoE and PLE on the census-income protocol; test AUC per task and model.",
        discussion: """
            Trains the models of config.json (beside this example's source) one after another on the \
            census-income split of PROTOCOL.md and tests each at its best mean valid AUC. The last line \
            of the output is one JSON object with the results.
            """)

    @Option(help: "Comparison configuration (default: examples/census-mmoe/config.json).")
    var config: String?

    @Option(help: "Seed of initialisation and shuffling (overrides training.seed).")
    var seed: UInt64?

    @Option(help: ArgumentHelp("Train every model once per seed and summarise (mean ± std) beside the peers' "
                               + "5-seed means: a range, a list or both, like 0-4, 0,2,5 or 0-2,7.",
                               valueName: "seeds"),
            transform: SeedList.parse)
    var seeds: [UInt64]?

    @Option(help: "Training epochs (overrides training.epochs).")
    var epochs: Int?

    @Option(help: "Only these models, comma-separated (shared_bottom, mmoe, ple).")
    var models: String?

    @Option(help: "Directory for the run directories (default: runs/census-mmoe-<timestamp>).")
    var out: String?

    func validate() throws {
        if seed != nil && seeds != nil { throw ValidationError("--seed and --seeds together: give one of them") }
    }

    func run() throws {
        // Data is looked for from the current directory, then from this executable's place.
        if let executable = Bundle.main.executablePath { DataLocation.startingPoints = [executable] }
        // 1. The configuration: shared data, optimizer and training settings, and the models.
        var comparison = try ModelComparisonConfiguration.load(path: try configurationPath())
        let runSeeds = seeds ?? [seed ?? comparison.training.seed]
        if let epochs { comparison.training.epochs = epochs }
        if let models {
            let wanted = models.split(separator: ",").map { $0.trimmingCharacters(in: .whitespaces) }
            for name in wanted where !comparison.models.contains(where: { $0.model.rawValue == name }) {
                throw ValidationError("--models: \(name) is not in the configuration ("
                                      + comparison.models.map(\.model.rawValue).joined(separator: ", ") + ")")
            }
            comparison.models = comparison.models.filter { wanted.contains($0.model.rawValue) }
        }
        try comparison.validate()

        // 2. The data, loaded once for all models.
        let dataset = try RunData.load(comparison.data)
        let training = comparison.training
        print("census-income (PROTOCOL.md): train \(dataset.splits.train.count), valid \(dataset.splits.valid.count), "
              + "test \(dataset.splits.test.count) rows; \(dataset.fields.count) sparse fields (dimension "
              + "\(dataset.fields.first?.dimension ?? 0)), \(dataset.denseNames.count) dense; tasks "
              + dataset.tasks.map(\.name).joined(separator: ", "))
        print("\(comparison.optimizer.kind.rawValue) lr \(comparison.optimizer.learningRate), batch \(training.batchSize), "
              + "\(training.epochs) epochs, seed" + (runSeeds.count == 1 ? " " : "s ")
              + runSeeds.map(String.init).joined(separator: ", ") + ", \(training.threads) thread(s)")

        // 3. Each seed, each model: train, keep the best valid state, test it.
        //    Several seeds get one directory each: <out>/seed-<S>/<model>.
        let directory = URL(fileURLWithPath: out ?? "runs/\(comparison.name)-\(timestamp())")
        var runs: [[ModelRun]] = []
        for runSeed in runSeeds {
            comparison.training.seed = runSeed
            let seedDirectory = seeds == nil ? directory : directory.appendingPathComponent("seed-\(runSeed)")
            var seedRuns: [ModelRun] = []
            for model in comparison.models {
                let configuration = comparison.runConfiguration(for: model)
                let runDirectory = seedDirectory.appendingPathComponent(model.model.rawValue)
                print("\n== \(model.model.rawValue), seed \(runSeed) → \(runDirectory.path)")
                let run = try ModelRun.train(configuration, dataset: dataset, runDirectory: runDirectory)
                print("\(run.trainer.model.parameterCount) parameters; best valid mean AUC "
                      + format(run.summary.bestValid?.meanAUC) + " after epoch " + (run.bestEpoch.map(String.init) ?? "-")
                      + String(format: "; %.1f s", run.wallSeconds))
                seedRuns.append(run)
            }
            printTable(seedRuns, seed: runSeed)
            runs.append(seedRuns)
        }

        // 4. Over several seeds the summary beside the peers' 5-seed means; then the JSON line (last).
        let comparisonRuns = try SeedComparison(seeds: runSeeds, runs: runs)
        if seeds != nil {
            let summary = try comparisonRuns.summary(peers: peerFiveSeedMean,
                                                     peerLabel: "torch-rechub's mean over seeds 0–4 (PROTOCOL.md)")
            print("\n" + summary.text())
        }
        print(comparisonRuns.json)
    }

    /// `--config`, else config.json beside this source file, else in the checkout's examples/.
    func configurationPath() throws -> String {
        if let config { return config }
        let besideSource = URL(fileURLWithPath: #filePath).deletingLastPathComponent().appendingPathComponent("config.json")
        if FileManager.default.fileExists(atPath: besideSource.path) { return besideSource.path }
        if let root = DataLocation.repositoryRoot(from: FileManager.default.currentDirectoryPath) {
            return URL(fileURLWithPath: root).appendingPathComponent("examples/census-mmoe/config.json").path
        }
        throw ValidationError("config.json not found beside \(#filePath); pass --config")
    }
}

/// Test AUC per task and model of one seed, beside the peers' test AUC with
/// the same seed (seeds 0–4; "-" for others); "within 0.003" says whether
/// both tasks reach the peer's AUC minus 0.003.
func printTable(_ runs: [ModelRun], seed: UInt64) {
    let header = ["model", "best epoch", "income", "marital", "peer income", "peer marital", "within 0.003", "samples/s"]
    var rows: [[String]] = []
    for run in runs {
        let auc = Dictionary(uniqueKeysWithValues: run.testAUC.map { ($0.output, $0.auc) })
        let income = auc["income"] ?? .nan, marital = auc["marital"] ?? .nan
        var peerColumns = ["-", "-", "-"]
        if let perSeed = peerTestAUC[run.modelName], seed < UInt64(perSeed.count) {
            let peer = perSeed[Int(seed)]
            let met = income >= peer.income - 0.003 && marital >= peer.marital - 0.003
            peerColumns = [format(peer.income), format(peer.marital), met ? "yes" : "NO"]
        }
        rows.append([run.modelName, run.bestEpoch.map(String.init) ?? "-", format(income), format(marital)]
                    + peerColumns + [String(format: "%.0f", run.summary.trainSamplesPerSecond)])
    }
    print("\ntest AUC of the state with the best mean valid AUC, seed \(seed); peer: torch-rechub, same seed (PROTOCOL.md)")
    let widths = header.indices.map { c in max(header[c].count, rows.map { $0[c].count }.max() ?? 0) }
    for row in [header] + rows {
        print(row.indices.map { c in
            c == 0 ? row[c].padding(toLength: widths[c], withPad: " ", startingAt: 0)
                   : String(repeating: " ", count: widths[c] - row[c].count) + row[c]
        }.joined(separator: "  "))
    }
}

func format(_ value: Double?) -> String {
    guard let value, value.isFinite else { return "  n/a " }
    return String(format: "%.4f", value)
}

func timestamp() -> String {
    let formatter = DateFormatter()
    formatter.dateFormat = "yyyyMMdd-HHmmss"
    return formatter.string(from: Date())
}

// OpenBLAS's generic kernels on a CPU it does not know: run again on the fitting ones.
BLASKernelChoice.relaunchOnFittingKernels()
CensusMMoE.main()
