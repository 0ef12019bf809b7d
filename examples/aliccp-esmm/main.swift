// aliccp-esmm: ESMM (Entire Space Multi-task Model) on Ali-CCP, Taobao's
// click and purchase log, in the torch-rechub CSV format
// (schemas/ali-ccp-torch-rechub.json).
//
//     swift run -c release aliccp-esmm                     # the torch-rechub sample (100/50/50 rows)
//     swift run -c release aliccp-esmm --train a.csv --valid b.csv --test c.csv
//     swift run -c release aliccp-esmm log.csv [more.csv …]   # rows split 80/10/10 at random (seeded)
//
// ESMM learns pCTR on every impression (click labels) and pCTCVR = pCTR · pCVR
// on every impression (click · purchase labels); pCVR gets no loss of its own.
// It is evaluated the way the ESMM paper does:
//   CTR   AUC of pCTR against click, over all impressions;
//   CVR   AUC of pCVR against purchase, over the CLICKED impressions only;
//   CTCVR AUC of pCTCVR against click · purchase, over all impressions.
// The trainer keeps the state with the best mean valid AUC of CTR and CTCVR
// and tests it (the final state when the valid split cannot rank).
//
// Prints the training log, a table of the test metrics and, as its LAST
// line, one JSON object. An AUC that cannot be computed (a class absent among
// the rows, which happens on the tiny sample) is printed as n/a with the
// reason and written as null.
//
// Data: files given as paths relative to a data root ($RANKER_DATA,
// ../shared/data, ./data) are found there; config.json names the sample.
import ArgumentParser
import Foundation
import Ranker
import RankerExperiments

