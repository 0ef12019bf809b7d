import Foundation
import XCTest
@testable import Ranker

/// Adam named in a JSON run configuration trains a model (the training loss
/// falls) and a run interrupted after a checkpoint resumes bitwise, moments
/// (`optimizer/<parameter>/m`, `/v`) included.
final class AdamTrainingTests: RunDirectoryTestCase {
    let runJSON = """
        {
          "name": "adam",
          "data": {"source": "synthetic",
                   "synthetic": {"rows": 3000, "users": 200, "items": 500, "tasks": 2, "positive_rates": [0.3]}},
          "model": {"model": "mmoe", "experts": 3, "expert_hidden": [16, 8], "tower_hidden": [8]},
          "optimizer": {"kind": "adam", "learning_rate": 0.001},
          "training": {"epochs": 3, "batch_size": 128, "seed": 5},
          "output": {"progress": "none", "report": false}
        }
        """

    /// The summed task losses of the step lines, in step order.
    func stepLosses(_ directory: URL) throws -> [Double] {
        let text = try String(contentsOf: directory.appendingPathComponent("telemetry.jsonl"), encoding: .utf8)
        return try text.split(separator: "\n").compactMap { line in
            guard case .step(let s) = try JSONDecoder().decode(TelemetryRecord.self, from: Data(line.utf8)) else {
                return nil
            }
            return s.losses.reduce(0, +)
        }
    }

    func testTrainsAndResumesBitwise() throws {
        let configuration = try JSONDecoder().decode(RunConfiguration.self, from: Data(runJSON.utf8))
        XCTAssertEqual(configuration.optimizer.kind.rawValue, "adam")
        XCTAssertEqual(configuration.optimizer.learningRate, 0.001)
        let dataset = try RunData.load(configuration.data)
        let straight = temporaryDirectory("straight")
        let s = try Trainer(configuration: configuration, dataset: dataset, runDirectory: straight).run()
        XCTAssertEqual(s.stopReason, .completed)

        let losses = try stepLosses(straight)
        XCTAssertGreaterThanOrEqual(losses.count, 20)
        let window = losses.count / 4
        let first = losses.prefix(window).reduce(0, +) / Double(window)
        let last = losses.suffix(window).reduce(0, +) / Double(window)
        XCTAssertLessThan(last, first, "the mean training loss of the last quarter of steps is below the first's")

        var interrupted = configuration
        interrupted.training.interruptAfterSteps = s.steps / 2
        let dir = temporaryDirectory("resumed")
        XCTAssertEqual(try Trainer(configuration: interrupted, dataset: dataset, runDirectory: dir).run().stopReason,
                       .interrupted)
        let resumed = try Trainer(configuration: configuration, dataset: dataset, runDirectory: dir, resume: true).run()
        XCTAssertEqual(resumed.stopReason, .completed)
        XCTAssertEqual(resumed.steps, s.steps)

        let a = try Checkpoint.read(from: straight.appendingPathComponent("checkpoint.safetensors")).tensors
        let b = try Checkpoint.read(from: dir.appendingPathComponent("checkpoint.safetensors")).tensors
        XCTAssertEqual(a.keys.sorted(), b.keys.sorted())
        let moments = a.keys.filter { $0.hasPrefix("optimizer/") }
        XCTAssertFalse(moments.isEmpty)
        XCTAssertTrue(moments.allSatisfy { $0.hasSuffix("/m") || $0.hasSuffix("/v") }, "\(moments.sorted())")
        for key in a.keys.sorted() {
            XCTAssertEqual(a[key]!.toArray().map(\.bitPattern), b[key]!.toArray().map(\.bitPattern), "tensor \(key)")
        }
        XCTAssertEqual(s.test?.meanAUC, resumed.test?.meanAUC)
    }
}
