import Foundation
import XCTest
@testable import Ranker
@testable import RankerExperiments

/// The stability experiment's building block (`StabilityTrial`,
/// `StabilityExperiment`): how a run is counted, checked on runs whose
/// outcome is known in advance and on hand-written telemetry; and the
/// shipped `examples/stability/stability.json`.
final class StabilityTrialTests: RunDirectoryTestCase {
    /// A tiny sequential run: 2 tasks, 4 drifting days, Shared-Bottom [32, 32].
    static func tinyRun(_ optimizer: OptimizerConfiguration, seed: UInt64 = 1) -> RunConfiguration {
        var synthetic = SyntheticClickLogConfig()
        synthetic.rows = 12000
        synthetic.users = 200
        synthetic.items = 500
        synthetic.tasks = 2
        synthetic.positiveRates = [0.3, 0.15]
        synthetic.days = 4
        synthetic.driftPerDay = 0.1
        synthetic.signalStrength = 3
        var training = TrainingSettings()
        training.mode = .sequential
        training.batchSize = 64
        training.seed = seed
        var output = OutputSettings()
        output.progress = .silent
        output.report = false
        return RunConfiguration(
            name: "tiny", data: DataConfiguration(source: .synthetic, synthetic: synthetic),
            model: ModelConfiguration(model: .sharedBottom, tasks: [], bottomHidden: [32, 32], towerHidden: [8]),
            optimizer: optimizer, training: training, output: output)
    }

    static let dataset: Dataset = try! RunData.load(tinyRun(.adagrad()).data)

    // MARK: runs with a known outcome

    func testAModestLearningRateSurvivesAndLearns() throws {
        for optimizer in [OptimizerConfiguration.adagrad(learningRate: 0.2), .clippy(learningRate: 0.2)] {
            let o = try StabilityTrial.run(Self.tinyRun(optimizer), dataset: Self.dataset,
                                           runDirectory: temporaryDirectory("modest"))
            XCTAssertFalse(o.diverged, "\(optimizer.kind)")
            XCTAssertFalse(o.neverLearned, "\(optimizer.kind)")
            XCTAssertNil(o.cause)
            XCTAssertNil(o.divergenceStep)
            XCTAssertEqual(o.validAUCs.count, 3, "one evaluation after each of the 3 training days")
            XCTAssertGreaterThan(o.testAUC ?? 0, 0.7, "\(optimizer.kind) learns the synthetic tasks")
            // Every batch of days 0-2 was trained (no stop).
            let days = Self.dataset.rowsByDay(Array(0..<Self.dataset.count))
            XCTAssertEqual(o.steps, days.dropLast().reduce(0) { $0 + ($1.rows.count + 63) / 64 })
        }
    }

    func testAnAbsurdLearningRateDivergesUnderAdagrad() throws {
        // lr 1000: the first step moves every coordinate by ~1000 · g / sqrt(0.1 + g²);
        // the training loss explodes at once (above its absolute limit, or non-finite).
        for seed: UInt64 in [1, 2] {
            let o = try StabilityTrial.run(Self.tinyRun(.adagrad(learningRate: 1000), seed: seed), dataset: Self.dataset,
                                           runDirectory: temporaryDirectory("absurd"))
            XCTAssertTrue(o.diverged, "seed \(seed): \(o)")
            XCTAssertTrue(o.cause == .lossLimit || o.cause == .nonFinite, "seed \(seed): \(String(describing: o.cause))")
            let cell = StabilityCell(method: "adagrad", multiplier: 1, learningRate: 1000, outcomes: [o])
            XCTAssertEqual(cell.diverged, 1)
        }
    }

