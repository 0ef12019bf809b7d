import Foundation
import XCTest
@testable import Ranker

/// `training.last_batch`: a pass over `n` rows with batch size `b` trains
/// `⌊n / b⌋` full batches and drops the `n mod b` remainder (`drop`), or
/// trains it as a smaller batch (`partial`, the default).
final class LastBatchTests: RunDirectoryTestCase {
    func testBatchCountsAndDroppedRows() {
        // 10 rows in batches of 4: 4 + 4 + 2.
        XCTAssertEqual(TrainingPlan.batches(rows: 10, batchSize: 4, dropsSingleRow: false, dropsRemainder: true).count, 2)
        XCTAssertEqual(TrainingPlan.batches(rows: 10, batchSize: 4, dropsSingleRow: false, dropsRemainder: true).droppedRows, 2)
        XCTAssertEqual(TrainingPlan.batches(rows: 10, batchSize: 4, dropsSingleRow: false).count, 3)
        XCTAssertEqual(TrainingPlan.batches(rows: 10, batchSize: 4, dropsSingleRow: false).droppedRows, 0)
        // A one-row remainder with BatchNorm is dropped either way; a longer one only with drop.
        XCTAssertEqual(TrainingPlan.batches(rows: 9, batchSize: 4, dropsSingleRow: true).droppedRows, 1)
        XCTAssertEqual(TrainingPlan.batches(rows: 9, batchSize: 4, dropsSingleRow: true).count, 2)
        XCTAssertEqual(TrainingPlan.batches(rows: 10, batchSize: 4, dropsSingleRow: true).count, 3)
        // No remainder: nothing dropped.
        XCTAssertEqual(TrainingPlan.batches(rows: 12, batchSize: 4, dropsSingleRow: true, dropsRemainder: true).count, 3)
        XCTAssertEqual(TrainingPlan.batches(rows: 12, batchSize: 4, dropsSingleRow: true, dropsRemainder: true).droppedRows, 0)
        // Fewer rows than a batch: nothing trains with drop.
        XCTAssertEqual(TrainingPlan.batches(rows: 3, batchSize: 4, dropsSingleRow: false, dropsRemainder: true).count, 0)
        XCTAssertEqual(TrainingPlan.batches(rows: 3, batchSize: 4, dropsSingleRow: false, dropsRemainder: true).droppedRows, 3)
    }

    /// A sequential run (3 trained days of about 3,000 rows, batch 64).
    func sequentialRun(_ lastBatch: TrainingSettings.LastBatch) -> RunConfiguration {
        var c = StabilityTrialTests.tinyRun(.adagrad(learningRate: 0.1))
        c.training.lastBatch = lastBatch
        return c
    }

    func testDropTrainsOnlyFullBatchesAndCountsTheRemainders() throws {
        let dataset = StabilityTrialTests.dataset
        let trained = dataset.rowsByDay(Array(0..<dataset.count)).dropLast().map(\.rows.count)
        XCTAssertTrue(trained.contains { $0 % 64 != 0 }, "the days have remainders to drop")
        let trainer = try Trainer(configuration: sequentialRun(.drop), dataset: dataset, runDirectory: temporaryDirectory("drop"))
        let summary = try trainer.run()
        XCTAssertEqual(summary.steps, trained.reduce(0) { $0 + $1 / 64 })
        XCTAssertEqual(summary.droppedRows, trained.reduce(0) { $0 + $1 % 64 })
        XCTAssertEqual(summary.droppedBatches, trained.filter { $0 % 64 != 0 }.count)
        // Every trained batch was full: the rows trained are exactly steps × 64.
        XCTAssertEqual(trainer.state.trainSamples, summary.steps * 64)

        let partial = try Trainer(configuration: sequentialRun(.partial), dataset: dataset,
                                  runDirectory: temporaryDirectory("partial"))
        let partialSummary = try partial.run()
        XCTAssertEqual(partialSummary.steps, trained.reduce(0) { $0 + ($1 + 63) / 64 })
        XCTAssertEqual(partialSummary.droppedRows, 0)
        XCTAssertEqual(partial.state.trainSamples, trained.reduce(0, +), "every row trained, remainders as small batches")
    }

    func testDropInEpochMode() throws {
        var c = sequentialRun(.drop)
        c.training.mode = .epochs
        c.training.epochs = 2
        let dataset = StabilityTrialTests.dataset
        let n = dataset.splits.train.count
        XCTAssertNotEqual(n % 64, 0)
        let trainer = try Trainer(configuration: c, dataset: dataset, runDirectory: temporaryDirectory("epochs"))
        let summary = try trainer.run()
        XCTAssertEqual(summary.steps, 2 * (n / 64))
        XCTAssertEqual(summary.droppedRows, 2 * (n % 64))
        XCTAssertEqual(trainer.state.trainSamples, summary.steps * 64)
    }

    func testTheSettingDecodesAndRejectsUnknownValues() throws {
        func decode(_ json: String) throws -> TrainingSettings { try JSONDecoder().decode(TrainingSettings.self, from: Data(json.utf8)) }
        XCTAssertEqual(try decode("{}").lastBatch, .partial)
        XCTAssertEqual(try decode(#"{"last_batch": "drop"}"#).lastBatch, .drop)
        XCTAssertThrowsError(try decode(#"{"last_batch": "carry"}"#))
    }
}