struct AliCCPESMM: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "aliccp-esmm",
        abstract: "ESMM on Ali-CCP (torch-rechub format): CTR, CVR (clicked impressions) and CTCVR test AUC.",
        discussion: """
            Without files, trains on the torch-rechub sample named in config.json (100 train, 50 valid, \
            50 test rows). --train/--valid/--test give files of one part each; files given without an \
            option are split 80/10/10 at random (seeded by --seed). The last line of the output is one \
            JSON object with the results.
            """)

    @Option(help: "Run configuration (default: examples/aliccp-esmm/config.json).")
    var config: String?

    @Option(help: "A training file (repeatable).")
    var train: [String] = []

    @Option(help: "A validation file (repeatable).")
    var valid: [String] = []

    @Option(help: "A test file (repeatable).")
    var test: [String] = []

    @Argument(help: "Ali-CCP-format CSV files whose rows are split 80/10/10 at random.")
    var files: [String] = []

    @Option(help: "Seed of initialisation, shuffling and the random split (overrides training.seed).")
    var seed: UInt64?

    @Option(help: "Training epochs (overrides training.epochs).")
    var epochs: Int?

    @Option(help: "Run directory (default: runs/aliccp-esmm-<timestamp>).")
    var out: String?

    func run() throws {
        // Data is looked for from the current directory, then from this executable's place.
        if let executable = Bundle.main.executablePath { DataLocation.startingPoints = [executable] }
        // 1. The run configuration: data, ESMM towers, optimizer, schedule.
        var configuration = try RunConfiguration.load(path: try configurationPath())
        if let seed { configuration.training.seed = seed }
        if let epochs { configuration.training.epochs = epochs }
        guard configuration.model.model == .esmm else {
            throw ValidationError("this example trains ESMM; the configuration has model \(configuration.model.model.rawValue)")
        }

        // 2. The data: the configured files, or those of the command line.
        let dataset = try loadData(&configuration)
        try configuration.validate()
        let usesSample = train.isEmpty && valid.isEmpty && test.isEmpty && files.isEmpty
        print("Ali-CCP\(usesSample ? " (torch-rechub sample)" : ""): "
              + DatasetPart.allCases.map { describeRows(dataset, $0) }.joined(separator: "; "))
        print("\(dataset.fields.count) sparse fields, \(dataset.denseNames.count) dense; ESMM towers "
              + "\(configuration.model.towerHidden), \(configuration.optimizer.kind.rawValue) lr "
              + "\(configuration.optimizer.learningRate), batch \(configuration.training.batchSize), "
              + "\(configuration.training.epochs) epochs, seed \(configuration.training.seed)")

        // 3. Train, keep the best valid state, test it.
        let directory = URL(fileURLWithPath: out ?? "runs/\(configuration.name)-\(timestamp())")
        let run = try ModelRun.train(configuration, dataset: dataset, runDirectory: directory)

        // 4. The table, the caveats, then the JSON line (last).
        guard let evaluation = run.summary.test else {
            throw ValidationError("the data has no test rows: give --test files, or files to split")
        }
        let kept = run.bestEpoch.map { "the state after epoch \($0) (best mean valid AUC of CTR and CTCVR)" }
            ?? "the final state (the valid split could not rank: mean valid AUC undefined)"
        print("\ntest metrics of \(kept); run directory \(directory.path)")
        let outputs = evaluation.tasks.map { OutputReport($0) }
        let header = ["output", "rows", "examples", "positives", "AUC", "logloss"]
        let rows = outputs.map { o in
            [o.name, o.rows, String(o.examples), String(o.positives), o.aucText,
             o.logloss.flatMap { $0.isFinite ? String(format: "%.4f", $0) : nil } ?? "-"]
        }
        printTable(header: header, rows: rows)
        for o in outputs { if let reason = o.unavailableReason { print("\(o.name) AUC n/a: \(reason)") } }
        let caveat = sampleCaveat(outputs, testRows: dataset.splits.test.count)
        if let caveat { print("note: \(caveat)") }

        var line = JSONLine()
        line.add("model", run.modelName)
        line.addRaw("test_auc", "{" + outputs.map { JSONLine.quote($0.name) + ":" + JSONLine.number($0.auc) }
            .joined(separator: ",") + "}")
        line.addRaw("test_rows", "{" + outputs.map { o in
            JSONLine.quote(o.name) + ":{\"examples\":\(o.examples),\"positives\":\(o.positives)}"
        }.joined(separator: ",") + "}")
        let reasons = outputs.compactMap { o in o.unavailableReason.map { (o.name, $0) } }
        if !reasons.isEmpty {
            line.addRaw("auc_unavailable", "{" + reasons.map { JSONLine.quote($0.0) + ":" + JSONLine.quote($0.1) }
                .joined(separator: ",") + "}")
        }
        if let epoch = run.bestEpoch { line.add("best_epoch", epoch) } else { line.addNull("best_epoch") }
        line.add("train_samples_per_s", (run.summary.trainSamplesPerSecond * 10).rounded() / 10)
        line.addRaw("rows", "{" + DatasetPart.allCases.map { "\"\($0.rawValue)\":\(dataset.splits[$0].count)" }
            .joined(separator: ",") + "}")
        line.add("sample", usesSample)
        if let caveat { line.add("caveat", caveat) }
        print(line.json)
    }

    /// Loads the configured files, or the command line's (recorded in the
    /// configuration, so the run directory's config.json names them).
    func loadData(_ configuration: inout RunConfiguration) throws -> Dataset {
        let given = train.map { DataConfiguration.File(path: $0, part: .train) }
            + valid.map { DataConfiguration.File(path: $0, part: .valid) }
            + test.map { DataConfiguration.File(path: $0, part: .test) }
            + files.map { DataConfiguration.File(path: $0, part: nil) }
        if !given.isEmpty { configuration.data.files = given }
        if given.allSatisfy({ $0.part != nil }) { return try RunData.load(configuration.data) }
        // Files without a part: their rows are split 80/10/10 by a seeded
        // uniform draw per row (the schema's own rule puts them all in train).
        guard let schemaPath = configuration.data.schema else {
            throw ValidationError("the configuration's data section names no schema")
        }
        if configuration.data.tasks != nil || configuration.data.embeddingDimension != nil {
            throw ValidationError("files to split need a configuration without data.tasks and data.embedding_dimension")
        }
        var schema = try DataSchema.load(path: try RunData.resolve(schemaPath))
        schema.split = .random(validFraction: 0.1, testFraction: 0.1, seed: configuration.training.seed)
        let sources = try given.map { CSVSource(path: try RunData.resolve($0.path), part: $0.part) }
        return try CSVDatasetLoader.load(schema: schema, sources: sources, name: configuration.name)
    }

    /// `--config`, else config.json beside this source file, else in the checkout's examples/.
    func configurationPath() throws -> String {
        if let config { return config }
        let besideSource = URL(fileURLWithPath: #filePath).deletingLastPathComponent().appendingPathComponent("config.json")
        if FileManager.default.fileExists(atPath: besideSource.path) { return besideSource.path }
        if let root = DataLocation.repositoryRoot(from: FileManager.default.currentDirectoryPath) {
            return URL(fileURLWithPath: root).appendingPathComponent("examples/aliccp-esmm/config.json").path
        }
        throw ValidationError("config.json not found beside \(#filePath); pass --config")
    }
}