    func testALossAboveItsAverageForDivergenceStepsStopsTheRun() throws {
        // Judge from step 0 with a factor barely above 1: the first batch whose
        // loss exceeds the moving average starts a spike, and with
        // divergence_steps = 1 that spike is a full divergence.
        var c = Self.tinyRun(.adagrad(learningRate: 0.05))
        c.stability.warmupSteps = 1
        c.stability.spikeFactor = 1.000001
        c.stability.divergenceSteps = 1
        let o = try StabilityTrial.run(c, dataset: Self.dataset, runDirectory: temporaryDirectory("loss"))
        XCTAssertTrue(o.diverged)
        XCTAssertEqual(o.cause, .lossDivergence)
        XCTAssertTrue(o.divergenceMessage?.hasPrefix("loss above") ?? false, o.divergenceMessage ?? "")
        XCTAssertEqual(o.spikes, 1, "the spike that became the divergence")
        XCTAssertEqual(o.steps, (o.divergenceStep ?? -1) + 1, "the run ends with the step that diverged")
        XCTAssertFalse(o.neverLearned)
    }

    // MARK: the classification, on hand-written telemetry

    func outcome(_ lines: [String], stopReason: StopReason, events: [String: Int] = [:],
                 testAUCs: [Double] = [0.7, 0.8]) throws -> StabilityTrialOutcome {
        let dir = temporaryDirectory("log")
        try FileManager.default.createDirectory(at: dir, withIntermediateDirectories: true)
        let url = dir.appendingPathComponent("telemetry.jsonl")
        let text = ([#"{"type":"run","name":"t","tasks":["a","b"]}"#] + lines).joined(separator: "\n") + "\n"
        try text.write(to: url, atomically: true, encoding: .utf8)
        let tasks = testAUCs.enumerated().map { t, auc -> TaskEvaluation in
            var e = TaskEvaluation(name: t == 0 ? "a" : "b", examples: 100)
            e.auc = auc
            return e
        }
        let summary = TrainingSummary(
            name: "t", runDirectory: dir.path, steps: 30, epochs: 0, stopReason: stopReason, bestStep: nil,
            bestValid: nil, test: Evaluation(split: "test", tasks: tasks, meanAUC: 0, nonFinitePredictions: 0),
            events: events, trainSamplesPerSecond: 0)
        return try StabilityTrial.outcome(summary: summary, telemetryURL: url, taskNames: ["a", "b"],
                                          learnedAUC: 0.52, seconds: 1)
    }

    static func eval(_ step: Int, _ a: Double, _ b: Double) -> String {
        #"{"type":"eval","step":\#(step),"split":"valid","metrics":{"a":{"auc":\#(a)},"b":{"auc":\#(b)}},"mean_auc":\#((a + b) / 2)}"#
    }

    func testCompletedRunThatLearnedSurvives() throws {
        let o = try outcome([Self.eval(10, 0.6, 0.55), Self.eval(20, 0.7, 0.8)], stopReason: .completed,
                            events: ["spike": 3, "recovered": 2])
        XCTAssertFalse(o.diverged)
        XCTAssertFalse(o.neverLearned)
        XCTAssertEqual(o.spikes, 3)
        XCTAssertEqual(o.microDivergences, 2, "micro-divergences are the spikes that recovered")
        XCTAssertEqual(o.validAUCs, [0.575, 0.75])
        XCTAssertEqual(o.bestTaskAUCs, [0.7, 0.8])
        XCTAssertEqual(o.testAUC!, 0.75, accuracy: 1e-12)
    }

    func testCausesOfAStoppedRun() throws {
        let auc = try outcome([Self.eval(10, 0.7, 0.6), Self.eval(20, 0.7, 0.5),
            #"{"type":"event","step":20,"kind":"divergence","task":"b","value":0.5,"message":"valid AUC 0.5 at or below 0.52 after having been above it"}"#,
            #"{"type":"event","step":20,"kind":"stop","message":"stopped by the stop policy after a divergence event"}"#],
            stopReason: .unstable, events: ["divergence": 1, "stop": 1])
        XCTAssertTrue(auc.diverged)
        XCTAssertEqual(auc.cause, .aucDivergence)
        XCTAssertEqual(auc.divergenceStep, 20)

        let loss = try outcome([Self.eval(10, 0.7, 0.6),
            #"{"type":"event","step":14,"kind":"spike","task":"a","value":9,"message":"loss 9 above 3x its moving average 0.5"}"#,
            #"{"type":"event","step":23,"kind":"divergence","task":"a","value":9,"message":"loss above 3x its moving average 0.5 for 10 steps"}"#],
            stopReason: .unstable, events: ["spike": 1, "divergence": 1, "stop": 1])
        XCTAssertEqual(loss.cause, .lossDivergence)
        XCTAssertEqual(loss.divergenceStep, 23)
        XCTAssertEqual(loss.spikes, 1)

        let nan = try outcome([#"{"type":"event","step":3,"kind":"nan","task":"a","value":null,"message":"task 0 loss is inf"}"#],
                              stopReason: .unstable, events: ["nan": 1, "stop": 1])
        XCTAssertEqual(nan.cause, .nonFinite)
        XCTAssertEqual(nan.divergenceStep, 3)

        let limit = try outcome([#"{"type":"event","step":2,"kind":"divergence","task":"a","value":5000,"message":"loss 5000 above the absolute limit 69.31 (100 x log 2; predicting the base rate costs at most log 2)"}"#],
                                stopReason: .unstable, events: ["divergence": 1, "stop": 1])
        XCTAssertEqual(limit.cause, .lossLimit)
        XCTAssertEqual(limit.divergenceStep, 2)
    }

    func testATaskThatNeverRoseAboveTheDivergenceAUCNeverLearned() throws {
        // Task b stays at 0.5 (a dead network predicts a constant) while a is fine.
        let o = try outcome([Self.eval(10, 0.6, 0.5), Self.eval(20, 0.7, 0.52)], stopReason: .completed,
                            testAUCs: [0.7, 0.5])
        XCTAssertFalse(o.diverged)
        XCTAssertTrue(o.neverLearned, "0.52 is at the threshold, not above it")
        // One evaluation above the threshold is enough to have learned.
        let learned = try outcome([Self.eval(10, 0.6, 0.53), Self.eval(20, 0.7, 0.51)], stopReason: .completed)
        XCTAssertFalse(learned.neverLearned)
        // A task without AUC (no positives: NaN, written as null) is not judged.
        let noAUC = try outcome([#"{"type":"eval","step":10,"split":"valid","metrics":{"a":{"auc":0.7},"b":{"auc":null}},"mean_auc":null}"#],
                                stopReason: .completed)
        XCTAssertFalse(noAUC.neverLearned)
    }

    // MARK: the experiment file

    func testTheShippedExperimentFileDecodesAndBuildsEveryCell() throws {
        let root = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent()
            .deletingLastPathComponent().deletingLastPathComponent()
        let path = root.appendingPathComponent("examples/stability/stability.json").path
        let e = try StabilityExperiment.load(path: path)
        try e.validate()
        XCTAssertEqual(e.settings.map(\.name), ["synthetic", "census"])
        XCTAssertEqual(e.methods.map(\.name), ["adagrad", "adagrad_gc", "adagrad_agc", "clippy", "clippy_paper"])
        XCTAssertEqual(e.lastBatch, .drop, "full batches by default")
        XCTAssertEqual(e.stability.policy, .stop)
        XCTAssertLessThanOrEqual(e.stability.divergenceAUC, 0, "divergence is judged from the training loss alone")
        XCTAssertGreaterThanOrEqual(e.seeds.count, 5)
        // 1, √2, 2, 2√2, 4, …, 16.
        XCTAssertEqual(e.multipliers.count, 9)
        for (i, m) in e.multipliers.enumerated() { XCTAssertEqual(m, pow(2, Double(i) / 2), accuracy: 1e-12) }
        XCTAssertEqual(e.multipliers[2], 2)
        XCTAssertEqual(e.multipliers[8], 16)
        for s in e.settings {
            XCTAssertEqual(s.run.training.mode, .sequential, s.name)
            XCTAssertFalse(s.run.model.batchNorm, s.name)
        }
        let census = try XCTUnwrap(e.settings.first { $0.name == "census" })
        XCTAssertEqual(census.run.data.source, .census)
        XCTAssertNotNil(census.dayRows)
        let clippy = try XCTUnwrap(e.methods.first { $0.name == "clippy" })
        XCTAssertEqual(try clippy.optimizer.clippyOptions(), .project)
        let paper = try XCTUnwrap(e.methods.first { $0.name == "clippy_paper" })
        XCTAssertEqual(try paper.optimizer.clippyOptions(), .paper)
        let c = e.configuration(setting: census, method: clippy, multiplier: 8, seed: 7)
        XCTAssertEqual(Double(c.optimizer.learningRate), census.baseLearningRate * 8, accuracy: 1e-6)
        XCTAssertEqual(c.training.seed, 7)
        XCTAssertEqual(c.training.lastBatch, .drop)
        XCTAssertEqual(c.stability, e.stability)
        XCTAssertEqual(c.name, "census-clippy-x8-s7")
        XCTAssertEqual(c.data, census.run.data, "the data do not depend on the cell")
        let quick = e.applyingQuickSweep()
        XCTAssertLessThan(quick.seeds.count, e.seeds.count)
        XCTAssertEqual(quick.multipliers, [1, 2, 4, 8, 16])
    }

    func testExperimentFileErrors() throws {
        let json = #"{"settings": [{"name": "s", "run": {"data": {"source": "synthetic"}, "model": {"model": "mmoe"}}, "#
            + #""base_learning_rate": 0.1}], "stability": {"divergence_auc": 0}, "grid": {"steps_per_doubling": 2, "largest": 4}, "#
            + #""seeds": [1], "methods": [{"name": "A", "optimizer": {"kind": "adagrad"}}]"#
        let e = try JSONDecoder().decode(StabilityExperiment.self, from: Data((json + "}").utf8))
        XCTAssertNoThrow(try e.validate())
        XCTAssertEqual(e.multipliers.count, 5)
        XCTAssertEqual(e.multipliers[4], 4)
        XCTAssertEqual(e.lastBatch, .drop)
        XCTAssertThrowsError(try JSONDecoder().decode(StabilityExperiment.self, from: Data((json + #", "seed": 3}"#).utf8)))
        var bad = e
        bad.grid.largest = 6
        XCTAssertThrowsError(try bad.validate(), "largest must be a power of 2")
        bad = e
        bad.multiplierOverride = [0]
        XCTAssertThrowsError(try bad.validate())
        bad = e
        bad.methods.append(e.methods[0])
        XCTAssertThrowsError(try bad.validate(), "duplicate method names")
        bad = e
        bad.stability.policy = .skip
        XCTAssertThrowsError(try bad.validate(), "a diverged run must end")
    }

    func testCensusDaysAreRowOrderChunks() {
        // 10 rows in days of 3: 0 0 0 1 1 1 2 2 2 and the last row (less than half a day) joins day 2.
        XCTAssertEqual(StabilityExperiment.chunkDays(rows: 10, dayRows: 3), [0, 0, 0, 1, 1, 1, 2, 2, 2, 2])
        // 11 rows: the last 2 rows are at least half a day, a day of their own.
        XCTAssertEqual(StabilityExperiment.chunkDays(rows: 11, dayRows: 3), [0, 0, 0, 1, 1, 1, 2, 2, 2, 3, 3])
        XCTAssertEqual(StabilityExperiment.chunkDays(rows: 6, dayRows: 3), [0, 0, 0, 1, 1, 1])
        XCTAssertEqual(StabilityExperiment.chunkDays(rows: 2, dayRows: 3), [0, 0])
    }

    func testSilentProgressPrintsNothing() {
        XCTAssertFalse(ProgressReporter(setting: .silent, totalSteps: 1).printsMessages)
        XCTAssertEqual(ProgressReporter(setting: .silent, totalSteps: 1).style, .none)
        XCTAssertTrue(ProgressReporter(setting: .none, totalSteps: 1).printsMessages)
    }
}
