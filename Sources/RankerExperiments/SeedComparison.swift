import Foundation
import Ranker

/// The same models trained once per seed (`examples/census-mmoe --seeds`):
/// the runs of every seed, their `SeedSummary` beside a peer, and the JSON
/// line with the test AUC's mean and standard deviation over the seeds.
public struct SeedComparison {
    /// The seeds in the order they ran.
    public let seeds: [UInt64]
    /// Per seed (in `seeds` order), the run of each model, in the same model order for every seed.
    public let runs: [[ModelRun]]

    /// - Throws: `SeedSummaryError` when there are no seeds, the counts
    ///   differ, the seeds' runs are not the same models in the same order,
    ///   or a run was trained with another seed than the one it is listed under.
    public init(seeds: [UInt64], runs: [[ModelRun]]) throws {
        guard !seeds.isEmpty, seeds.count == runs.count else {
            throw SeedSummaryError(message: "\(seeds.count) seeds but \(runs.count) lists of runs")
        }
        let names = runs[0].map(\.modelName)
        for (seed, seedRuns) in zip(seeds, runs) {
            if seedRuns.map(\.modelName) != names {
                throw SeedSummaryError(message: "seed \(seed) ran " + seedRuns.map(\.modelName).joined(separator: ", ")
                                       + ", seed \(seeds[0]) ran " + names.joined(separator: ", "))
            }
            for run in seedRuns where run.configuration.training.seed != seed {
                throw SeedSummaryError(message: "the \(run.modelName) run listed under seed \(seed) "
                                       + "was trained with seed \(run.configuration.training.seed)")
            }
        }
        self.seeds = seeds
        self.runs = runs
    }

    /// The models' names in run order.
    public var modelNames: [String] { runs[0].map(\.modelName) }

    /// One model's runs, one per seed.
    func runs(ofModel m: Int) -> [ModelRun] { runs.map { $0[m] } }

    /// Mean ± std of each model's test AUC per task beside `peers`
    /// (model name → task name → the peer's mean; models and tasks missing
    /// from it get no peer column).
    public func summary(peers: [String: [String: Double]], peerLabel: String) throws -> SeedSummary {
        let models = try modelNames.indices.map { m in
            let modelRuns = runs(ofModel: m)
            return try SeedSummary.Model(name: modelNames[m],
                                         testAUC: modelRuns.map { $0.testAUC.map { (task: $0.output, auc: $0.auc) } },
                                         samplesPerSecond: modelRuns.map(\.summary.trainSamplesPerSecond),
                                         peer: peers[modelNames[m]] ?? [:])
        }
        return SeedSummary(seeds: seeds, models: models, peerLabel: peerLabel)
    }

    /// One JSON line:
    ///
    ///     {"models": [{"model": "mmoe", "test_auc": {…}, "best_epoch": 10, "train_samples_per_s": …,
    ///                  "test_auc_mean": {"income": …, "marital": …},
    ///                  "test_auc_std": {"income": …, "marital": …},
    ///                  "per_seed": [{"model": "mmoe", "test_auc": {…}, "best_epoch": …,
    ///                                "train_samples_per_s": …, "seed": 0}, …]}, …],
    ///      "seed": 0, "seeds": [0, 1, 2, 3, 4]}
    ///
    /// The keys of a single run (`test_auc`, `best_epoch`,
    /// `train_samples_per_s`, and the top-level `seed`) keep their meaning:
    /// they are the run of the first seed, so a script written for one seed
    /// reads the same numbers as `--seed <first>` prints. `test_auc_mean` and
    /// `test_auc_std` (population form) are over all seeds; with one seed
    /// they equal `test_auc` and 0. AUCs that are NaN are written as `null`.
    public var json: String {
        var modelObjects: [String] = []
        for m in modelNames.indices {
            let modelRuns = runs(ofModel: m)
            var line = modelRuns[0].resultLine
            let tasks = modelRuns[0].testAUC.map(\.output)
            let statistics = tasks.indices.map { t in
                SeedSummary.Statistic(values: modelRuns.map { $0.testAUC[t].auc }, spread: .population)
            }
            line.add("test_auc_mean", pairs: zip(tasks, statistics.map(\.mean)).map { ($0, $1) })
            line.add("test_auc_std", pairs: zip(tasks, statistics.map(\.standardDeviation)).map { ($0, $1) })
            line.addRaw("per_seed", "[" + zip(seeds, modelRuns).map { seed, run in
                var perSeed = run.resultLine
                perSeed.addRaw("seed", String(seed))
                return perSeed.json
            }.joined(separator: ",") + "]")
            modelObjects.append(line.json)
        }
        var line = JSONLine()
        line.addRaw("models", "[" + modelObjects.joined(separator: ",") + "]")
        line.addRaw("seed", String(seeds[0]))
        line.addRaw("seeds", "[" + seeds.map(String.init).joined(separator: ",") + "]")
        return line.json
    }
}
