// The stability example's command line (main.swift runs the experiment).
import ArgumentParser
import Ranker
import RankerExperiments

/// A comma-separated list of numbers (`1,2,4`).
func commaSeparated<T: LosslessStringConvertible>(_ text: String) throws -> [T] {
    let parsed = text.split(separator: ",").map { T(String($0)) }
    guard !parsed.isEmpty, parsed.allSatisfy({ $0 != nil }) else { throw ValidationError("cannot read \"\(text)\"") }
    return parsed.map { $0! }
}

struct StabilityCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "stability",
        abstract: "The Clippy paper's stability experiment: methods x learning-rate multipliers x seeds, per setting.",
        discussion: "The settings are in examples/stability/stability.json (StabilityExperiment). Divergence is judged "
            + "from the training loss. Prints one line per run, per setting the table and the paper's claims, the "
            + "wall time, and as the last line one JSON object with the results; writes stability.html and one "
            + "Clippy report.html per setting into --out.")

    @Flag(help: "The whole grid as written in the file (default: the file's \"quick\" sweep, fewer seeds and multipliers).")
    var full = false

    @Option(name: .customLong("config"), help: ArgumentHelp("Another experiment file.", valueName: "path"))
    var configPath: String?

    @Option(name: .customLong("runs"),
            help: ArgumentHelp("Keep every run's directory (telemetry, report.html) under this directory.", valueName: "dir"))
    var runsDirectory: String?

    @Option(name: .customLong("out"),
            help: ArgumentHelp("Where stability.html and the Clippy reports go (default runs/stability).", valueName: "dir"))
    var outDirectory = "runs/stability"

    @Option(help: ArgumentHelp("Only these settings, comma-separated (names as in the file).", valueName: "a,b"),
            transform: { $0.split(separator: ",").map(String.init) })
    var settings: [String]?

    @Option(help: ArgumentHelp("Only these methods, comma-separated (names as in the file).", valueName: "a,b"),
            transform: { $0.split(separator: ",").map(String.init) })
    var methods: [String]?

    @Option(help: ArgumentHelp("Only these learning-rate multipliers, comma-separated.", valueName: "4,8"),
            transform: commaSeparated)
    var multipliers: [Double]?

    @Option(help: ArgumentHelp("These seeds, comma-separated.", valueName: "1,2"), transform: commaSeparated)
    var seeds: [UInt64]?

    @Option(name: .customLong("base-lr"), help: ArgumentHelp("Another base learning rate (every setting).", valueName: "x"))
    var baseLearningRate: Double?

    @Option(help: ArgumentHelp("Another number of synthetic rows.", valueName: "n"))
    var rows: Int?

    @Option(name: .customLong("last-batch"),
            help: ArgumentHelp("A day's remainder rows: drop (every batch full; the default) or partial (trained as a small batch).",
                               valueName: "drop|partial"))
    var lastBatch: TrainingSettings.LastBatch?

    @Flag(name: .customLong("no-edge-report"), help: "Skip the report.html of a Clippy run near its edge.")
    var noEdgeReport = false

    @Option(help: ArgumentHelp("Run the trials on N processes (one trial each at a time): re-runs this command under "
                               + "mpirun -np N; rank 0 prints the same output as one process. Under mpirun, the "
                               + "job's size is used instead.", valueName: "N"))
    var ranks: Int?

    func validate() throws {
        if let n = ranks, n < 1 { throw ValidationError("--ranks must be at least 1, got \(n)") }
    }
}

extension TrainingSettings.LastBatch: ExpressibleByArgument {}
