import Foundation
import XCTest
@testable import Ranker

/// Issue 14, fault injection 4 inside a step: a NaN or an infinity that
/// reaches a loss or a gradient is caught at the step it appears in and
/// changes no parameter, under every stability policy. (The command line
/// cannot reach these: a non-finite value in a CSV file is refused when the
/// file is read, `faults/nan_input.py`.)
final class FaultInjectionTests: RunDirectoryTestCase {
    enum Poison: CaseIterable { case denseNaN, denseInfinity, labelNaN }

    /// The synthetic data with one training row poisoned: a dense input
    /// (NaN or +inf: the logits, then the loss, turn non-finite) or a label
    /// (NaN: only the loss does).
    func dataset(_ poison: Poison?) throws -> Dataset {
        let clean = try RunData.load(DataConfiguration(source: .synthetic,
                                                       synthetic: TrainerTests.syntheticConfiguration(rows: 3000)))
        var dense = clean.dense
        var labels = clean.labels
        let row = clean.splits.train[clean.splits.train.count / 2]
        switch poison {
        case .denseNaN: dense[0][row] = .nan
        case .denseInfinity: dense[1][row] = .infinity
        case .labelNaN: labels[1][row] = .nan
        case nil: break
        }
        return Dataset(name: "poisoned", fields: clean.fields, denseNames: clean.denseNames, tasks: clean.tasks,
                       ids: clean.ids, dense: dense, labels: labels, users: clean.users, days: clean.days,
                       splits: clean.splits)
    }

    func configuration(_ policy: StabilityPolicy, maxSteps: Int = 0) -> RunConfiguration {
        var c = TrainerTests.smallRun(.sharedBottom)
        c.training.epochs = 1
        c.training.maxSteps = maxSteps
        c.stability.policy = policy
        c.stability.maxRollbacks = 2
        return c
    }

    /// The steps of the run's `nan` events.
    func nanSteps(_ directory: URL) throws -> [Int] {
        try String(contentsOf: directory.appendingPathComponent("telemetry.jsonl"), encoding: .utf8)
            .split(separator: "\n")
            .map { try JSONSerialization.jsonObject(with: Data($0.utf8)) as! [String: Any] }
            .filter { $0["type"] as? String == "event" && $0["kind"] as? String == "nan" }
            .compactMap { $0["step"] as? Int }
    }

    func bits(_ model: MultiTaskModel) -> [String: [UInt32]] {
        Dictionary(uniqueKeysWithValues: model.parameters.map { ($0.name, $0.value.toArray().map(\.bitPattern)) })
    }

    /// Under `stop` the run ends at the first step whose batch holds the
    /// poisoned row with exactly the parameters of a clean run stopped before
    /// that step: had the value entered any earlier update, the parameters
    /// would hold NaN; had the step been applied, they would differ. `skip`
    /// and `rollback` report the same step, keep every parameter finite, and
    /// a run cut right after it (`max_steps`) under `skip` equals the clean
    /// run cut before it.
    func testANonFiniteInputOrLossIsCaughtAtItsStepUnderEveryPolicy() throws {
        let clean = try dataset(nil)
        for poison in Poison.allCases {
            let poisoned = try dataset(poison)
            let stopDirectory = temporaryDirectory("stop-\(poison)")
            let stopped = try Trainer(configuration: configuration(.stop), dataset: poisoned, runDirectory: stopDirectory)
            XCTAssertEqual(try stopped.run().stopReason, .unstable, "\(poison)")
            let step = try XCTUnwrap(nanSteps(stopDirectory).first, "\(poison): no nan event")
            XCTAssertEqual(try nanSteps(stopDirectory), [step], "\(poison)")
            XCTAssertGreaterThan(step, 0, "\(poison): the poisoned row should not be in the first batch")
            let before = try Trainer(configuration: configuration(.stop, maxSteps: step), dataset: clean,
                                     runDirectory: temporaryDirectory("clean-\(poison)"))
            XCTAssertEqual(try before.run().steps, step)
            XCTAssertEqual(bits(stopped.model), bits(before.model), "\(poison): stop changed a parameter")

            let skipDirectory = temporaryDirectory("skip-\(poison)")
            let skipped = try Trainer(configuration: configuration(.skip, maxSteps: step + 1), dataset: poisoned,
                                      runDirectory: skipDirectory)
            let skipSummary = try skipped.run()
            XCTAssertEqual(skipSummary.events["skip"], 1, "\(poison)")
            XCTAssertEqual(try nanSteps(skipDirectory), [step], "\(poison)")
            XCTAssertEqual(bits(skipped.model), bits(before.model), "\(poison): the skipped step changed a parameter")

            let rollbackDirectory = temporaryDirectory("rollback-\(poison)")
            let rolledBack = try Trainer(configuration: configuration(.rollback), dataset: poisoned,
                                         runDirectory: rollbackDirectory)
            let rollbackSummary = try rolledBack.run()
            XCTAssertGreaterThanOrEqual(rollbackSummary.events["rollback"] ?? 0, 1, "\(poison)")
            XCTAssertEqual(try nanSteps(rollbackDirectory).first, step, "\(poison)")
            for p in rolledBack.model.parameters {
                XCTAssertTrue(p.value.toArray().allSatisfy(\.isFinite), "\(poison): \(p.name) not finite after rollback")
            }
        }
    }

