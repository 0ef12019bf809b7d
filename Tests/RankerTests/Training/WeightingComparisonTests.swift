import Foundation
import XCTest
@testable import Ranker
@testable import RankerExperiments

/// The building block of `examples/weighting`: runs of two methods × two seeds
/// on a tiny synthetic log, and the table's arithmetic checked against the
/// per-run numbers the trainer wrote into each run's telemetry (read back with
/// JSONSerialization and averaged here with plain loops).
final class WeightingComparisonTests: RunDirectoryTestCase {
    /// Fixed and GradCraft on a 2,000-row, 3-task log with a one-level PLE.
    static func tinyComparison() -> WeightingComparison {
        var synthetic = SyntheticClickLogConfig()
        synthetic.rows = 2_000
        synthetic.users = 100
        synthetic.items = 300
        synthetic.tasks = 3
        synthetic.positiveRates = [0.3, 0.15, 0.08]
        synthetic.embeddingDimension = 4
        synthetic.testFraction = 0.25
        var training = TrainingSettings()
        training.epochs = 2
        training.batchSize = 128
        let shared = RunConfiguration(
            name: "tiny",
            data: DataConfiguration(source: .synthetic, synthetic: synthetic),
            model: ModelConfiguration(model: .ple, tasks: [], expertHidden: [16], levels: 1, specificExperts: 1,
                                      sharedExperts: 1, towerHidden: [8]),
            optimizer: OptimizerConfiguration(AdagradRule.self, learningRate: 0.05,
                                              configuration: AdagradConfiguration(form: .pytorch)),
            training: training)
        return WeightingComparison(
            shared: shared,
            methods: [WeightingComparison.Method(name: "Fixed", balancer: TaskBalancerConfiguration(FixedWeighting.Options())),
                      WeightingComparison.Method(name: "GradCraft",
                                                 balancer: TaskBalancerConfiguration(GradCraft.Options()))],
            seeds: [1, 2])
    }

    /// The `test` metrics of a run's `end` telemetry line: `[task: (auc, gauc)]`.
    func telemetryTest(_ directory: URL) throws -> [String: (auc: Double, gauc: Double)] {
        let text = try String(contentsOf: directory.appendingPathComponent("telemetry.jsonl"), encoding: .utf8)
        let end = try XCTUnwrap(text.split(separator: "\n").compactMap { line -> [String: Any]? in
            let object = try? JSONSerialization.jsonObject(with: Data(line.utf8)) as? [String: Any]
            return object?["type"] as? String == "end" ? object : nil
        }.last)
        let test = try XCTUnwrap(end["test"] as? [String: [String: Any]])
        return try test.mapValues { m in
            (try XCTUnwrap(m["auc"] as? Double), try XCTUnwrap(m["gauc"] as? Double))
        }
    }

