import Foundation
import XCTest
@testable import Ranker
import RankerTestSupport

/// Sequence fields downstream of the input layer: every architecture's
/// gradients (weighted and per-task passes) against finite differences with
/// a pooled and an attended history in `x`; training on the synthetic log
/// with a behaviour history resumes bitwise (checkpoints hold the attention
/// MLP and every table).
final class SequenceTrainingTests: RunDirectoryTestCase {
    static let sequences = [
        SequenceField(name: "history", vocabulary: 5, dimension: 4, maxLength: 4, sharesEmbeddingWith: "item", pooling: .mean),
        SequenceField(name: "clicks", vocabulary: 5, dimension: 4, maxLength: 3, sharesEmbeddingWith: "item",
                      pooling: .attention, target: "item", attentionHidden: [4], attentionSoftmax: true),
        SequenceField(name: "tags", vocabulary: 6, dimension: 2, maxLength: 3, pooling: .attention, target: "context",
                      attentionHidden: [3], attentionSoftmax: false),
    ]

    static func configuration(_ kind: ModelKind) -> ModelConfiguration {
        var c = ModelFixtures.configuration(kind)
        c.sequenceFields = sequences
        return c
    }

    /// `ModelFixtures.batch` plus random lists (some empty, with repeats).
    static func batch(for c: ModelConfiguration, size: Int, seed: UInt64) -> Batch {
        let plain = ModelFixtures.batch(for: c, size: size, seed: seed)
        let b = Batch(size: size, fieldCount: plain.fieldCount, denseCount: plain.denseCount, labelCount: plain.labelCount,
                      sequenceCount: c.sequenceFields.count)
        for e in 0..<size { b.setIDs(example: e, (0..<plain.fieldCount).map { plain.id(example: e, field: $0) }) }
        b.dense.copy(from: plain.dense)
        b.labels.copy(from: plain.labels)
        var rng = RandomGenerator(seed: seed ^ 0xABCD)
        for (s, field) in c.sequenceFields.enumerated() {
            b.setSequence(s, lists: (0..<size).map { e in
                e == 1 ? [] : (0..<rng.nextInt(below: field.maxLength + 1)).map { _ in Int32(rng.nextInt(below: 3)) }
            })
        }
        return b
    }

    func testEveryArchitectureMatchesFiniteDifferences() throws {
        for kind in [ModelKind.sharedBottom, .mmoe, .ple, .esmm] {
            let c = Self.configuration(kind)
            let model = try ModelFixtures.model(c)
            let batch = Self.batch(for: c, size: 6, seed: 9)
            let names = model.parameters.map(\.name)
            XCTAssertTrue(names.contains("attention.clicks.0.W") && names.contains("embedding.tags"), "\(kind)")
            XCTAssertFalse(names.contains("embedding.history"), "\(kind): history reads the item table")
            let weights = (0..<model.taskCount).map { 0.6 + Double($0) * 0.3 }
            ModelFixtures.weightedBackward(model, batch, weights: weights)
            let analytic = model.parameters.map { ModelFixtures.denseGradient($0) }
            for (i, p) in model.parameters.enumerated() where p.kind == .embedding || p.name.hasPrefix("attention.") {
                let (numeric, dot) = FiniteDifference.directional(values: p.value.data, count: p.count,
                                                                  analytic: analytic[i], seed: UInt64(700 + i)) {
                    ModelFixtures.weightedLoss(model, batch, weights: weights)
                }
                XCTAssertEqual(numeric, dot, accuracy: 2e-4 + 2e-2 * max(abs(numeric), abs(dot)), "\(kind): \(p.name)")
            }
            // Per-task pass: each task's gradient of the shared input parameters.
            ModelFixtures.perTaskBackward(model, batch)
            for t in 0..<model.taskCount {
                let unit = (0..<model.taskCount).map { $0 == t ? 1.0 : 0.0 }
                for (i, p) in model.parameters.enumerated() where p.kind == .embedding || p.name.hasPrefix("attention.") {
                    let (numeric, dot) = FiniteDifference.directional(values: p.value.data, count: p.count,
                                                                      analytic: ModelFixtures.denseTaskGradient(p, task: t),
                                                                      seed: UInt64(900 + i)) {
                        ModelFixtures.weightedLoss(model, batch, weights: unit)
                    }
                    XCTAssertEqual(numeric, dot, accuracy: 2e-4 + 2e-2 * max(abs(numeric), abs(dot)),
                                   "\(kind): task \(t) gradient of \(p.name)")
                }
            }
        }
    }

