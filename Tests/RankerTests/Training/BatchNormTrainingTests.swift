import Foundation
import XCTest
@testable import Ranker
import RankerTestSupport

/// The trainer with BatchNorm and dropout (ALGORITHMS.md 3.2.1): bitwise
/// resume (running statistics and the dropout generator in the checkpoint),
/// the kept best state, the trailing one-row batch, the configuration keys.
final class BatchNormTrainingTests: TemporaryDirectoryTestCase {
    static func run(_ model: ModelKind, balancer: TaskBalancerConfiguration = TaskBalancerConfiguration()) -> RunConfiguration {
        var c = TrainerTests.smallRun(model, optimizer: .clippy(learningRate: 0.1), balancer: balancer)
        c.model.batchNorm = true
        c.model.gateBatchNorm = true
        c.model.dropout = 0.2
        c.training.evalEverySteps = 4
        return c
    }

    func bits(_ url: URL) throws -> [String: [UInt32]] {
        try Checkpoint.read(from: url).tensors.mapValues { $0.toArray().map(\.bitPattern) }
    }

    func testResumeWithBatchNormAndDropoutIsBitwiseIdentical() throws {
        let variants: [(String, RunConfiguration)] = [
            ("mmoe-fixed", Self.run(.mmoe)),
            ("ple-pcgrad", Self.run(.ple, balancer: TaskBalancerConfiguration(PCGrad.Options()))),
            ("esmm-fixed", Self.run(.esmm)),
        ]
        for (name, configuration) in variants {
            let dataset = try RunData.load(configuration.data)
            let straightDirectory = file("\(name)-straight")
            let straight = try Trainer(configuration: configuration, dataset: dataset, runDirectory: straightDirectory)
            let summary = try straight.run()
            XCTAssertEqual(summary.stopReason, .completed, name)
            let straightCheckpoint = try Checkpoint.read(from: straight.checkpointURL)
            XCTAssertTrue(straightCheckpoint.tensors.keys.contains { $0.hasPrefix("model/") && $0.hasSuffix(".bn.running_var") },
                          "\(name): running statistics in the checkpoint")
            XCTAssertTrue(try straightCheckpoint.string(forKey: Checkpoint.Key.trainer).contains("dropoutGenerator"), name)
            let stepsPerEpoch = (dataset.splits.train.count + 255) / 256
            for interruptAt in [stepsPerEpoch / 2 + 1, stepsPerEpoch + 1] {
                var interrupted = configuration
                interrupted.training.interruptAfterSteps = interruptAt
                let directory = file("\(name)-\(interruptAt)")
                let first = try Trainer(configuration: interrupted, dataset: dataset, runDirectory: directory).run()
                XCTAssertEqual(first.stopReason, .interrupted, name)
                let resumed = try Trainer(configuration: configuration, dataset: dataset, runDirectory: directory,
                                          resume: true).run()
                XCTAssertEqual(resumed.steps, summary.steps, name)
                let a = try bits(straight.checkpointURL)
                let b = try bits(directory.appendingPathComponent("checkpoint.safetensors"))
                XCTAssertEqual(a.keys.sorted(), b.keys.sorted(), name)
                for key in a.keys.sorted() where a[key] != b[key] {
                    XCTFail("\(name), interrupted at \(interruptAt): \(key) differs after resume")
                }
                XCTAssertEqual(try SafeTensorsReader(url: straight.bestURL).tensorNames,
                               try SafeTensorsReader(url: directory.appendingPathComponent("best.safetensors")).tensorNames)
                XCTAssertEqual(summary.test?.meanAUC, resumed.test?.meanAUC, name)
            }
        }
    }