    func testTableArithmeticMatchesThePerRunTelemetry() throws {
        let comparison = Self.tinyComparison()
        try comparison.validate()
        let dataset = try RunData.load(comparison.data)
        let root = temporaryDirectory("runs")
        var runs: [WeightingComparisonRun] = []
        // Per-run numbers from the telemetry: [method][seed][task] -> (auc, gauc).
        var telemetry: [[[String: (auc: Double, gauc: Double)]]] = []
        for method in comparison.methods {
            var perSeed: [[String: (auc: Double, gauc: Double)]] = []
            for seed in comparison.seeds {
                let directory = root.appendingPathComponent("\(method.name)-\(seed)")
                let run = try WeightingComparisonRun.train(comparison, method: method, seed: seed, dataset: dataset,
                                                           runDirectory: directory)
                XCTAssertNil(run.failure)
                XCTAssertEqual(run.stopReason, .completed)
                runs.append(run)
                perSeed.append(try telemetryTest(directory))
            }
            telemetry.append(perSeed)
        }
        let taskNames = ["task_1", "task_2", "task_3"]
        // The block reports exactly the trainer's test evaluation of the kept state.
        for (i, run) in runs.enumerated() {
            let logged = telemetry[i / 2][i % 2]
            XCTAssertEqual(run.tasks.map(\.name), taskNames)
            for task in run.tasks {
                XCTAssertEqual(task.auc, logged[task.name]!.auc, accuracy: 1e-12)
                XCTAssertEqual(task.gauc, logged[task.name]!.gauc, accuracy: 1e-12)
            }
        }
        // Two seeds must train different models (otherwise the spread is meaningless).
        XCTAssertNotEqual(telemetry[0][0]["task_1"]!.auc, telemetry[0][1]["task_1"]!.auc)

        let table = try WeightingComparisonTable(runs: runs.reversed(), methods: ["Fixed", "GradCraft"],
                                                 seeds: [1, 2], baseline: "Fixed")
        XCTAssertEqual(table.taskNames, taskNames)
        XCTAssertEqual(table.countedAUCTasks, [0, 1, 2])

        // Independent arithmetic from the telemetry numbers.
        func mean(_ xs: [Double]) -> Double {
            var s = 0.0
            for x in xs { s += x }
            return s / Double(xs.count)
        }
        func sampleSD(_ a: Double, _ b: Double) -> Double { abs(a - b) / 2.0.squareRoot() }  // n = 2
        var methodMeanAUC: [Double] = [], methodMeanGAUC: [Double] = []
        var runMeansAUC: [[Double]] = [], runMeansGAUC: [[Double]] = []
        for m in 0..<2 {
            let row = table.rows[m]
            for (t, name) in taskNames.enumerated() {
                let a = telemetry[m].map { $0[name]!.auc }, g = telemetry[m].map { $0[name]!.gauc }
                XCTAssertEqual(row.auc[t].mean, (a[0] + a[1]) / 2, accuracy: 1e-12)
                XCTAssertEqual(row.auc[t].standardDeviation, sampleSD(a[0], a[1]), accuracy: 1e-12)
                XCTAssertEqual(row.gauc[t].mean, (g[0] + g[1]) / 2, accuracy: 1e-12)
                XCTAssertEqual(row.gauc[t].standardDeviation, sampleSD(g[0], g[1]), accuracy: 1e-12)
            }
            let perSeedAUC = telemetry[m].map { r in mean(taskNames.map { r[$0]!.auc }) }
            let perSeedGAUC = telemetry[m].map { r in mean(taskNames.map { r[$0]!.gauc }) }
            runMeansAUC.append(perSeedAUC)
            runMeansGAUC.append(perSeedGAUC)
            methodMeanAUC.append(mean(perSeedAUC))
            methodMeanGAUC.append(mean(perSeedGAUC))
            XCTAssertEqual(row.meanAUC.mean, methodMeanAUC[m], accuracy: 1e-12)
            XCTAssertEqual(row.meanGAUC.mean, methodMeanGAUC[m], accuracy: 1e-12)
            XCTAssertEqual(row.meanAUC.standardDeviation, sampleSD(perSeedAUC[0], perSeedAUC[1]), accuracy: 1e-12)
            for s in 0..<2 { XCTAssertEqual(row.meanAUC.values[s], perSeedAUC[s], accuracy: 1e-12) }
        }
        XCTAssertEqual(table.rows[0].relativeImprovementAUC, 0)
        XCTAssertEqual(table.rows[1].relativeImprovementAUC, (methodMeanAUC[1] - methodMeanAUC[0]) / methodMeanAUC[0] * 100,
                       accuracy: 1e-9)
        XCTAssertEqual(table.rows[1].relativeImprovementGAUC,
                       (methodMeanGAUC[1] - methodMeanGAUC[0]) / methodMeanGAUC[0] * 100, accuracy: 1e-9)
        for s in 0..<2 {
            XCTAssertEqual(table.rows[1].pairedImprovementAUC.values[s],
                           (runMeansAUC[1][s] - runMeansAUC[0][s]) / runMeansAUC[0][s] * 100, accuracy: 1e-9)
            XCTAssertEqual(table.rows[1].pairedImprovementGAUC.values[s],
                           (runMeansGAUC[1][s] - runMeansGAUC[0][s]) / runMeansGAUC[0][s] * 100, accuracy: 1e-9)
        }

        // The JSON line carries the same numbers.
        let json = try XCTUnwrap(JSONSerialization.jsonObject(with: Data(table.json().utf8)) as? [String: Any])
        let methods = try XCTUnwrap(json["methods"] as? [[String: Any]])
        XCTAssertEqual(methods.map { $0["name"] as? String }, ["Fixed", "GradCraft"])
        let gradCraft = methods[1]
        XCTAssertEqual(try XCTUnwrap((gradCraft["mean_auc"] as? [String: Any])?["mean"] as? Double), methodMeanAUC[1],
                       accuracy: 1e-12)
        XCTAssertEqual(try XCTUnwrap(gradCraft["relative_improvement_gauc_percent"] as? Double),
                       (methodMeanGAUC[1] / methodMeanGAUC[0] - 1) * 100, accuracy: 1e-9)
        let perTask = try XCTUnwrap(gradCraft["auc"] as? [String: [String: Any]])
        let perSeed = try XCTUnwrap(perTask["task_2"]?["per_seed"] as? [Double])
        XCTAssertEqual(perSeed.count, 2)
        for (value, logged) in zip(perSeed, telemetry[1].map({ $0["task_2"]!.auc })) {
            XCTAssertEqual(value, logged, accuracy: 1e-15)
        }

        // The text table rounds the same means to 4 decimals.
        let text = table.text()
        let fixedLine = try XCTUnwrap(text.split(separator: "\n").first { $0.hasPrefix("Fixed ") })
        XCTAssertTrue(fixedLine.contains(String(format: "%.4f", methodMeanAUC[0])), String(fixedLine))
        let gradCraftLine = try XCTUnwrap(text.split(separator: "\n").first { $0.hasPrefix("GradCraft ") })
        XCTAssertTrue(gradCraftLine.hasSuffix(String(format: "%+.2f%%", (methodMeanGAUC[1] / methodMeanGAUC[0] - 1) * 100)),
                      String(gradCraftLine))
    }

