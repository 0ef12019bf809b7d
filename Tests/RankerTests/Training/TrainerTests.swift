import Foundation
import XCTest
@testable import Ranker
@testable import RankerReport

/// The trainer end to end on small data: exact resume, every model ×
/// weighting method × optimizer, stability policies, sequential mode, early
/// stopping.
final class TrainerTests: RunDirectoryTestCase {
    static func syntheticConfiguration(rows: Int = 3000, tasks: Int = 2, days: Int = 1) -> SyntheticClickLogConfig {
        var s = SyntheticClickLogConfig()
        s.rows = rows
        s.users = 200
        s.items = 500
        s.tasks = tasks
        s.positiveRates = [0.3]
        s.days = days
        if days > 1 { s.driftPerDay = 0.2 }
        return s
    }

    static func smallRun(_ model: ModelKind = .mmoe, optimizer: OptimizerConfiguration = .adagrad(learningRate: 0.05),
                         balancer: TaskBalancerConfiguration = TaskBalancerConfiguration(),
                         synthetic: SyntheticClickLogConfig = syntheticConfiguration()) -> RunConfiguration {
        var training = TrainingSettings()
        training.epochs = 2
        training.batchSize = 256
        training.seed = 5
        var output = OutputSettings()
        output.progress = .none
        output.report = false
        return RunConfiguration(
            name: "test",
            data: DataConfiguration(source: .synthetic, synthetic: synthetic),
            model: ModelConfiguration(model: model, tasks: [], bottomHidden: [16, 8], experts: 3, expertHidden: [16, 8],
                                      levels: 2, specificExperts: 1, sharedExperts: 1, towerHidden: [8]),
            optimizer: optimizer, balancer: balancer, training: training, output: output)
    }

    /// Every tensor of a checkpoint file, as bit patterns.
    func tensorBits(_ url: URL) throws -> [String: [UInt32]] {
        let checkpoint = try Checkpoint.read(from: url)
        return checkpoint.tensors.mapValues { m in m.toArray().map(\.bitPattern) }
    }

    func testDefaultConfigurationFileMatchesTheEmbeddedDefault() throws {
        let root = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent()
            .deletingLastPathComponent().deletingLastPathComponent()
        let file = try RunConfiguration.load(path: root.appendingPathComponent("configs/mmoe-synthetic.json").path)
        var embedded = RunConfiguration.default
        embedded.balancer = TaskBalancerConfiguration(FixedWeighting.Options())
        XCTAssertEqual(file, embedded)
    }

    func testUnknownKeysAndBadValuesAreRejectedWithTheirPath() throws {
        let bad = #"{"data": {"source": "synthetic"}, "model": {"model": "mmoe"}, "training": {"epoch": 3}}"#
        XCTAssertThrowsError(try JSONDecoder().decode(RunConfiguration.self, from: Data(bad.utf8))) { error in
            XCTAssertTrue("\(error)".contains("unknown key \"epoch\" in training"), "\(error)")
        }
        var c = Self.smallRun()
        c.training.batchSize = 0
        XCTAssertThrowsError(try c.validate()) { XCTAssertEqual("\($0)", "training.batch_size must be >= 1, got 0") }
        c = Self.smallRun(balancer: TaskBalancerConfiguration(
            weighting: TaskBalancerMethodConfiguration(FixedWeighting.Options()),
            combination: TaskBalancerMethodConfiguration(GradCraft.Options())))
        XCTAssertThrowsError(try Trainer(configuration: c, runDirectory: temporaryDirectory("both"))) { error in
            XCTAssertTrue("\(error)".contains("gradcraft"), "\(error)")
        }
    }