    /// `configs/mmoe-synthetic-history.json` decodes, validates and makes a history with attention.
    func testShippedConfigurationHasHistoryAndAttention() throws {
        let path = BuiltExecutable.repositoryRoot.appendingPathComponent("configs/mmoe-synthetic-history.json").path
        let configuration = try RunConfiguration.load(path: path)
        try configuration.validate()
        let synthetic = try XCTUnwrap(configuration.data.synthetic)
        XCTAssertEqual(synthetic.historyLength, 20)
        XCTAssertEqual(synthetic.historyPooling, .attention)
        XCTAssertEqual(configuration.model.model, .mmoe)
    }

    static func historyRun(_ pooling: SyntheticHistoryPooling, model: ModelKind = .mmoe,
                           balancer: TaskBalancerConfiguration = TaskBalancerConfiguration()) -> RunConfiguration {
        var synthetic = TrainerTests.syntheticConfiguration(rows: 2000)
        synthetic.historyLength = 6
        synthetic.historyPooling = pooling
        return TrainerTests.smallRun(model, optimizer: .clippy(learningRate: 0.1), balancer: balancer, synthetic: synthetic)
    }

    func testSyntheticHistoryIsTheSameLogWithAndWithoutTheField() throws {
        let with = try RunData.load(Self.historyRun(.attention).data)
        let without = try RunData.load(Self.historyRun(.none).data)
        XCTAssertEqual(with.labels, without.labels)
        XCTAssertEqual(with.ids, without.ids)
        XCTAssertEqual(with.sequenceFields.map(\.name), ["history"])
        XCTAssertEqual(with.sequenceFields[0].target, "item_id")
        XCTAssertTrue(without.sequenceFields.isEmpty)
        let history = with.sequences[0]
        XCTAssertTrue((0..<history.count).allSatisfy { history.offsets[$0 + 1] - history.offsets[$0] <= 6 })
        XCTAssertTrue((0..<history.count).contains { history.offsets[$0 + 1] == history.offsets[$0] }, "some lists are empty")
        // Without history the labels differ (the history term moved the scores).
        var plain = Self.historyRun(.none).data.synthetic!
        plain.historyLength = 0
        XCTAssertNotEqual(try SyntheticClickLog(config: plain).dataset.labels, with.labels)
    }

    func testResumeWithSequencesContinuesBitwise() throws {
        let variants: [(String, RunConfiguration)] = [
            ("mmoe-attention", Self.historyRun(.attention)),
            ("ple-mean-pcgrad", Self.historyRun(.mean, model: .ple, balancer: TaskBalancerConfiguration(PCGrad.Options()))),
        ]
        for (name, configuration) in variants {
            let dataset = try RunData.load(configuration.data)
            let straight = temporaryDirectory("\(name)-straight")
            let s = try Trainer(configuration: configuration, dataset: dataset, runDirectory: straight).run()
            XCTAssertEqual(s.stopReason, .completed, name)
            let stepsPerEpoch = (dataset.splits.train.count + 255) / 256
            var interrupted = configuration
            interrupted.training.interruptAfterSteps = stepsPerEpoch + 2
            let dir = temporaryDirectory("\(name)-interrupted")
            XCTAssertEqual(try Trainer(configuration: interrupted, dataset: dataset, runDirectory: dir).run().stopReason,
                           .interrupted, name)
            let resumed = try Trainer(configuration: configuration, dataset: dataset, runDirectory: dir, resume: true).run()
            XCTAssertEqual(resumed.steps, s.steps, name)
            let a = try Checkpoint.read(from: straight.appendingPathComponent("checkpoint.safetensors")).tensors
            let b = try Checkpoint.read(from: dir.appendingPathComponent("checkpoint.safetensors")).tensors
            XCTAssertEqual(a.keys.sorted(), b.keys.sorted(), name)
            if name.hasPrefix("mmoe") { XCTAssertNotNil(a[Checkpoint.Prefix.model + "attention.history.0.W"], "\(name): \(a.keys.sorted())") }
            for key in a.keys.sorted() where a[key]!.toArray().map(\.bitPattern) != b[key]!.toArray().map(\.bitPattern) {
                XCTFail("\(name): tensor \(key) differs after resume")
            }
            XCTAssertEqual(s.test?.meanAUC, resumed.test?.meanAUC, name)
        }
    }
}
