import Foundation
import XCTest
@testable import Ranker
import RankerTestSupport

/// `ModelWeights.load`: a model's parameters from an export or from the model
/// tensors of a checkpoint, bit for bit, and every way the file can fail to fit.
final class ModelWeightsTests: TemporaryDirectoryTestCase {
    func values(_ model: MultiTaskModel) -> [String: [UInt32]] {
        Dictionary(uniqueKeysWithValues: model.parameters.map { p in
            (p.name, (0..<p.count).map { p.value.data[$0].bitPattern })
        })
    }

    func testExportAndCheckpointLoadBitForBit() throws {
        let c = ModelFixtures.configuration(.mmoe, tasks: 2)
        let trained = try ModelFixtures.model(c, seed: 5)
        trained.parameters[0].value.data[0] = -0.0
        let export = file("best.safetensors")
        try ModelExport.write(trained, to: export, metadata: ["step": "40"])
        var checkpoint = Checkpoint()
        for p in trained.parameters { checkpoint.tensors[Checkpoint.Prefix.model + p.name] = p.value.clone() }
        checkpoint.tensors[Checkpoint.Prefix.optimizer + trained.parameters[0].name] = trained.parameters[0].value.clone()
        checkpoint.metadata[Checkpoint.Key.step] = "41"
        let checkpointURL = file("checkpoint.safetensors")
        try checkpoint.write(to: checkpointURL)

        for (url, step) in [(export, "40"), (checkpointURL, "41")] {
            let fresh = try ModelFixtures.model(c, seed: 99)
            XCTAssertNotEqual(values(fresh), values(trained))
            let metadata = try ModelWeights.load(into: fresh, from: url)
            XCTAssertEqual(values(fresh), values(trained), url.lastPathComponent)
            XCTAssertEqual(metadata[Checkpoint.Key.step], step)
        }
    }

    func testFilesThatDoNotFitAreRejectedBeforeAnythingIsRead() throws {
        let c = ModelFixtures.configuration(.sharedBottom, tasks: 2)
        let trained = try ModelFixtures.model(c, seed: 5)
        let export = file("model.safetensors")
        try ModelExport.write(trained, to: export)

        var other = c
        other.towerHidden = [4]
        let wrongModel = try ModelFixtures.model(other, seed: 6)
        let before = values(wrongModel)
        XCTAssertThrowsError(try ModelWeights.load(into: wrongModel, from: export)) { error in
            guard case CheckpointError.invalidMetadata(let key, _)? = error as? CheckpointError else {
                return XCTFail("\(error)")
            }
            XCTAssertEqual(key, ModelExport.Key.modelConfiguration)
        }
        XCTAssertEqual(values(wrongModel), before)

        // A checkpoint has no model description: shapes and names decide.
        var checkpoint = Checkpoint()
        for p in trained.parameters { checkpoint.tensors[Checkpoint.Prefix.model + p.name] = p.value.clone() }
        let url = file("checkpoint.safetensors")
        try checkpoint.write(to: url)
        XCTAssertThrowsError(try ModelWeights.load(into: wrongModel, from: url)) {
            XCTAssertEqual($0 as? CheckpointError, .shapeMismatch(name: "model/tower.task0.0.W", expected: [5, 4],
                                                                   found: [5, 3]))
        }
        XCTAssertEqual(values(wrongModel), before)

        checkpoint.tensors["model/extra"] = Matrix(rows: 1, cols: 1)
        try checkpoint.write(to: url)
        XCTAssertThrowsError(try ModelWeights.load(into: try ModelFixtures.model(c), from: url)) {
            XCTAssertEqual($0 as? CheckpointError, .unexpectedTensor(name: "model/extra"))
        }
        checkpoint.tensors["model/extra"] = nil
        checkpoint.tensors["model/bottom.0.b"] = nil
        try checkpoint.write(to: url)
        XCTAssertThrowsError(try ModelWeights.load(into: try ModelFixtures.model(c), from: url)) {
            XCTAssertEqual($0 as? CheckpointError, .missingTensor(name: "model/bottom.0.b"))
        }

        let foreign = file("foreign.safetensors")
        try SafeTensorsWriter.write(tensors: [(name: "w", value: Matrix(rows: 1, cols: 1))], metadata: [:], to: foreign)
        XCTAssertThrowsError(try ModelWeights.load(into: try ModelFixtures.model(c), from: foreign)) {
            guard case CheckpointError.wrongFormat(_, _, let found)? = $0 as? CheckpointError else { return XCTFail("\($0)") }
            XCTAssertNil(found)
        }
    }
}