/// One ESMM output's test metrics and which rows they were computed on.
struct OutputReport {
    let name: String
    let rows: String
    let examples: Int
    let positives: Int
    let auc: Double
    let logloss: Double?
    let nonFinite: Bool

    init(_ t: TaskEvaluation) {
        name = t.name
        rows = t.name == "cvr" ? "clicked impressions" : "all impressions"
        examples = t.examples
        positives = t.positives ?? 0
        auc = t.auc ?? .nan
        logloss = t.logloss
        nonFinite = t.logloss.map { !$0.isFinite } ?? false
    }

    var aucText: String { auc.isFinite ? String(format: "%.4f", auc) : "n/a" }

    /// Why the AUC is undefined (nil when it is defined).
    var unavailableReason: String? {
        if auc.isFinite { return nil }
        let what = name == "cvr" ? "clicked impression" + (examples == 1 ? "" : "s") : "test row" + (examples == 1 ? "" : "s")
        let label = ["ctr": "click", "cvr": "purchase", "ctcvr": "click · purchase"][name] ?? "label"
        if examples == 0 { return name == "cvr" ? "no clicked impressions among the test rows" : "no test rows" }
        if positives == 0 && examples == 1 { return "the only \(what) has no positive \(label) label" }
        if positives == 0 { return "no positive \(label) label among the \(examples) \(what)" }
        if positives == examples { return "every one of the \(examples) \(what) has a positive \(label) label" }
        if nonFinite { return "non-finite predictions" }
        return "undefined"
    }
}

/// The caveat to print when the test split is too small for the AUC to mean
/// much: fewer than 1,000 rows, or fewer than 10 positives of some output.
func sampleCaveat(_ outputs: [OutputReport], testRows: Int) -> String? {
    let few = outputs.filter { $0.positives < 10 }
    guard testRows < 1000 || !few.isEmpty else { return nil }
    let counts = outputs.map { "\($0.name) \($0.positives) of \($0.examples)" }.joined(separator: ", ")
    return "tiny test split (\(testRows) rows; positives: \(counts)): these AUCs rank a handful of positives "
        + "and say nothing about model quality; the run shows that the pipeline works end to end"
}

func describeRows(_ dataset: Dataset, _ part: DatasetPart) -> String {
    let rows = dataset.splits[part]
    var clicks = 0, purchases = 0
    for r in rows {
        if dataset.labels[0][r] == 1 {
            clicks += 1
            if dataset.labels[1][r] == 1 { purchases += 1 }
        }
    }
    return "\(part.rawValue) \(rows.count) rows (\(clicks) click\(clicks == 1 ? "" : "s"), "
        + "\(purchases) purchase\(purchases == 1 ? "" : "s"))"
}

func printTable(header: [String], rows: [[String]]) {
    let widths = header.indices.map { c in max(header[c].count, rows.map { $0[c].count }.max() ?? 0) }
    for row in [header] + rows {
        print(row.indices.map { c in
            c <= 1 ? row[c].padding(toLength: widths[c], withPad: " ", startingAt: 0)
                   : String(repeating: " ", count: widths[c] - row[c].count) + row[c]
        }.joined(separator: "  "))
    }
}

func timestamp() -> String {
    let formatter = DateFormatter()
    formatter.dateFormat = "yyyyMMdd-HHmmss"
    return formatter.string(from: Date())
}

// OpenBLAS's generic kernels on a CPU it does not know: run again on the fitting ones.
BLASKernelChoice.relaunchOnFittingKernels()
AliCCPESMM.main()
