import Foundation
import XCTest
@testable import Ranker
import RankerTestSupport

/// The trainer's checkpoint: tensor naming, metadata, file round trip, and
/// the restore validation (each error names the tensor or key, and nothing
/// changes when restore throws).
final class CheckpointTests: TemporaryDirectoryTestCase {
    /// MMoE with two sparse fields, two tasks.
    static let configuration = ModelConfiguration(
        model: .mmoe, tasks: [TaskSpec(name: "click"), TaskSpec(name: "like")],
        sparseFields: [SparseField(name: "user", vocabulary: 9, dimension: 3),
                       SparseField(name: "item", vocabulary: 6, dimension: 4)],
        denseFeatures: 2, experts: 3, expertHidden: [6, 4], gateBias: true, towerHidden: [3], embeddingInitStd: 0.3)

    /// A model and an Adagrad optimizer after two training steps.
    func trainedModel(seed: UInt64 = 11) throws -> (MultiTaskModel, Optimizer) {
        let model = try ModelFixtures.model(Self.configuration, seed: seed)
        let optimizer = try OptimizerConfiguration.adagrad(learningRate: 0.05).makeOptimizer()
        for s in 0..<2 {
            ModelFixtures.weightedBackward(model, ModelFixtures.batch(for: Self.configuration, size: 6, seed: 40 + UInt64(s)),
                                           weights: [1, 0.5])
            optimizer.step(parameters: model.parameters, learningRate: 0.05)
        }
        return (model, optimizer)
    }

    struct TrainerState: Codable, Equatable {
        var bestMetric: Double
        var cursor: [Int]
    }

    struct WeightingState: Codable, Equatable {
        var previousLosses: [Double]
    }

    func testCaptureNamesEveryTensorAndSharesStorage() throws {
        let (model, optimizer) = try trainedModel()
        let extra = Matrix([[0.5, 2]])
        let checkpoint = try Checkpoint(parameters: model.parameters, optimizer: optimizer,
                                        weightingTensors: [(name: "log_sigma", value: extra)])
        let names = model.parameters.map(\.name)
        XCTAssertTrue(names.contains("experts.0.W") && names.contains("embedding.user") && names.contains("gate.like.b"))
        XCTAssertEqual(Set(checkpoint.tensors.keys),
                       Set(names.map { "model/" + $0 } + names.map { "optimizer/" + $0 } + ["weighting/log_sigma"]))
        for p in model.parameters { XCTAssertTrue(checkpoint.tensors["model/" + p.name] === p.value, "no copy") }
        for s in optimizer.stateTensors() { XCTAssertTrue(checkpoint.tensors["optimizer/" + s.name] === s.value) }
        XCTAssertEqual(checkpoint.metadata["format"], "ranker-checkpoint/1")
        XCTAssertEqual(checkpoint.metadata["ranker_version"], RankerVersion.string)
        XCTAssertEqual(try checkpoint.optimizerScalarState(), OptimizerScalarState(stepCount: 2, skippedStepCount: 0))
        XCTAssertEqual(checkpoint.weightingTensors().map(\.name), ["log_sigma"])
        XCTAssertTrue(checkpoint.weightingTensors()[0].value === extra)

        let snapshot = checkpoint.deepCopy()
        let w = model.parameter(named: "experts.0.W")!
        XCTAssertFalse(snapshot.tensors["model/experts.0.W"] === w.value)
        let before = bitPatterns(w.value)
        w.value.data[0] += 1
        XCTAssertEqual(bitPatterns(snapshot.tensors["model/experts.0.W"]!), before, "the snapshot does not follow training")
    }

