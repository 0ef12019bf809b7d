import Foundation
import XCTest
@testable import Ranker
@testable import RankerExperiments

/// `examples/census-mmoe`: its configuration keeps the census protocol's
/// fixed hyperparameters, and its pipeline (`ModelComparisonConfiguration` →
/// `ModelRun` → `SeedComparison.json`) gives the JSON line with the test
/// AUC of the kept state, and over several seeds their mean and std.
final class CensusExampleTests: XCTestCase {
    static var repositoryRoot: String { DataLocation.repositoryRoot(from: #filePath)! }

    static func exampleConfiguration() throws -> ModelComparisonConfiguration {
        try ModelComparisonConfiguration.load(path: repositoryRoot + "/examples/census-mmoe/config.json")
    }

    /// PROTOCOL.md's fixed settings: embedding 8; Adagrad lr 0.05 with
    /// initial accumulator 0.1; batch 1024; 10 epochs; towers [16]; the
    /// architectures of the peers; one embedding initialisation for all models.
    func testConfigurationKeepsTheProtocolSettings() throws {
        let c = try Self.exampleConfiguration()
        try c.validate()
        XCTAssertEqual(c.data.source, .census)
        XCTAssertEqual(c.data.embeddingDimension, 8)
        XCTAssertEqual(c.optimizer.kind.rawValue, "adagrad")
        XCTAssertEqual(c.optimizer.learningRate, 0.05)
        XCTAssertEqual(try c.optimizer.adagradOptions().initialAccumulatorValue, 0.1)
        XCTAssertEqual(c.training.batchSize, 1024)
        XCTAssertEqual(c.training.epochs, 10)
        XCTAssertEqual(c.training.mode, .epochs)
        XCTAssertEqual(c.training.evalEverySteps, 0, "model selection once per epoch")
        XCTAssertEqual(c.balancer, TaskBalancerConfiguration(FixedWeighting.Options()),
                       "BCE summed over the tasks")
        XCTAssertEqual(c.models.map(\.model), [.mmoe, .sharedBottom, .ple])
        for m in c.models { XCTAssertEqual(m.towerHidden, [16], m.model.rawValue) }
        let mmoe = c.models[0], sharedBottom = c.models[1], ple = c.models[2]
        XCTAssertEqual(mmoe.experts, 8)
        XCTAssertEqual(mmoe.expertHidden, [64, 32])
        XCTAssertEqual(sharedBottom.bottomHidden, [128, 64])
        XCTAssertEqual([ple.levels, ple.specificExperts, ple.sharedExperts], [1, 2, 2])
        XCTAssertEqual(ple.expertHidden, [64, 32])
        XCTAssertEqual(Set(c.models.map(\.embeddingInitStd)).count, 1, "one embedding initialisation for all models")
        XCTAssertEqual(Set(c.models.map(\.gateBias)).count, 1, "one gate-bias setting for all models")
        // torch-rechub's models (ALGORITHMS.md 3.2): BatchNorm after every hidden Linear and
        // before every gate softmax, dropout 0, torch.nn.Linear's own start.
        for m in c.models {
            XCTAssertTrue(m.batchNorm, m.model.rawValue)
            XCTAssertEqual(m.gateBatchNorm, m.model != .sharedBottom, m.model.rawValue)
            XCTAssertEqual(m.dropout, 0, m.model.rawValue)
            XCTAssertEqual(m.linearInit, .pytorch, m.model.rawValue)
            XCTAssertEqual(m.embeddingInitStd, ModelConfiguration(model: m.model, tasks: []).embeddingInitStd,
                           "the library's default embedding start")
        }
        let run = c.runConfiguration(for: ple)
        XCTAssertEqual(run.name, "census-mmoe-ple")
        XCTAssertEqual(run.model, ple)
        XCTAssertEqual(run.optimizer, c.optimizer)
        XCTAssertEqual(run.training, c.training)
    }

    func testComparisonConfigurationRejectsUnknownKeysAndRepeatedModels() throws {
        let unknown = #"{"data": {"source": "census"}, "models": [{"model": "mmoe"}], "model": {"model": "ple"}}"#
        XCTAssertThrowsError(try JSONDecoder().decode(ModelComparisonConfiguration.self, from: Data(unknown.utf8))) {
            XCTAssertTrue("\($0)".contains("unknown key \"model\" in model comparison"), "\($0)")
        }
        let twice = #"{"data": {"source": "census"}, "models": [{"model": "mmoe"}, {"model": "mmoe", "experts": 2}]}"#
        let c = try JSONDecoder().decode(ModelComparisonConfiguration.self, from: Data(twice.utf8))
        XCTAssertThrowsError(try c.validate()) { XCTAssertTrue("\($0)".contains("each architecture at most once"), "\($0)") }
        let none = #"{"data": {"source": "census"}, "models": []}"#
        XCTAssertThrowsError(try JSONDecoder().decode(ModelComparisonConfiguration.self, from: Data(none.utf8)).validate())
    }

    /// The census data and the example's configuration cut to Shared-Bottom
    /// (the fastest model) for one quiet epoch.
    private static func oneEpochOfSharedBottom() throws -> (Dataset, ModelComparisonConfiguration) {
        guard let dataset = try? CensusIncome.load() else {
            throw XCTSkip("census-income not found (set RANKER_DATA or run `make data`)")
        }
        var c = try exampleConfiguration()
        c.models = c.models.filter { $0.model == .sharedBottom }
        c.training.epochs = 1
        c.output.progress = .none
        c.output.report = false
        return (dataset, c)
    }

    /// The example's pipeline for one model (Shared-Bottom, the fastest), one
    /// epoch, on the census protocol:
    /// the JSON line has the documented structure, its AUCs are the test
    /// AUCs of the trained model (recomputed here with `Metrics.auc` on the
    /// test rows), and the best epoch is 1.
    func testOneModelForOneEpochGivesTheJSONLine() throws {
        let (dataset, c) = try Self.oneEpochOfSharedBottom()
        try c.validate()
        let directory = FileManager.default.temporaryDirectory.appendingPathComponent("ranker-census-example-\(UUID().uuidString)")
        defer { try? FileManager.default.removeItem(at: directory) }
        let run = try ModelRun.train(c.runConfiguration(for: c.models[0]), dataset: dataset,
                                     runDirectory: directory.appendingPathComponent("shared_bottom"))
        let line = try SeedComparison(seeds: [c.training.seed], runs: [[run]]).json
        XCTAssertFalse(line.contains("\n"), "one line")

        let object = try XCTUnwrap(try JSONSerialization.jsonObject(with: Data(line.utf8)) as? [String: Any])
        XCTAssertEqual(Set(object.keys), ["models", "seed", "seeds"])
        XCTAssertEqual(object["seed"] as? Int, Int(c.training.seed))
        XCTAssertEqual(object["seeds"] as? [Int], [Int(c.training.seed)])
        let models = try XCTUnwrap(object["models"] as? [[String: Any]])
        XCTAssertEqual(models.count, 1)
        let entry = models[0]
        XCTAssertEqual(Set(entry.keys), ["model", "test_auc", "best_epoch", "train_samples_per_s",
                                         "test_auc_mean", "test_auc_std", "per_seed"])
        // One seed: the mean is that run's AUC, the spread 0.
        XCTAssertEqual(entry["test_auc_mean"] as? [String: Double], entry["test_auc"] as? [String: Double])
        XCTAssertEqual(entry["test_auc_std"] as? [String: Double], ["income": 0, "marital": 0])
        XCTAssertEqual(entry["model"] as? String, "shared_bottom")
        XCTAssertEqual(entry["best_epoch"] as? Int, 1)
        XCTAssertGreaterThan(try XCTUnwrap(entry["train_samples_per_s"] as? Double), 0)
        let auc = try XCTUnwrap(entry["test_auc"] as? [String: Double])
        XCTAssertEqual(Set(auc.keys), ["income", "marital"])

        // The same numbers from the model and the test rows directly. (One
        // batch of all test rows: OpenBLAS may round a logit in the last bit
        // differently from the evaluator's batches of 4,096, which moves the
        // AUC by ~1e-8; a wrong row set or model state moves it by far more.)
        let test = dataset.splits.test
        let batch = dataset.makeBatch(capacity: test.count)
        dataset.fill(batch, rows: test)
        let logits = run.trainer.model.forward(batch)
        for (t, task) in ["income", "marital"].enumerated() {
            let scores = (0..<test.count).map { Double(logits[$0, t]) }
            let labels = test.map { dataset.labels[t][$0] }
            let expected = try Metrics.auc(scores: scores, labels: labels)
            XCTAssertEqual(try XCTUnwrap(auc[task]), expected, accuracy: 1e-6, task)
            // One epoch of this protocol already ranks well above chance.
            XCTAssertGreaterThan(expected, 0.85, task)
        }
    }

    /// `SeedComparison` (what `census-mmoe --seeds` prints) over two seeds of
    /// one epoch of Shared-Bottom: the JSON line keeps the single-run keys
    /// (the first seed's run), adds `test_auc_mean` / `test_auc_std`
    /// (population form) over the seeds' test AUCs and a `per_seed` list, and
    /// the summary compares the mean with the peer. A run listed under the
    /// wrong seed is an error.
    func testTwoSeedsGiveMeanAndStdInTheJSONLine() throws {
        let (dataset, base) = try Self.oneEpochOfSharedBottom()
        var c = base
        let directory = FileManager.default.temporaryDirectory.appendingPathComponent("ranker-census-seeds-\(UUID().uuidString)")
        defer { try? FileManager.default.removeItem(at: directory) }
        var runs: [[ModelRun]] = []
        for seed: UInt64 in [3, 1] {
            c.training.seed = seed
            runs.append([try ModelRun.train(c.runConfiguration(for: c.models[0]), dataset: dataset,
                                            runDirectory: directory.appendingPathComponent("seed-\(seed)"))])
        }
        XCTAssertThrowsError(try SeedComparison(seeds: [1, 3], runs: runs)) {
            XCTAssertTrue("\($0)".contains("listed under seed 1 was trained with seed 3"), "\($0)")
        }
        XCTAssertThrowsError(try SeedComparison(seeds: [3], runs: runs))
        let comparison = try SeedComparison(seeds: [3, 1], runs: runs)
        let line = comparison.json
        XCTAssertFalse(line.contains("\n"), "one line")
        let object = try XCTUnwrap(try JSONSerialization.jsonObject(with: Data(line.utf8)) as? [String: Any])
        XCTAssertEqual(Set(object.keys), ["models", "seed", "seeds"])
        XCTAssertEqual(object["seed"] as? Int, 3)
        XCTAssertEqual(object["seeds"] as? [Int], [3, 1])
        let entry = try XCTUnwrap((object["models"] as? [[String: Any]])?.first)
        XCTAssertEqual(Set(entry.keys), ["model", "test_auc", "best_epoch", "train_samples_per_s",
                                         "test_auc_mean", "test_auc_std", "per_seed"])
        let first = try XCTUnwrap(entry["test_auc"] as? [String: Double])
        let mean = try XCTUnwrap(entry["test_auc_mean"] as? [String: Double])
        let std = try XCTUnwrap(entry["test_auc_std"] as? [String: Double])
        let perSeed = try XCTUnwrap(entry["per_seed"] as? [[String: Any]])
        XCTAssertEqual(perSeed.map { $0["seed"] as? Int }, [3, 1])
        for (s, run) in zip(perSeed, [runs[0][0], runs[1][0]]) {
            let auc = try XCTUnwrap(s["test_auc"] as? [String: Double])
            // (JSONSerialization may read the shortest decimal back one ulp off.)
            for (task, value) in run.testAUC { XCTAssertEqual(try XCTUnwrap(auc[task]), value, accuracy: 1e-12) }
        }
        for task in ["income", "marital"] {
            let a = try XCTUnwrap(runs[0][0].testAUC.first { $0.output == task }?.auc)
            let b = try XCTUnwrap(runs[1][0].testAUC.first { $0.output == task }?.auc)
            XCTAssertNotEqual(a, b, "\(task): different seeds give different runs")
            XCTAssertEqual(try XCTUnwrap(first[task]), a, accuracy: 1e-12, "test_auc is the first seed's")
            XCTAssertEqual(try XCTUnwrap(mean[task]), (a + b) / 2, accuracy: 1e-12)
            XCTAssertEqual(try XCTUnwrap(std[task]), abs(a - b) / 2, accuracy: 1e-12)
        }

        let summary = try comparison.summary(peers: ["shared_bottom": ["income": 0.5, "marital": 1.0]], peerLabel: "test")
        XCTAssertEqual(summary.models.map(\.name), ["shared_bottom"])
        XCTAssertEqual(summary.models[0].tasks.map(\.atOrAbovePeer), [true, false])
        XCTAssertEqual(summary.models[0].tasks[0].testAUC.mean, try XCTUnwrap(mean["income"]), accuracy: 1e-12)
    }
}