    /// A run interrupted (mid-epoch, and at an epoch boundary) and resumed ends
    /// bitwise identical to the uninterrupted run: parameters, optimizer state,
    /// balancer state — for Adagrad and Clippy, with DWA, GradCraft and PCGrad.
    func testResumeContinuesBitwiseIdentically() throws {
        let variants: [(String, RunConfiguration)] = [
            ("clippy-fixed", Self.smallRun(optimizer: .clippy(learningRate: 0.1))),
            ("adagrad-dwa", Self.smallRun(balancer: TaskBalancerConfiguration(DynamicWeightAverage.Options(windowSteps: 5)))),
            ("clippy-pcgrad", Self.smallRun(.ple, optimizer: .clippy(learningRate: 0.1),
                                            balancer: TaskBalancerConfiguration(PCGrad.Options()))),
            ("adagrad-gradcraft-uw", Self.smallRun(.sharedBottom, balancer: TaskBalancerConfiguration(GradCraft.Options()))),
            ("adagrad-uw", Self.smallRun(.esmm, balancer: TaskBalancerConfiguration(UncertaintyWeighting.Options()))),
        ]
        for (name, configuration) in variants {
            let dataset = try RunData.load(configuration.data)
            let straight = temporaryDirectory("\(name)-straight")
            let s = try Trainer(configuration: configuration, dataset: dataset, runDirectory: straight).run()
            XCTAssertEqual(s.stopReason, .completed, name)
            let stepsPerEpoch = (dataset.splits.train.count + 255) / 256
            for interruptAt in [stepsPerEpoch / 2, stepsPerEpoch] {
                var interrupted = configuration
                interrupted.training.interruptAfterSteps = interruptAt
                let dir = temporaryDirectory("\(name)-\(interruptAt)")
                let first = try Trainer(configuration: interrupted, dataset: dataset, runDirectory: dir).run()
                XCTAssertEqual(first.stopReason, .interrupted, name)
                XCTAssertEqual(first.steps, interruptAt, name)
                let resumed = try Trainer(configuration: configuration, dataset: dataset, runDirectory: dir, resume: true).run()
                XCTAssertEqual(resumed.stopReason, .completed, name)
                XCTAssertEqual(resumed.steps, s.steps, name)
                let a = try tensorBits(straight.appendingPathComponent("checkpoint.safetensors"))
                let b = try tensorBits(dir.appendingPathComponent("checkpoint.safetensors"))
                XCTAssertEqual(a.keys.sorted(), b.keys.sorted(), name)
                for key in a.keys.sorted() where a[key] != b[key] {
                    XCTFail("\(name), interrupted at \(interruptAt): tensor \(key) differs after resume")
                }
                let ca = try Checkpoint.read(from: straight.appendingPathComponent("checkpoint.safetensors"))
                let cb = try Checkpoint.read(from: dir.appendingPathComponent("checkpoint.safetensors"))
                XCTAssertEqual(try ca.string(forKey: Checkpoint.Key.weighting),
                               try cb.string(forKey: Checkpoint.Key.weighting), "\(name): balancer state")
                XCTAssertEqual(s.test?.meanAUC, resumed.test?.meanAUC, name)
            }
        }
    }

    /// `ranker train` runs every model × every weighting method × both
    /// optimizers (a few steps each) on the synthetic data and on census.
    func testEveryModelMethodAndOptimizerTrains() throws {
        var sources: [(String, Dataset)] = [("synthetic", try RunData.load(
            DataConfiguration(source: .synthetic, synthetic: Self.syntheticConfiguration(rows: 2000))))]
        if let census = try? CensusIncome.load() {
            sources.append(("census", census))
        } else {
            print("census-income not found (RANKER_DATA): the census half of this test is skipped")
        }
        let balancers: [(String, TaskBalancerConfiguration)] = [
            ("fixed", TaskBalancerConfiguration(FixedWeighting.Options())),
            ("dwa", TaskBalancerConfiguration(DynamicWeightAverage.Options(windowSteps: 2))),
            ("gradnorm", TaskBalancerConfiguration(GradNorm.Options())),
            ("uw", TaskBalancerConfiguration(UncertaintyWeighting.Options())),
            ("gradcraft", TaskBalancerConfiguration(GradCraft.Options())),
            ("pcgrad", TaskBalancerConfiguration(PCGrad.Options())),
        ]
        for (sourceName, dataset) in sources {
            for model in ModelKind.allCases {
                for (balancerName, balancer) in balancers {
                    for optimizer: OptimizerConfiguration in [.adagrad(learningRate: 0.05), .clippy(learningRate: 0.05)] {
                        var c = Self.smallRun(model, optimizer: optimizer, balancer: balancer)
                        c.training.maxSteps = 6
                        c.training.batchSize = 512
                        let label = "\(sourceName)/\(model.rawValue)/\(balancerName)/\(optimizer.kind.rawValue)"
                        let s = try Trainer(configuration: c, dataset: dataset, runDirectory: temporaryDirectory("m")).run()
                        XCTAssertEqual(s.stopReason, .maxSteps, label)
                        XCTAssertEqual(s.steps, 6, label)
                        XCTAssertTrue(s.test?.tasks.allSatisfy { ($0.auc ?? 0).isFinite } ?? false, label)
                    }
                }
            }
        }
    }

