import Foundation
import XCTest
@testable import Ranker
@testable import RankerReport

/// Issue 14, defect 3: an explosion at the first steps of a run is caught by
/// the absolute loss limit (spikes are judged only after warm-up, AUC
/// divergence only after a task learned), every event carries its diagnosis,
/// and no checkpoint that resume would reject is written.
final class StabilityLimitTests: RunDirectoryTestCase {
    /// Adagrad at learning rate 1e6: the loss leaves 0.7 for 1e17 and more at step 1.
    func explodingRun(_ policy: StabilityPolicy) -> RunConfiguration {
        var c = TrainerTests.smallRun(optimizer: .adagrad(learningRate: 1e6))
        c.training.epochs = 1
        c.stability.policy = policy
        return c
    }

    func events(_ dir: URL) throws -> [[String: Any]] {
        try TelemetryText.read(dir).split(separator: "\n").compactMap {
            try JSONSerialization.jsonObject(with: Data($0.utf8)) as? [String: Any]
        }.filter { $0["type"] as? String == "event" }
    }

    /// Before: "completed" with no event under all three policies. Now stop
    /// and skip stop the run; rollback rolls back (halving the learning
    /// rate) until the loss stays under the limit or `max_rollbacks` is spent.
    func testAnExplosionAtTheFirstStepsIsCaughtUnderEveryPolicy() throws {
        for policy in [StabilityPolicy.stop, .skip, .rollback] {
            let c = explodingRun(policy)
            let dir = temporaryDirectory(policy.rawValue)
            let summary = try Trainer(configuration: c, runDirectory: dir).run()
            if policy == .rollback {
                XCTAssertNotNil(summary.events["rollback"], "\(summary.events)")
            } else {
                XCTAssertEqual(summary.stopReason, .unstable, policy.rawValue)
            }
            XCTAssertNotNil(summary.events["divergence"], policy.rawValue)
            let all = try events(dir)
            let first = try XCTUnwrap(all.first, policy.rawValue)
            XCTAssertEqual(first["kind"] as? String, "divergence")
            XCTAssertLessThanOrEqual(try XCTUnwrap(first["step"] as? Int), 2, "caught at once, long before warm-up ends")
            XCTAssertTrue((first["message"] as? String)?.contains("absolute limit") == true, "\(first)")
            // Every event names the task and the tensors that moved most.
            for e in all {
                XCTAssertNotNil(e["task"] as? String, "\(e)")
                XCTAssertNotNil(e["gradient_ratio_tensor"] as? String, "\(e)")
                XCTAssertNotNil(e["update_ratio_tensor"] as? String, "\(e)")
                XCTAssertNotNil(e["update_step"] as? Int, "\(e)")
            }
            // The checkpoint the run left is one its own --resume accepts.
            XCTAssertNoThrow(try Trainer(configuration: c, runDirectory: dir, resume: true), policy.rawValue)
        }
    }

    /// The limit is a setting: `loss_limit_factor` 0 turns it off (and the
    /// old blindness returns), and it is read from JSON.
    func testTheLimitIsConfigurable() throws {
        var c = explodingRun(.stop)
        c.stability.lossLimitFactor = 0
        c.training.maxSteps = 3
        XCTAssertEqual(try Trainer(configuration: c, runDirectory: temporaryDirectory("off")).run().stopReason, .maxSteps)
        let settings = try JSONDecoder().decode(StabilitySettings.self, from: Data(#"{"loss_limit_factor": 20}"#.utf8))
        XCTAssertEqual(settings.lossLimitFactor, 20)
        XCTAssertEqual(StabilitySettings().lossLimitFactor, 100)
    }

    func testTheMonitorJudgesTheLimitFromStepZero() {
        var monitor = StabilityMonitor(settings: StabilitySettings(), taskNames: ["a", "b"])
        let events = monitor.observe(step: 0, losses: [0.69, 1e21], lossLimits: [69.3, 69.3])
        XCTAssertEqual(events.map(\.kind), [.divergence])
        XCTAssertEqual(events.first?.task, "b")
        XCTAssertEqual(monitor.averages[1], nil, "an exploded loss does not seed the moving average")
        XCTAssertEqual(monitor.observe(step: 1, losses: [0.69, 1e21], lossLimits: [69.3, nil]), [])
    }

    /// A checkpoint with an infinite Adagrad accumulator — which resume
    /// rejects — is refused before it is written, naming the tensor.
    func testACheckpointThatResumeWouldRejectIsNeverWritten() throws {
        let c = TrainerTests.smallRun()
        let trainer = try Trainer(configuration: c, runDirectory: temporaryDirectory("inf"))
        let checkpoint = try Checkpoint(parameters: trainer.step.parameters, optimizer: trainer.optimizer)
        let accumulator = try XCTUnwrap(checkpoint.tensors["optimizer/experts.0.W"])
        accumulator.data[3] = .infinity
        XCTAssertThrowsError(try trainer.requireResumable(checkpoint)) { error in
            XCTAssertTrue("\(error)".contains("optimizer/experts.0.W holds inf at index 3"), "\(error)")
        }
        // It is exactly what resume rejects.
        let fresh = try Trainer(configuration: c, runDirectory: temporaryDirectory("fresh"))
        XCTAssertThrowsError(try checkpoint.restore(into: fresh.step.parameters, optimizer: fresh.optimizer))
    }

    /// The HTML report shows the diagnosis in its event table.
    func testTheReportShowsTheDiagnosis() throws {
        let dir = temporaryDirectory("report")
        _ = try Trainer(configuration: explodingRun(.stop), runDirectory: dir).run()
        let tensor = try XCTUnwrap(try events(dir).first?["update_ratio_tensor"] as? String)
        let html = try TrainingReport(runDirectory: dir).html
        XCTAssertTrue(html.contains("largest update/weight"))
        XCTAssertTrue(html.contains("<td class=\"text\">\(tensor) "), "the event row names \(tensor)")
    }
}