    /// A NaN or an infinity written into one gradient value after the
    /// backward pass (as a faulty kernel would leave it) is refused by the
    /// update, which names the tensor and changes nothing: the parameters,
    /// the optimizer's accumulators and the balancer's state are those of a
    /// step that never saw the batch, as the next clean step shows bit for bit.
    func testANonFiniteGradientIsRefusedWithoutChangingAnything() throws {
        let c = ModelFixtures.configuration(.mmoe, tasks: 2)
        let batches = (0..<3).map { ModelFixtures.batch(for: c, size: 16, seed: UInt64(40 + $0)) }
        let optimizers: [OptimizerConfiguration] = [.adagrad(learningRate: 0.05), .clippy(learningRate: 0.05)]
        let balancers = [TaskBalancerConfiguration(), TaskBalancerConfiguration(GradCraft.Options())]
        for optimizer in optimizers {
            for balancer in balancers {
                for value in [Float.nan, .infinity, -.infinity] {
                    func makeStep() throws -> TrainingStep {
                        TrainingStep(model: try ModelFixtures.model(c), optimizer: try optimizer.makeOptimizer(),
                                     balancer: try balancer.makeBalancer(taskCount: 2, seed: 3))
                    }
                    let faulty = try makeStep()
                    let reference = try makeStep()
                    let what = "\(optimizer.kind) \(balancer) \(value)"
                    for step in [faulty, reference] {
                        XCTAssertNil(step.computeGradients(batches[0]), what)
                        XCTAssertTrue(step.applyUpdate(learningRate: 0.05, batchSize: 16).applied, what)
                    }
                    XCTAssertNil(faulty.computeGradients(batches[1]), what)
                    let target = try XCTUnwrap(faulty.modelParameters.first { $0.name.hasSuffix(".W") && !$0.name.hasPrefix("embedding") })
                    let before = bits(faulty.model)
                    target.gradientPointer[target.gradientCount / 2] = value
                    let report = faulty.applyUpdate(learningRate: 0.05, batchSize: 16)
                    XCTAssertFalse(report.applied, what)
                    XCTAssertEqual(report.nonFiniteParameters, [target.name], what)
                    XCTAssertEqual(bits(faulty.model), before, "\(what): the refused update changed a parameter")
                    for step in [faulty, reference] {
                        XCTAssertNil(step.computeGradients(batches[2]), what)
                        XCTAssertTrue(step.applyUpdate(learningRate: 0.05, batchSize: 16).applied, what)
                    }
                    XCTAssertEqual(bits(faulty.model), bits(reference.model), "\(what): the refused step left a trace")
                }
            }
        }
    }

    /// `InjectedFault`'s text form (`ranker-fault-inject --fault`) and the
    /// trainer's check that the site exists: a fault that names no task or
    /// parameter of the model would otherwise inject nothing and let
    /// `faults/nan_step.py` pass without testing anything.
    func testInjectedFaultsAreParsedAndCheckedAgainstTheModel() throws {
        XCTAssertEqual(try InjectedFault(parsing: "input@12=inf"), InjectedFault(site: .input, step: 12, value: .infinity))
        XCTAssertEqual(try InjectedFault(parsing: "loss:1@0=-inf"), InjectedFault(site: .loss(task: 1), step: 0, value: -.infinity))
        let gradient = try InjectedFault(parsing: "gradient:tower.0.W@3=NaN")
        XCTAssertEqual(gradient.site, .gradient(parameter: "tower.0.W"))
        XCTAssertTrue(gradient.value.isNaN)
        for bad in ["input", "input@x=nan", "input@-1=nan", "loss:a@1=nan", "gradient:@1=nan", "weights@1=nan", "input@1=big"] {
            XCTAssertThrowsError(try InjectedFault(parsing: bad), bad) { error in
                XCTAssertTrue("\(error)".contains("expected SITE@STEP=VALUE"), "\(error)")
            }
        }
        let trainer = try Trainer(configuration: configuration(.stop), dataset: try dataset(nil),
                                  runDirectory: temporaryDirectory("sites"))
        XCTAssertNoThrow(try trainer.inject(InjectedFault(site: .input, step: 1, value: .nan)))
        XCTAssertNoThrow(try trainer.inject(InjectedFault(site: .gradient(parameter: trainer.model.parameters[0].name),
                                                          step: 1, value: .nan)))
        XCTAssertThrowsError(try trainer.inject(InjectedFault(site: .loss(task: trainer.model.taskCount), step: 1, value: .nan)))
        XCTAssertThrowsError(try trainer.inject(InjectedFault(site: .gradient(parameter: "no.such.W"), step: 1, value: .nan))) {
            XCTAssertTrue("\($0)".contains("no such parameter"), "\($0)")
        }
    }
}