    func testTelemetryHasTheDocumentedLines() throws {
        var c = Self.smallRun(optimizer: .clippy(learningRate: 0.1),
                              balancer: TaskBalancerConfiguration(GradCraft.Options()))
        c.output.report = true
        let dir = temporaryDirectory("telemetry")
        let summary = try Trainer(configuration: c, runDirectory: dir).run()
        // report.html is RankerReport's, written after the run (as `ranker train` does).
        XCTAssertNil(TrainingReport.writeAfterRun(summary, output: c.output))
        let lines = try String(contentsOf: dir.appendingPathComponent("telemetry.jsonl"), encoding: .utf8)
            .split(separator: "\n").map { try JSONSerialization.jsonObject(with: Data($0.utf8)) as! [String: Any] }
        XCTAssertEqual(lines.first?["type"] as? String, "run")
        XCTAssertEqual(lines.first?["combiner_kind"] as? String, "coefficients")
        let steps = lines.filter { $0["type"] as? String == "step" }
        XCTAssertEqual(steps.count, summary.steps)
        let step = try XCTUnwrap(steps.last)
        XCTAssertEqual((step["losses"] as? [Any])?.count, 2)
        XCTAssertEqual((step["weights"] as? [Any])?.count, 2)
        XCTAssertEqual((step["cosines"] as? [[Any]])?.count, 2)
        XCTAssertNotNil(step["conflicting_pairs"])
        let clip = try XCTUnwrap(step["clip_factors"] as? [String: Any])
        XCTAssertEqual(Set(clip.keys), Set(Trainer.parameterNames(of: c)))
        let evals = lines.filter { $0["type"] as? String == "eval" }
        XCTAssertEqual(evals.count, 3, "two epochs on valid, then test")
        XCTAssertEqual(lines.last?["type"] as? String, "end")
        XCTAssertTrue(FileManager.default.fileExists(atPath: dir.appendingPathComponent("report.html").path))
        XCTAssertTrue(FileManager.default.fileExists(atPath: dir.appendingPathComponent("best.safetensors").path))
    }