    /// Hand-made runs: the means and improvements by hand, a task with one
    /// class left out of the means, a stopped run's NaN propagating.
    func testTableClosedForm() throws {
        func run(_ method: String, _ seed: UInt64, auc: [Double], gauc: [Double], failure: String? = nil) -> WeightingComparisonRun {
            // task c has no positives on the split: no AUC, no GAUC users.
            let tasks = [
                WeightingComparisonRun.TaskScore(name: "a", examples: 100, positives: 30, auc: auc[0], gauc: gauc[0], gaucUsers: 9),
                WeightingComparisonRun.TaskScore(name: "b", examples: 100, positives: 5, auc: auc[1], gauc: gauc[1], gaucUsers: 3),
                WeightingComparisonRun.TaskScore(name: "c", examples: 100, positives: 0, auc: .nan, gauc: .nan, gaucUsers: 0),
            ]
            return WeightingComparisonRun(method: method, seed: seed, split: .test, tasks: tasks, failure: failure)
        }
        let runs = [
            run("Fixed", 1, auc: [0.70, 0.80], gauc: [0.60, 0.70]),
            run("Fixed", 2, auc: [0.72, 0.78], gauc: [0.62, 0.68]),
            run("B", 1, auc: [0.74, 0.80], gauc: [0.66, 0.70]),
            run("B", 2, auc: [0.70, 0.84], gauc: [0.60, 0.72]),
            run("C", 1, auc: [0.70, 0.80], gauc: [0.60, 0.70]),
            run("C", 2, auc: [.nan, .nan], gauc: [.nan, .nan], failure: "non-finite loss"),
        ]
        let table = try WeightingComparisonTable(runs: runs, methods: ["Fixed", "B", "C"], seeds: [1, 2], baseline: "Fixed")
        XCTAssertEqual(table.countedAUCTasks, [0, 1])
        XCTAssertEqual(table.uncountedAUCTasks, ["c"])
        XCTAssertEqual(table.uncountedGAUCTasks, ["c"])
        XCTAssertEqual(table.positiveRates, [0.3, 0.05, 0])
        let fixed = table.rows[0], b = table.rows[1], c = table.rows[2]
        XCTAssertEqual(fixed.meanAUC.values, [0.75, 0.75])
        XCTAssertEqual(fixed.meanAUC.mean, 0.75, accuracy: 1e-15)
        XCTAssertEqual(fixed.meanAUC.standardDeviation, 0, accuracy: 1e-15)
        XCTAssertEqual(fixed.meanGAUC.mean, 0.65, accuracy: 1e-15)
        XCTAssertEqual(b.auc[0].mean, 0.72, accuracy: 1e-15)
        XCTAssertEqual(b.auc[0].standardDeviation, 0.04 / 2.0.squareRoot(), accuracy: 1e-15)
        XCTAssertEqual(b.meanAUC.mean, 0.77, accuracy: 1e-15)
        XCTAssertEqual(b.relativeImprovementAUC, 100.0 * 0.02 / 0.75, accuracy: 1e-12)      // +2.6667 %
        XCTAssertEqual(b.meanGAUC.mean, 0.67, accuracy: 1e-15)
        XCTAssertEqual(b.relativeImprovementGAUC, 100.0 * 0.02 / 0.65, accuracy: 1e-12)     // +3.0769 %
        XCTAssertEqual(b.pairedImprovementGAUC.values[0], 100.0 * (0.68 / 0.65 - 1), accuracy: 1e-12)
        XCTAssertEqual(b.pairedImprovementGAUC.values[1], 100.0 * (0.66 / 0.65 - 1), accuracy: 1e-12)
        XCTAssertTrue(c.meanAUC.mean.isNaN)
        XCTAssertTrue(c.relativeImprovementAUC.isNaN)
        XCTAssertEqual(c.auc[0].values[0], 0.70)
        XCTAssertEqual(table.failures, ["C seed 2: non-finite loss"])
        let text = table.text()
        XCTAssertTrue(text.contains("+2.67%"), text)
        XCTAssertTrue(text.contains("+3.08%"), text)
        XCTAssertTrue(text.contains("Not in the AUC means (one class only on this split): c."), text)
        // Missing and duplicated runs are errors.
        XCTAssertThrowsError(try WeightingComparisonTable(runs: Array(runs.dropLast()), methods: ["Fixed", "B", "C"],
                                                          seeds: [1, 2], baseline: "Fixed"))
        XCTAssertThrowsError(try WeightingComparisonTable(runs: runs + [runs[0]], methods: ["Fixed", "B", "C"],
                                                          seeds: [1, 2], baseline: "Fixed"))
        XCTAssertThrowsError(try WeightingComparisonTable(runs: runs, methods: ["B", "C"], seeds: [1, 2], baseline: "Fixed"))
    }

