import Foundation
import XCTest
@testable import Ranker

/// Configurations that used to crash the process or write outside `runs/`
/// are rejected with a message naming the key: a gradient method with one
/// task (the multi-gradient pass needs two), no task at all, a run name that
/// is a path.
final class ConfigurationValidationTests: XCTestCase {
    /// The one-task model of `model` trained with `balancer` on `data.tasks: ["task_1"]`.
    func oneTaskRun(_ model: ModelKind, _ balancer: TaskBalancerConfiguration) -> RunConfiguration {
        var synthetic = SyntheticClickLogConfig()
        synthetic.rows = 400
        synthetic.tasks = 2
        synthetic.positiveRates = [0.3, 0.1]
        var c = RunConfiguration(name: "one-task", data: DataConfiguration(source: .synthetic, synthetic: synthetic, tasks: ["task_1"]),
                                 model: ModelConfiguration(model: model, tasks: [], bottomHidden: [4], experts: 2,
                                                           expertHidden: [4], towerHidden: [2]),
                                 balancer: balancer)
        c.training.batchSize = 64
        c.training.maxSteps = 2
        c.output.progress = .silent
        c.output.report = false
        return c
    }

    /// Before: `Trainer.run()` stopped the process at the precondition
    /// "the multi-gradient pass needs at least two tasks" (SIGILL).
    func testGradientMethodsWithOneTaskAreRejectedBeforeTraining() throws {
        let balancers: [(String, TaskBalancerConfiguration)] = [
            ("gradcraft", TaskBalancerConfiguration(combination: try .init(defaultsOf: "gradcraft", family: .gradientCombination))),
            ("pcgrad", TaskBalancerConfiguration(combination: try .init(defaultsOf: "pcgrad", family: .gradientCombination))),
            ("gradnorm", TaskBalancerConfiguration(weighting: try .init(defaultsOf: "gradnorm", family: .lossWeighting))),
        ]
        for model in [ModelKind.sharedBottom, .mmoe] {
            for (name, balancer) in balancers {
                let configuration = oneTaskRun(model, balancer)
                let directory = FileManager.default.temporaryDirectory.appendingPathComponent("one-task-\(UUID().uuidString)")
                defer { try? FileManager.default.removeItem(at: directory) }
                XCTAssertThrowsError(try Trainer(configuration: configuration, dataset: RunData.load(configuration.data),
                                                 runDirectory: directory).run()) { error in
                    let text = "\(error)"
                    XCTAssertTrue(text.contains("\(name) needs the gradients of at least two tasks; the model has 1: select two or more label columns"),
                                  "\(model) \(name): \(text)")
                }
            }
        }
        // Fixed weighting trains one task as before.
        let fixed = oneTaskRun(.mmoe, TaskBalancerConfiguration())
        let directory = FileManager.default.temporaryDirectory.appendingPathComponent("one-task-\(UUID().uuidString)")
        defer { try? FileManager.default.removeItem(at: directory) }
        XCTAssertNoThrow(try Trainer(configuration: fixed, dataset: RunData.load(fixed.data), runDirectory: directory).run())
    }

    /// Before: `"tasks": []` reached `Dataset.init`'s precondition (SIGILL).
    func testNoTaskIsRejected() throws {
        var c = oneTaskRun(.mmoe, TaskBalancerConfiguration())
        c.data.tasks = []
        XCTAssertThrowsError(try c.validate()) { error in
            XCTAssertEqual("\(error)", "data.tasks: names no label column; give at least one (or leave the key out for all of them)")
        }
        XCTAssertThrowsError(try RunData.load(c.data)) { error in
            XCTAssertEqual("\(error)", "data.tasks: names no label column; give at least one (or leave the key out for all of them)")
        }
        c.data.tasks = ["task_1", "task_1"]
        XCTAssertThrowsError(try c.validate()) { error in
            XCTAssertEqual("\(error)", "data.tasks: \"task_1\" is listed twice")
        }
    }

    /// Before: `"name": "../../evil"` made the run directory `runs/../../evil-<time>`, outside `runs/`.
    func testRunNamesThatArePathsAreRejected() throws {
        for name in ["../../evil", "a/b", "..", ".hidden", "", "tab\tname", "/abs"] {
            var c = oneTaskRun(.mmoe, TaskBalancerConfiguration())
            c.name = name
            XCTAssertThrowsError(try c.validate(), "\(name)") { error in
                XCTAssertTrue("\(error)".hasPrefix("name: \"\(DiagnosticText.visible(name))\" cannot name a run directory"), "\(error)")
            }
        }
        for name in ["mmoe-synthetic", "run_1", "census.v2", "a..b"] {
            var c = oneTaskRun(.mmoe, TaskBalancerConfiguration())
            c.name = name
            XCTAssertNoThrow(try c.validate(), name)
        }
    }
}