    /// best.safetensors holds the running statistics; the test evaluation of
    /// the kept state equals what the reloaded export predicts.
    func testBestStateKeepsTheRunningStatistics() throws {
        let configuration = Self.run(.sharedBottom)
        let dataset = try RunData.load(configuration.data)
        let trainer = try Trainer(configuration: configuration, dataset: dataset, runDirectory: file("best"))
        let summary = try trainer.run()
        let reader = try SafeTensorsReader(url: trainer.bestURL)
        let state = trainer.model.stateTensors
        XCTAssertFalse(state.isEmpty)
        for s in state {
            // After the run the trainer tested the kept state: the model holds it.
            XCTAssertEqual(bitPatterns(try reader.readMatrix(named: s.name)), bitPatterns(s.value), s.name)
        }
        let loaded = try ModelExport.loadModel(from: trainer.bestURL)
        let test = Evaluator(model: loaded, dataset: dataset).evaluate(rows: dataset.splits.test, split: "test")
        XCTAssertEqual(test.meanAUC, summary.test?.meanAUC)
    }

    /// A pass whose last batch would hold one row leaves it out (and counts it).
    func testTrailingOneRowBatchIsLeftOutWithBatchNorm() throws {
        var configuration = Self.run(.mmoe)
        configuration.training.evalEverySteps = 0
        let dataset = try RunData.load(configuration.data)
        let rows = dataset.splits.train.count
        configuration.training.batchSize = rows - 1
        let trainer = try Trainer(configuration: configuration, dataset: dataset, runDirectory: file("dropped"))
        let summary = try trainer.run()
        XCTAssertEqual(summary.steps, configuration.training.epochs, "one full batch per epoch")
        XCTAssertEqual(trainer.state.droppedBatches, configuration.training.epochs)
        XCTAssertEqual(trainer.state.trainSamples, configuration.training.epochs * (rows - 1))

        var plain = configuration
        plain.model.batchNorm = false
        plain.model.gateBatchNorm = false
        let withoutBatchNorm = try Trainer(configuration: plain, dataset: dataset, runDirectory: file("kept"))
        XCTAssertEqual(try withoutBatchNorm.run().steps, 2 * configuration.training.epochs, "no BatchNorm: the row trains")
        XCTAssertNil(withoutBatchNorm.state.droppedBatches)

        configuration.training.batchSize = 1
        XCTAssertThrowsError(try Trainer(configuration: configuration, dataset: dataset, runDirectory: file("one"))) {
            XCTAssertTrue("\($0)".contains("batch_size must be at least 2 for a model with BatchNorm"), "\($0)")
        }
    }

    func testConfigurationKeysDefaultsAndErrors() throws {
        let json = #"{"model": "ple", "batch_norm": true, "gate_batch_norm": true, "dropout": 0.25}"#
        let c = try JSONDecoder().decode(ModelConfiguration.self, from: Data(json.utf8))
        XCTAssertEqual([c.batchNorm, c.gateBatchNorm], [true, true])
        XCTAssertEqual(c.dropout, 0.25)
        let plain = try JSONDecoder().decode(ModelConfiguration.self, from: Data(#"{"model": "mmoe"}"#.utf8))
        XCTAssertEqual([plain.batchNorm, plain.gateBatchNorm], [false, false])
        XCTAssertEqual(plain.dropout, 0)
        // Off: not written, so older files and new ones encode alike; on: written and read back.
        let encoder = JSONEncoder()
        encoder.outputFormatting = .sortedKeys
        let plainText = String(decoding: try encoder.encode(plain), as: UTF8.self)
        for key in ["batch_norm", "gate_batch_norm", "dropout"] { XCTAssertFalse(plainText.contains(key), plainText) }
        XCTAssertEqual(try JSONDecoder().decode(ModelConfiguration.self, from: try encoder.encode(c)), c)
        for bad in [Float(1), -0.1, .nan] {
            var d = ModelFixtures.configuration(.mmoe)
            d.dropout = bad
            XCTAssertThrowsError(try d.validate()) {
                XCTAssertEqual("\($0)", "model configuration: dropout: must be a rate in [0, 1), got \(bad)")
            }
        }
    }
}