    func testFileRoundTripKeepsEveryTensorBitAndAllMetadata() throws {
        let (model, optimizer) = try trainedModel()
        // Special values in a parameter: the file must keep their bits.
        let table = model.parameter(named: "embedding.item")!
        let special = matrix(rows: 4, cols: 4, bits: specialFloatBits)
        for i in 0..<16 { table.value.data[i] = special.data[i] }
        let weighting = matrix(rows: 2, cols: 2, bits: [0x8000_0000, 0x0000_0001, 0x7FC0_0DAD, 0x3F80_0000])
        var checkpoint = try Checkpoint(parameters: model.parameters, optimizer: optimizer,
                                        weightingTensors: [(name: "dwa.history", value: weighting)])
        let rng = RandomGenerator(state: [UInt64.max, 1 << 63 | 12345, 0x9E37_79B9_7F4A_7C15, 7])
        try checkpoint.encode(rng, forKey: Checkpoint.Key.randomGenerator)
        try checkpoint.encode(17, forKey: Checkpoint.Key.step)
        try checkpoint.encode(3, forKey: Checkpoint.Key.epoch)
        try checkpoint.encode(Self.configuration, forKey: Checkpoint.Key.configuration)
        try checkpoint.encode(TrainerState(bestMetric: 0.7125, cursor: [4, 1]), forKey: Checkpoint.Key.trainer)
        try checkpoint.encode(WeightingState(previousLosses: [0.61, 0.33]), forKey: Checkpoint.Key.weighting)

        let url = file("checkpoint.safetensors")
        try checkpoint.write(to: url)
        let read = try Checkpoint.read(from: url)
        XCTAssertEqual(read.metadata, checkpoint.metadata)
        XCTAssertEqual(Set(read.tensors.keys), Set(checkpoint.tensors.keys))
        for (name, m) in checkpoint.tensors {
            let r = try XCTUnwrap(read.tensors[name])
            XCTAssertEqual([r.rows, r.cols], [m.rows, m.cols], name)
            XCTAssertEqual(bitPatterns(r), bitPatterns(m), name)
        }
        XCTAssertEqual(Array(bitPatterns(read.tensors["model/embedding.item"]!).prefix(16)), specialFloatBits)
        XCTAssertEqual(try read.randomGenerator(), rng, "64-bit words survive JSON exactly")
        XCTAssertEqual(try read.step(), 17)
        XCTAssertEqual(try read.epoch(), 3)
        XCTAssertEqual(try read.decode(ModelConfiguration.self, forKey: "config"), Self.configuration)
        XCTAssertEqual(try read.decode(TrainerState.self, forKey: "trainer"), TrainerState(bestMetric: 0.7125, cursor: [4, 1]))
        XCTAssertEqual(try read.decode(WeightingState.self, forKey: "weighting"), WeightingState(previousLosses: [0.61, 0.33]))
        XCTAssertEqual(read.metadata["step"], "17", "integers are plain decimal text")
        XCTAssertEqual(read.metadata["rng"], #"{"state":[18446744073709551615,9223372036854788153,11400714819323198485,7]}"#)

        // Restoring into a differently initialised model reproduces every bit.
        let (fresh, freshOptimizer) = try trainedModel(seed: 99)
        XCTAssertNotEqual(bitPatterns(fresh.parameter(named: "experts.0.W")!.value),
                          bitPatterns(model.parameter(named: "experts.0.W")!.value))
        try read.restore(into: fresh.parameters, optimizer: freshOptimizer)
        for (a, b) in zip(model.parameters, fresh.parameters) { XCTAssertEqual(bitPatterns(a.value), bitPatterns(b.value), a.name) }
        for (a, b) in zip(optimizer.stateTensors(), freshOptimizer.stateTensors()) {
            XCTAssertEqual(bitPatterns(a.value), bitPatterns(b.value), a.name)
        }
        XCTAssertEqual(freshOptimizer.scalarState, optimizer.scalarState)
    }

    // MARK: restore validation

    /// Restoring `checkpoint` throws `expected`, and neither the target model
    /// nor its optimizer changes.
    func expectRestoreError(_ checkpoint: Checkpoint, withOptimizer: Bool = true, _ expected: CheckpointError,
                            file: StaticString = #filePath, line: UInt = #line) throws {
        let (target, optimizer) = try trainedModel(seed: 5)
        let values = target.parameters.map { bitPatterns($0.value) }
        let state = optimizer.stateTensors().map { bitPatterns($0.value) }
        let scalars = optimizer.scalarState
        XCTAssertThrowsError(try checkpoint.restore(into: target.parameters, optimizer: withOptimizer ? optimizer : nil),
                             file: file, line: line) { error in
            XCTAssertEqual(error as? CheckpointError, expected, file: file, line: line)
        }
        XCTAssertEqual(target.parameters.map { bitPatterns($0.value) }, values, "model unchanged", file: file, line: line)
        XCTAssertEqual(optimizer.stateTensors().map { bitPatterns($0.value) }, state, "optimizer unchanged",
                       file: file, line: line)
        XCTAssertEqual(optimizer.scalarState, scalars, file: file, line: line)
    }

    func testRestoreNamesTheOffendingTensor() throws {
        let (model, optimizer) = try trainedModel()
        let good = try Checkpoint(parameters: model.parameters, optimizer: optimizer).deepCopy()

        var c = good
        c.tensors["model/gate.like.W"] = nil
        try expectRestoreError(c, .missingTensor(name: "model/gate.like.W"))
        c = good
        c.tensors["model/gate.dislike.W"] = Matrix(rows: 1, cols: 1)
        try expectRestoreError(c, .unexpectedTensor(name: "model/gate.dislike.W"))
        c = good
        c.tensors["model/tower.click.0.W"] = Matrix(rows: 3, cols: 4)
        try expectRestoreError(c, .shapeMismatch(name: "model/tower.click.0.W", expected: [4, 3], found: [3, 4]))
        c = good
        c.tensors["stray"] = Matrix(rows: 1, cols: 1)
        try expectRestoreError(c, .unexpectedTensor(name: "stray"))
        c = good
        c.tensors["optimizer/embedding.user"] = nil
        try expectRestoreError(c, .missingTensor(name: "optimizer/embedding.user"))
        c = good
        c.tensors["optimizer/embedding.user"] = Matrix(rows: 3, cols: 9)
        try expectRestoreError(c, .shapeMismatch(name: "optimizer/embedding.user", expected: [9, 3], found: [3, 9]))
        c = good
        c.tensors["optimizer/experts.9.W"] = Matrix(rows: 1, cols: 1)
        try expectRestoreError(c, .unexpectedTensor(name: "optimizer/experts.9.W"))
        c = good
        c.metadata["optimizer"] = nil
        try expectRestoreError(c, .missingMetadata(key: "optimizer"))
        c = good
        c.metadata["optimizer"] = "[1]"
        try expectRestoreError(c, .invalidMetadata(key: "optimizer", reason: "cannot decode OptimizerScalarState from [1]"))
        // A value the optimizer itself refuses (accumulators are never negative).
        c = good.deepCopy()
        c.tensors["optimizer/tower.like.1.b"]!.data[0] = -1
        try expectRestoreError(c, .invalidOptimizerState(.invalidValue(name: "tower.like.1.b", index: 0, value: -1)))

        // Without an optimizer the optimizer group is not needed and not checked...
        var weightsOnly = good
        weightsOnly.tensors = weightsOnly.tensors.filter { $0.key.hasPrefix("model/") }
        let (target, _) = try trainedModel(seed: 5)
        try weightsOnly.restore(into: target.parameters, optimizer: nil)
        for (a, b) in zip(model.parameters, target.parameters) { XCTAssertEqual(bitPatterns(a.value), bitPatterns(b.value)) }
        // ... but the model group still is.
        c = good
        c.tensors["model/embedding.item"] = nil
        try expectRestoreError(c, withOptimizer: false, .missingTensor(name: "model/embedding.item"))
    }

    func testMetadataErrorsNameTheKey() throws {
        var c = Checkpoint()
        XCTAssertThrowsError(try c.step()) { XCTAssertEqual($0 as? CheckpointError, .missingMetadata(key: "step")) }
        c.metadata["step"] = "seventeen"
        XCTAssertThrowsError(try c.step()) {
            XCTAssertEqual($0 as? CheckpointError, .invalidMetadata(key: "step", reason: "cannot decode Int from seventeen"))
        }
        c.metadata["rng"] = #"{"state":[0,0,0,0]}"#
        XCTAssertThrowsError(try c.randomGenerator()) {
            XCTAssertEqual($0 as? CheckpointError, .invalidMetadata(key: "rng", reason: "state must be 4 words, not all zero"))
        }
        c.metadata["rng"] = #"{"state":[1,2,3]}"#
        XCTAssertThrowsError(try c.randomGenerator()) {
            XCTAssertEqual($0 as? CheckpointError, .invalidMetadata(key: "rng", reason: "state must be 4 words, not all zero"))
        }
        XCTAssertEqual(CheckpointError.missingTensor(name: "model/x.W").description, "checkpoint has no tensor model/x.W")
    }

    func testReadingAnotherKindOfFileIsAFormatError() throws {
        let plain = file("plain.safetensors")
        try SafeTensorsWriter.write(tensors: [(name: "w", value: Matrix([[1]]))], metadata: [:], to: plain)
        XCTAssertThrowsError(try Checkpoint.read(from: plain)) {
            XCTAssertEqual($0 as? CheckpointError,
                           .wrongFormat(path: plain.path, expected: "ranker-checkpoint/1", found: nil))
        }
        let export = file("model.safetensors")
        let (model, _) = try trainedModel()
        try ModelExport.write(model, to: export)
        XCTAssertThrowsError(try Checkpoint.read(from: export)) {
            XCTAssertEqual($0 as? CheckpointError,
                           .wrongFormat(path: export.path, expected: "ranker-checkpoint/1", found: "ranker-export/1"))
        }
    }
}
