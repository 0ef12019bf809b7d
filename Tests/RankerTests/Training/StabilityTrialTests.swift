import Foundation
import XCTest
@testable import Ranker
@testable import RankerExperiments

/// The stability experiment's building block (`StabilityTrial`,
/// `StabilityCellSummary`, `StabilityExperiment`): how a run is counted,
/// checked on runs whose outcome is known in advance and on hand-written
/// telemetry; and the shipped `examples/stability/stability.json`.
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

    func testAnAbsurdLearningRateFailsUnderAdagrad() throws {
        // lr 1000: the first step moves every coordinate by ~1000 · g / sqrt(0.1 + g²);
        // the loss explodes at once and the network is dead or non-finite.
        for seed: UInt64 in [1, 2] {
            let o = try StabilityTrial.run(Self.tinyRun(.adagrad(learningRate: 1000), seed: seed), dataset: Self.dataset,
                                           runDirectory: temporaryDirectory("absurd"))
            XCTAssertTrue(o.failed, "seed \(seed): \(o)")
            let cell = StabilityCellSummary([o])
            XCTAssertEqual(cell.failed, 1)
            XCTAssertEqual(cell.survivors, 0)
            XCTAssertNil(cell.meanAUC, "no survivor, no AUC")
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
                                          divergenceAUC: 0.52, seconds: 1)
    }

    static func eval(_ step: Int, _ a: Double, _ b: Double) -> String {
        #"{"type":"eval","step":\#(step),"split":"valid","metrics":{"a":{"auc":\#(a)},"b":{"auc":\#(b)}},"mean_auc":\#((a + b) / 2)}"#
    }

    func testCompletedRunThatLearnedSurvives() throws {
        let o = try outcome([Self.eval(10, 0.6, 0.55), Self.eval(20, 0.7, 0.8)], stopReason: .completed,
                            events: ["spike": 2, "recovered": 2])
        XCTAssertFalse(o.diverged)
        XCTAssertFalse(o.neverLearned)
        XCTAssertEqual(o.spikes, 2)
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
        XCTAssertFalse(auc.neverLearned, "a diverged run is counted once, as diverged")
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
    }

    func testATaskThatNeverRoseAboveTheDivergenceAUCNeverLearned() throws {
        // Task b stays at 0.5 (a dead network predicts a constant) while a is fine.
        let o = try outcome([Self.eval(10, 0.6, 0.5), Self.eval(20, 0.7, 0.52)], stopReason: .completed,
                            testAUCs: [0.7, 0.5])
        XCTAssertFalse(o.diverged)
        XCTAssertTrue(o.neverLearned, "0.52 is at the threshold, not above it")
        XCTAssertTrue(o.failed)
        // One evaluation above the threshold is enough to have learned.
        let learned = try outcome([Self.eval(10, 0.6, 0.53), Self.eval(20, 0.7, 0.51)], stopReason: .completed)
        XCTAssertFalse(learned.neverLearned)
        // A task without AUC (no positives: NaN, written as null) is not judged.
        let noAUC = try outcome([#"{"type":"eval","step":10,"split":"valid","metrics":{"a":{"auc":0.7},"b":{"auc":null}},"mean_auc":null}"#],
                                stopReason: .completed)
        XCTAssertFalse(noAUC.neverLearned)
    }

    func testCellSummaryCountsAndAveragesSurvivorsOnly() {
        func run(_ auc: Double, diverged: Bool = false, neverLearned: Bool = false, spikes: Int = 0) -> StabilityTrialOutcome {
            StabilityTrialOutcome(diverged: diverged, neverLearned: neverLearned, cause: diverged ? .lossDivergence : nil,
                                  divergenceStep: diverged ? 5 : nil, divergenceMessage: nil, steps: 10, spikes: spikes,
                                  testAUC: auc, validAUCs: [], bestTaskAUCs: [], seconds: 0)
        }
        let s = StabilityCellSummary([run(0.70, spikes: 1), run(0.74, spikes: 2), run(0.50, diverged: true, spikes: 3),
                                      run(0.50, neverLearned: true), run(0.72)])
        XCTAssertEqual(s.runs, 5)
        XCTAssertEqual(s.diverged, 1)
        XCTAssertEqual(s.neverLearned, 1)
        XCTAssertEqual(s.failed, 2)
        XCTAssertEqual(s.survivors, 3)
        XCTAssertEqual(s.spikes, 6)
        // Survivors 0.70, 0.74, 0.72: mean 0.72, sample deviation sqrt((0.02² + 0.02²) / 2) = 0.02.
        XCTAssertEqual(s.meanAUC!, 0.72, accuracy: 1e-12)
        XCTAssertEqual(s.standardDeviationAUC!, 0.02, accuracy: 1e-12)
        let one = StabilityCellSummary([run(0.7)])
        XCTAssertEqual(one.standardDeviationAUC, 0)
        XCTAssertNil(StabilityCellSummary([run(0.5, diverged: true)]).meanAUC)
    }

    // MARK: the experiment file

    func testTheShippedExperimentFileDecodesAndBuildsEveryCell() throws {
        let root = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent()
            .deletingLastPathComponent().deletingLastPathComponent()
        let path = root.appendingPathComponent("examples/stability/stability.json").path
        let e = try StabilityExperiment.load(path: path)
        try e.validate()
        XCTAssertEqual(e.run.training.mode, .sequential)
        XCTAssertEqual(e.run.stability.policy, .stop)
        XCTAssertGreaterThan(e.run.data.synthetic?.days ?? 0, 2)
        XCTAssertEqual(e.multipliers, [1, 2, 4, 8])
        XCTAssertEqual(Set(e.methods.map(\.optimizer.kind.rawValue)), ["adagrad", "clippy"])
        let clippy = try XCTUnwrap(e.methods.first { $0.optimizer.kind.rawValue == "clippy" })
        XCTAssertEqual(try clippy.optimizer.clippyOptions(), .project)
        let c = e.configuration(method: clippy, multiplier: 8, seed: 7)
        XCTAssertEqual(Double(c.optimizer.learningRate), e.baseLearningRate * 8, accuracy: 1e-6)
        XCTAssertEqual(c.training.seed, 7)
        XCTAssertEqual(c.optimizer.kind.rawValue, "clippy")
        XCTAssertEqual(c.name, "\(e.run.name)-\(clippy.name.lowercased())-x8-s7")
        XCTAssertEqual(c.data, e.run.data, "the data do not depend on the cell")
        let full = e.applyingFullSweep()
        XCTAssertGreaterThan(full.seeds.count, e.seeds.count)
        XCTAssertEqual(full.run.data.synthetic?.rows, e.full?.rows)
        XCTAssertEqual(full.run.data.synthetic?.days, e.full?.days)
        // The full sweep keeps the rows per day (and so each day's batches).
        XCTAssertEqual(Double(full.run.data.synthetic!.rows) / Double(full.run.data.synthetic!.days),
                       Double(e.run.data.synthetic!.rows) / Double(e.run.data.synthetic!.days))
    }

    func testExperimentFileErrors() throws {
        let json = #"{"run": {"data": {"source": "synthetic"}, "model": {"model": "mmoe"}}, "base_learning_rate": 0.1, "#
            + #""multipliers": [1], "seeds": [1], "methods": [{"name": "A", "optimizer": {"kind": "adagrad"}}]"#
        XCTAssertNoThrow(try JSONDecoder().decode(StabilityExperiment.self, from: Data((json + "}").utf8)).validate())
        XCTAssertThrowsError(try JSONDecoder().decode(StabilityExperiment.self, from: Data((json + #", "seed": 3}"#).utf8)))
        var e = try JSONDecoder().decode(StabilityExperiment.self, from: Data((json + "}").utf8))
        e.multipliers = [0]
        XCTAssertThrowsError(try e.validate())
        e.multipliers = [1]
        e.methods.append(e.methods[0])
        XCTAssertThrowsError(try e.validate(), "duplicate method names")
    }

    func testSilentProgressPrintsNothing() {
        XCTAssertFalse(ProgressReporter(setting: .silent, totalSteps: 1).printsMessages)
        XCTAssertEqual(ProgressReporter(setting: .silent, totalSteps: 1).style, .none)
        XCTAssertTrue(ProgressReporter(setting: .none, totalSteps: 1).printsMessages)
    }
}