    /// A task with one class on the valid split has no AUC: the trainer must
    /// not take that for a divergence (it used to stop the run), and the
    /// comparison leaves the task out of the means.
    func testSingleClassTaskDoesNotStopTheRun() throws {
        var comparison = Self.tinyComparison()
        comparison.seeds = [1]
        comparison.training.epochs = 1
        let base = try RunData.load(comparison.data)
        var labels = base.labels
        labels[2] = [Float](repeating: 0, count: base.count)  // task_3: never positive
        let dataset = Dataset(name: base.name, fields: base.fields, denseNames: base.denseNames, tasks: base.tasks,
                              ids: base.ids, dense: base.dense, labels: labels, users: base.users, days: base.days,
                              splits: base.splits)
        var runs: [WeightingComparisonRun] = []
        for method in comparison.methods {
            let run = try WeightingComparisonRun.train(comparison, method: method, seed: 1, dataset: dataset,
                                                       runDirectory: temporaryDirectory(method.name))
            XCTAssertNil(run.failure)
            XCTAssertEqual(run.stopReason, .completed)
            XCTAssertTrue(run.tasks[2].auc.isNaN)
            XCTAssertTrue(run.tasks[0].auc.isFinite)
            runs.append(run)
        }
        let table = try WeightingComparisonTable(runs: runs, methods: ["Fixed", "GradCraft"], seeds: [1], baseline: "Fixed")
        XCTAssertEqual(table.countedAUCTasks, [0, 1])
        XCTAssertEqual(table.rows[1].meanAUC.mean, (runs[1].tasks[0].auc + runs[1].tasks[1].auc) / 2, accuracy: 1e-12)
        XCTAssertTrue(table.rows[1].meanAUC.standardDeviation.isNaN)  // one seed: no spread
    }

