import Foundation
import XCTest
@testable import Ranker
@testable import RankerReport

/// The trainer's telemetry lines carry exactly TELEMETRY.md's keys, and what
/// the writer encodes the report's reader decodes back (NaN as null).
final class TelemetryRecordTests: XCTestCase {
    private var directories: [URL] = []

    override func tearDown() {
        for url in directories { try? FileManager.default.removeItem(at: url) }
        super.tearDown()
    }

    private func temporaryDirectory(_ name: String) throws -> URL {
        let url = FileManager.default.temporaryDirectory.appendingPathComponent("ranker-telemetry-\(name)-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: url, withIntermediateDirectories: true)
        directories.append(url)
        return url
    }

    func testTrainerLinesHaveTheDocumentedKeys() throws {
        let c = TrainerTests.smallRun(optimizer: .clippy(learningRate: 0.1),
                                      balancer: TaskBalancerConfiguration(GradCraft.Options()))
        let dir = try temporaryDirectory("keys")
        _ = try Trainer(configuration: c, runDirectory: dir.appendingPathComponent("run")).run()
        let text = try String(contentsOf: dir.appendingPathComponent("run/telemetry.jsonl"), encoding: .utf8)
        var keys: [String: Set<String>] = [:]
        for line in text.split(separator: "\n") {
            let object = try XCTUnwrap(JSONSerialization.jsonObject(with: Data(line.utf8)) as? [String: Any])
            let type = try XCTUnwrap(object["type"] as? String)
            keys[type, default: []].formUnion(object.keys)
            if type == "step" { XCTAssertTrue(object["day"] is NSNull, "epoch mode: day is null") }
        }
        XCTAssertEqual(keys["run"], ["type", "name", "model", "tasks", "combiner", "combiner_kind", "optimizer",
                                     "learning_rate", "batch_size", "mode", "threads", "seed", "train_examples",
                                     "total_steps", "parameters", "parameter_count", "started", "blas_kernels"])
        XCTAssertEqual(keys["step"], ["type", "step", "epoch", "day", "lr", "losses", "objective", "weights",
                                      "grad_norms", "cosines", "conflicting_pairs", "pinv_fallbacks", "clip_factors",
                                      "samples_per_s"])
        XCTAssertEqual(keys["eval"], ["type", "step", "epoch", "split", "metrics", "mean_auc", "non_finite_predictions"])
        XCTAssertEqual(keys["end"], ["type", "step", "best_step", "best_mean_auc", "stopped", "train_samples_per_s",
                                     "events", "test"])
    }

    func testWrittenRecordsReadBackWithNonFiniteNumbersAsNull() throws {
        let dir = try temporaryDirectory("round-trip")
        let url = dir.appendingPathComponent("telemetry.jsonl")
        let run = TelemetryRecord.Run(name: "a \"quoted\"\nname", model: "mmoe", tasks: ["click", "like"],
                                      combiner: "fixed", combinerKind: "loss_weights", optimizer: "adagrad",
                                      learningRate: 0.01, batchSize: 32, mode: "epochs", threads: 1, seed: 7,
                                      trainExamples: 100, totalSteps: 4, parameters: ["w/0", "b"], parameterCount: 12,
                                      resumedFromStep: nil, started: nil)
        let step = TelemetryRecord.Step(step: 3, epoch: 0, day: nil, learningRate: 0.01, losses: [.nan, 0.5],
                                        objective: .infinity, weights: [1, 1], clipFactors: ["w/0": 0.5, "b": .nan],
                                        samplesPerSecond: 10)
        let event = TelemetryRecord.Event(step: 3, kind: "nan", task: "click", parameter: nil, value: nil, message: "m")
        let evaluation = TelemetryRecord.Evaluation(step: 4, epoch: 1, day: nil, split: "valid",
                                                    metrics: ["click": ["auc": .nan, "examples": 50]],
                                                    meanAUC: .nan, nonFinitePredictions: 0)
        let end = TelemetryRecord.End(step: 4, bestStep: nil, bestMeanAUC: nil, stopped: "completed",
                                      trainSamplesPerSecond: 10, events: ["nan": 1], test: [:])
        let writer = try TelemetryWriter(url: url)
        for record in [TelemetryRecord.run(run), .step(step), .event(event), .evaluation(evaluation), .end(end)] {
            try writer.write(record)
        }
        try writer.flush()
        let text = try String(contentsOf: url, encoding: .utf8)
        XCTAssertTrue(text.contains("\"losses\":[null,0.5]") && text.contains("\"objective\":null"), text)
        XCTAssertTrue(text.contains("\"best_step\":null") && text.contains("\"parameter\":null"), text)
        var read: [TelemetryRecord] = []
        try TelemetryLogReader(url: url).forEachRecord { record, _ in read.append(record) }
        XCTAssertEqual(read.count, 5)
        guard case .run(let r) = read[0], case .step(let s) = read[1], case .event(let e) = read[2],
              case .evaluation(let v) = read[3], case .end(let n) = read[4] else { return XCTFail("\(read)") }
        XCTAssertEqual(r, run)
        XCTAssertTrue(s.losses[0].isNaN && s.losses[1] == 0.5 && s.objective!.isNaN)
        XCTAssertEqual(s.clipFactors?["w/0"], 0.5)
        XCTAssertTrue(s.clipFactors!["b"]!.isNaN)
        XCTAssertNil(s.day)
        XCTAssertEqual(e.task, "click")
        XCTAssertNil(e.parameter)
        XCTAssertTrue(e.value!.isNaN, "a null number field reads as NaN")
        XCTAssertTrue(v.metrics["click"]!["auc"]!.isNaN && v.metrics["click"]!["examples"] == 50)
        XCTAssertEqual(n.events, ["nan": 1])
        XCTAssertNil(n.bestStep)
    }

    /// A failed write of the buffer (the writer writes past 1 MiB of lines)
    /// is an error of `write`, naming the file and the system's message.
    /// Before, `write` dropped it (`try? flush()`) and the run went on with a
    /// telemetry that had lost its lines. `/dev/full` fails every write with
    /// ENOSPC.
    func testAFailedWriteOfTheBufferIsAnError() throws {
        let full = URL(fileURLWithPath: "/dev/full")
        guard FileManager.default.fileExists(atPath: full.path) else { throw XCTSkip("no /dev/full on this system") }
        let writer = try TelemetryWriter(url: full, truncatingTo: 0)
        let step = TelemetryRecord.Step(step: 1, epoch: 0, day: nil, learningRate: 0.01, losses: [0.5, 0.25],
                                        objective: 0.75, weights: [1, 1], samplesPerSecond: 10)
        let lineBytes = try JSONEncoder().encode(TelemetryRecord.step(step)).count
        var written = 0
        var failure: Error?
        while failure == nil && written < 4 * (1 << 20) / lineBytes {
            do { try writer.write(.step(step)) } catch { failure = error }
            written += 1
        }
        let error = try XCTUnwrap(failure as? FileIOError, "no error after \(written) lines: \(String(describing: failure))")
        XCTAssertEqual(error.path, "/dev/full")
        XCTAssertEqual(error.operation, "write")
        XCTAssertEqual(error.message, "No space left on device")
        XCTAssertGreaterThan(written, (1 << 20) / (lineBytes + 64), "the buffer is written only past 1 MiB")
        XCTAssertThrowsError(try writer.flush(), "the lines are still buffered and still cannot be written")
    }
}
