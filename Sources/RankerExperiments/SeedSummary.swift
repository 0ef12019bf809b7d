import Foundation

/// Test AUC of several models over several seeds, per task: mean and
/// population standard deviation beside a peer's published mean, and whether
/// the mean is at or above it. `examples/census-mmoe --seeds` prints it beside
/// the torch-rechub peers' 5-seed means of
/// `shared/data/census-income/PROTOCOL.md`.
///
/// "At or above" compares at the peer's published precision: the mean is
/// rounded to `peerDecimals` decimals (as the table prints it) and then
/// compared with the peer's number, so the column never contradicts the two
/// numbers printed beside it.
public struct SeedSummary: Equatable, Sendable {
    /// Decimals of the peers' published AUCs (PROTOCOL.md gives four).
    public static let peerDecimals = 4

    /// Mean and spread over the seeds.
    public typealias Statistic = SeedStatistic

    /// One task of one model.
    public struct Task: Equatable, Sendable {
        public var name: String
        public var testAUC: Statistic
        /// The peer's mean test AUC of this model and task; nil when none is known.
        public var peerMean: Double?

        /// Whether `testAUC.mean`, rounded to `peerDecimals`, is at or above
        /// `peerMean`; nil without a peer or with a NaN mean.
        public var atOrAbovePeer: Bool? {
            guard let peerMean, testAUC.mean.isFinite else { return nil }
            return SeedSummary.rounded(testAUC.mean) >= peerMean
        }
    }

    /// One model's row.
    public struct Model: Equatable, Sendable {
        public var name: String
        public var tasks: [Task]
        /// Training samples per second of each seed's run.
        public var samplesPerSecond: Statistic

        public init(name: String, tasks: [Task], samplesPerSecond: Statistic) {
            self.name = name
            self.tasks = tasks
            self.samplesPerSecond = samplesPerSecond
        }

        /// From per-seed results: `testAUC` lists (task, AUC) per seed in the
        /// same task order for every seed; `peer` maps a task name to the
        /// peer's mean for this model.
        /// - Throws: `SeedSummaryError` when the seeds disagree on the tasks or
        ///   the counts of AUC lists and speeds differ.
        public init(name: String, testAUC: [[(task: String, auc: Double)]], samplesPerSecond: [Double],
                    peer: [String: Double]) throws {
            guard let first = testAUC.first, testAUC.count == samplesPerSecond.count else {
                throw SeedSummaryError(message: "\(name): \(testAUC.count) seeds of test AUC, "
                                       + "\(samplesPerSecond.count) of samples/s")
            }
            let names = first.map(\.task)
            for seedAUC in testAUC where seedAUC.map(\.task) != names {
                throw SeedSummaryError(message: "\(name): the seeds report different tasks ("
                                       + names.joined(separator: ", ") + " and "
                                       + seedAUC.map(\.task).joined(separator: ", ") + ")")
            }
            let tasks = names.indices.map { t in
                Task(name: names[t], testAUC: Statistic(values: testAUC.map { $0[t].auc }, spread: .population), peerMean: peer[names[t]])
            }
            self.init(name: name, tasks: tasks, samplesPerSecond: Statistic(values: samplesPerSecond, spread: .population))
        }
    }

    public var seeds: [UInt64]
    public var models: [Model]
    /// What the peer column is, printed above the table (e.g. "torch-rechub, seeds 0–4, PROTOCOL.md").
    public var peerLabel: String

    public init(seeds: [UInt64], models: [Model], peerLabel: String) {
        self.seeds = seeds
        self.models = models
        self.peerLabel = peerLabel
    }

    static func rounded(_ value: Double) -> Double {
        let scale = pow(10, Double(peerDecimals))
        return (value * scale).rounded() / scale
    }

    /// The table: one row per model; per task the mean ± std, the peer's mean
    /// and "yes"/"NO" for at or above it ("-" without a peer); then the mean
    /// samples/s. Tasks are the first model's.
    public func text() -> String {
        let taskNames = models.first?.tasks.map(\.name) ?? []
        var header = ["model"]
        for task in taskNames { header += ["\(task) mean ± std", "peer", "≥ peer"] }
        header.append("samples/s")
        var rows: [[String]] = []
        for model in models {
            var row = [model.name]
            for name in taskNames {
                guard let task = model.tasks.first(where: { $0.name == name }) else { row += ["-", "-", "-"]; continue }
                row.append(Self.format(task.testAUC.mean) + " ± " + Self.format(task.testAUC.standardDeviation))
                row.append(task.peerMean.map(Self.format) ?? "-")
                row.append(task.atOrAbovePeer.map { $0 ? "yes" : "NO" } ?? "-")
            }
            row.append(model.samplesPerSecond.mean.isFinite ? String(format: "%.0f", model.samplesPerSecond.mean) : "n/a")
            rows.append(row)
        }
        let widths = header.indices.map { c in max(header[c].count, rows.map { $0[c].count }.max() ?? 0) }
        let seedText = seeds.map(String.init).joined(separator: ", ")
        var lines = ["test AUC over seeds \(seedText) (mean ± population std); peer: \(peerLabel)"]
        for row in [header] + rows {
            lines.append(row.indices.map { c in
                c == 0 ? row[c].padding(toLength: widths[c], withPad: " ", startingAt: 0)
                       : String(repeating: " ", count: widths[c] - row[c].count) + row[c]
            }.joined(separator: "  "))
        }
        return lines.joined(separator: "\n")
    }

    static func format(_ value: Double) -> String {
        value.isFinite ? String(format: "%.4f", value) : "n/a"
    }
}

/// Per-seed results that cannot be summarised together.
public struct SeedSummaryError: Error, Equatable, CustomStringConvertible {
    public let message: String
    public var description: String { "seed summary: \(message)" }
}