    /// The shipped example configuration decodes, validates, and compares the
    /// six methods the example promises on a one-level PLE.
    func testExampleConfigurationIsValid() throws {
        let root = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent()
            .deletingLastPathComponent().deletingLastPathComponent()
        let comparison = try WeightingComparison.load(path: root.appendingPathComponent("examples/weighting/config.json").path)
        XCTAssertEqual(comparison.methods.map(\.name), ["Fixed", "DWA", "GradNorm", "UW", "GradCraft", "PCGrad"])
        XCTAssertEqual(comparison.baseline, "Fixed")
        XCTAssertEqual(comparison.model.model, .ple)
        XCTAssertEqual(comparison.model.levels, 1)
        XCTAssertEqual(comparison.data.synthetic?.tasks, 5)
        let full = comparison.applyingFull()
        XCTAssertEqual(full.seeds, [1, 2, 3, 4, 5])
        XCTAssertGreaterThan(full.data.synthetic?.rows ?? 0, comparison.data.synthetic?.rows ?? 0)
        XCTAssertThrowsError(try JSONDecoder().decode(WeightingComparison.self, from: Data("""
            {"data": {"source": "synthetic"}, "model": {"model": "ple"}, "optimizer": {"kind": "adagrad"},
             "methods": [], "seeds": [1], "colour": 1}
            """.utf8)))
    }

    /// The message `WeightingComparison.load` throws for a file holding `json`.
    func loadMessage(_ json: String) throws -> String {
        let file = temporaryDirectory("config").appendingPathExtension("json")
        try Data(json.utf8).write(to: file)
        do {
            _ = try WeightingComparison.load(path: file.path)
            return ""
        } catch let error as RunConfigurationError {
            return error.message
        }
    }

    /// The shared sections are read as a run file reads them (defaults
    /// included), except that `optimizer` is required and `balancer` and
    /// `output` are unknown keys; every run gets the method's balancer, the
    /// seed and a quiet output, the rest as written.
    func testSharedSectionsDecodeLikeARunFile() throws {
        let methods = #""methods": [{"name": "UW", "balancer": {"weighting": {"method": "uw"}}}], "seeds": [7]"#
        let comparison = try JSONDecoder().decode(WeightingComparison.self, from: Data("""
            {"data": {"source": "synthetic"}, "model": {"model": "ple"},
             "optimizer": {"kind": "adagrad", "learning_rate": 0.02}, "training": {"epochs": 3}, \(methods)}
            """.utf8))
        var expected = try JSONDecoder().decode(RunConfiguration.self, from: Data("""
            {"name": "weighting-UW-seed7", "data": {"source": "synthetic"}, "model": {"model": "ple"},
             "optimizer": {"kind": "adagrad", "learning_rate": 0.02}, "training": {"epochs": 3, "seed": 7},
             "balancer": {"weighting": {"method": "uw"}}}
            """.utf8))
        expected.output.progress = .none
        expected.output.report = false
        expected.output.telemetryEverySteps = 50
        XCTAssertEqual(comparison.name, "weighting")
        XCTAssertEqual(comparison.baseline, "UW")
        XCTAssertEqual(comparison.stability, StabilitySettings())
        XCTAssertEqual(comparison.configuration(method: comparison.methods[0], seed: 7), expected)

        let sections = #""data": {"source": "synthetic"}, "model": {"model": "ple"}"#
        XCTAssertEqual(try loadMessage("{\(sections), \(methods)}"), #"missing key "optimizer""#)
        XCTAssertEqual(try loadMessage(#"{"data": {"source": "synthetic"}, \#(methods)}"#), #"missing key "model""#)
        // null is not "absent": no default optimizer (a run file would take Clippy).
        XCTAssertTrue(try loadMessage(#"{\#(sections), "optimizer": null, \#(methods)}"#).hasPrefix("optimizer: "))
        for key in ["balancer", "output"] {
            XCTAssertEqual(try loadMessage(#"{\#(sections), "optimizer": {"kind": "adagrad"}, "\#(key)": {}, \#(methods)}"#),
                           #"\#(key): unknown key "\#(key)" in weighting comparison; known: "#
                           + "baseline, data, full, methods, model, name, optimizer, seeds, stability, training")
        }
    }
}