    /// A NaN in the data makes its batch's loss NaN: `skip` skips the update and
    /// goes on, `stop` stops, `rollback` restores and halves the learning rate.
    func testStabilityPoliciesOnANonFiniteLoss() throws {
        let clean = try RunData.load(DataConfiguration(source: .synthetic, synthetic: Self.syntheticConfiguration(rows: 2000)))
        var dense = clean.dense
        let poisoned = clean.splits.train[7]
        dense[0][poisoned] = .nan
        let dataset = Dataset(name: "poisoned", fields: clean.fields, denseNames: clean.denseNames, tasks: clean.tasks,
                              ids: clean.ids, dense: dense, labels: clean.labels, users: clean.users, days: clean.days,
                              splits: clean.splits)
        for policy in [StabilityPolicy.skip, .stop, .rollback] {
            var c = Self.smallRun()
            c.stability.policy = policy
            c.training.epochs = 1
            let dir = temporaryDirectory("policy-\(policy)")
            let trainer = try Trainer(configuration: c, dataset: dataset, runDirectory: dir)
            let before = trainer.model.parameters.map { $0.value.clone() }
            let outcome = Result { try trainer.run() }
            let telemetry = try String(contentsOf: dir.appendingPathComponent("telemetry.jsonl"), encoding: .utf8)
            XCTAssertTrue(telemetry.contains("\"kind\":\"nan\""), "\(policy)")
            for p in trainer.model.parameters {
                XCTAssertTrue(p.value.toArray().allSatisfy(\.isFinite), "\(policy): \(p.name) not finite")
            }
            switch policy {
            case .skip:
                let s = try outcome.get()
                XCTAssertEqual(s.stopReason, .completed)
                XCTAssertEqual(s.events["skip"], 1)
                XCTAssertNotEqual(trainer.model.parameters[5].value.toArray(), before[5].toArray(), "training went on")
            case .stop:
                XCTAssertEqual(try outcome.get().stopReason, .unstable)
                XCTAssertTrue(telemetry.contains("\"stopped\":\"unstable\""))
                XCTAssertTrue(telemetry.contains("\"kind\":\"stop\""))
            case .rollback:
                let s = try outcome.get()
                XCTAssertEqual(s.events["rollback"], 1)
                XCTAssertTrue(telemetry.contains("learning rate factor now 0.5"))
            }
        }
    }

    func testSequentialTrainingWalksTheDaysAndTestsOnTheLast() throws {
        var c = Self.smallRun(synthetic: Self.syntheticConfiguration(rows: 4000, days: 4))
        c.training.mode = .sequential
        c.training.epochs = 1
        c.training.windowDays = 2
        let dir = temporaryDirectory("sequential")
        let trainer = try Trainer(configuration: c, runDirectory: dir)
        let summary = try trainer.run()
        let days = trainer.dataset.rowsByDay(Array(0..<trainer.dataset.count))
        XCTAssertEqual(days.count, 4)
        XCTAssertEqual(summary.test?.tasks.first?.examples, days[3].rows.count)
        // Windows: day 0; days 0-1; days 1-2.
        let expected = [days[0].rows.count, days[0].rows.count + days[1].rows.count, days[1].rows.count + days[2].rows.count]
            .reduce(0) { $0 + ($1 + 255) / 256 }
        XCTAssertEqual(summary.steps, expected)
        let evals = try String(contentsOf: dir.appendingPathComponent("telemetry.jsonl"), encoding: .utf8)
            .split(separator: "\n").filter { $0.contains("\"type\":\"eval\"") }
        XCTAssertEqual(evals.count, 4, "after each of the 3 training days, then the test day")
        XCTAssertTrue(evals[0].contains("\"day\":1"))
    }

    func testEarlyStoppingAndWarmup() throws {
        var c = Self.smallRun()
        c.optimizer.learningRate = 1e-12  // below float resolution: nothing changes, nothing improves
        c.training.epochs = 10
        c.training.earlyStoppingPatience = 2
        let s = try Trainer(configuration: c, runDirectory: temporaryDirectory("early")).run()
        XCTAssertEqual(s.stopReason, .earlyStopping)
        XCTAssertEqual(s.epochs, 3)
        let schedule = LearningRateSchedule.linearWarmup(steps: 4)
        XCTAssertEqual((0..<6).map { schedule.factor(step: $0) }, [0.25, 0.5, 0.75, 1, 1, 1])
    }
}

extension Trainer {
    /// Parameter names a run configuration's model has (for telemetry checks).
    static func parameterNames(of c: RunConfiguration) -> [String] {
        (try? Trainer(configuration: c, runDirectory: FileManager.default.temporaryDirectory
            .appendingPathComponent("names-\(UUID().uuidString)")))?.step.parameters.map(\.name) ?? []
    }
}
