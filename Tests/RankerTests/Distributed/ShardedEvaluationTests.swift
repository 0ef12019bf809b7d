import Foundation
import XCTest
@testable import Ranker

/// Evaluation split over replicas (`Evaluator.logits(rows:group:)`): every
/// rank scores its slice of the rows and gets every row's logits, equal to
/// those one process computes over all rows, so every rank's metrics are one
/// process's metrics.
final class ShardedEvaluationTests: XCTestCase {
    func testEveryRankGetsTheLogitsAndMetricsOfOneProcess() throws {
        let text = """
            {"name": "sharded-eval", "data": {"source": "synthetic", "synthetic": {"rows": 3001, "tasks": 3}},
             "model": {"model": "mmoe", "experts": 3, "expert_hidden": [16], "tower_hidden": [8], "batch_norm": true},
             "training": {"seed": 5}}
            """
        let configuration = try JSONDecoder().decode(RunConfiguration.self, from: Data(text.utf8))
        let dataset = try RunData.load(configuration.data)
        let modelConfiguration = try RunData.modelConfiguration(configuration.model, for: dataset)
        // One model per rank (a model's forward buffers are its own), all with the same weights.
        func evaluator() throws -> Evaluator {
            let model = try makeModel(modelConfiguration)
            var rng = RandomGenerator(seed: 5)
            model.initialize(using: &rng)
            return Evaluator(model: model, dataset: dataset, batchSize: 256)
        }
        let rows = Array(dataset.splits.valid)
        XCTAssertGreaterThan(rows.count, 300)
        let alone = try evaluator()
        let expectedLogits = alone.logits(rows: rows)
        let expected = alone.evaluate(rows: rows, split: "valid")

        for size in [2, 3] {
            let group = ThreadedReplicaGroup(size: size)
            final class Results: @unchecked Sendable {
                let lock = NSLock()
                var logits: [[[Float]]?]
                var evaluations: [Evaluation?]
                var errors: [Error] = []
                init(_ n: Int) { logits = Array(repeating: nil, count: n); evaluations = Array(repeating: nil, count: n) }
            }
            let results = Results(size)
            let evaluators = try (0..<size).map { _ in try evaluator() }
            let done = DispatchGroup()
            for r in 0..<size {
                done.enter()
                let thread = Thread { [ranks = group.ranks] in
                    defer { done.leave() }
                    do {
                        let z = try evaluators[r].logits(rows: rows, group: ranks[r])
                        let e = try evaluators[r].evaluate(rows: rows, split: "valid", group: ranks[r])
                        results.lock.lock(); results.logits[r] = z; results.evaluations[r] = e; results.lock.unlock()
                    } catch {
                        results.lock.lock(); results.errors.append(error); results.lock.unlock()
                    }
                }
                thread.stackSize = 8 << 20
                thread.start()
            }
            done.wait()
            XCTAssertTrue(results.errors.isEmpty, "\(results.errors)")
            for r in 0..<size {
                let z = try XCTUnwrap(results.logits[r])
                XCTAssertEqual(z.count, expectedLogits.count)
                var largest: Float = 0
                for (column, reference) in zip(z, expectedLogits) {
                    XCTAssertEqual(column.count, rows.count)
                    for (a, b) in zip(column, reference) { largest = max(largest, abs(a - b)) }
                }
                XCTAssertLessThanOrEqual(largest, 1e-5, "\(size) ranks, rank \(r)")
                let e = try XCTUnwrap(results.evaluations[r])
                XCTAssertEqual(e.tasks.map(\.examples), expected.tasks.map(\.examples))
                XCTAssertEqual(e.tasks.map(\.positives), expected.tasks.map(\.positives))
                for (a, b) in zip(e.tasks, expected.tasks) {
                    XCTAssertEqual(a.auc ?? .nan, b.auc ?? .nan, accuracy: 1e-6, "\(size) ranks, rank \(r), \(a.name)")
                    XCTAssertEqual(a.logloss ?? .nan, b.logloss ?? .nan, accuracy: 1e-6)
                }
                // Every rank decides on the same numbers.
                XCTAssertEqual(e.metricsJSON, results.evaluations[0]?.metricsJSON)
            }
        }
    }
}
