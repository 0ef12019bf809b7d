import Foundation
import XCTest
@testable import Ranker
import RankerTestSupport

/// Models with sequence fields through the safetensors export: the tables
/// (shared ones once) and the attention MLPs are exported by name with
/// `sequence_fields` in `model_config`; `ModelExport.loadModel` reproduces the
/// predictions bitwise; `tools/export_predict.py` (numpy, written from the
/// documented layout) reproduces them to float precision.
final class SequenceExportTests: TemporaryDirectoryTestCase {
    func configurations() -> [(String, ModelConfiguration)] {
        [ModelKind.mmoe, .ple, .sharedBottom, .esmm].map { kind in
            ("\(kind.rawValue) with sequences", SequenceTrainingTests.configuration(kind))
        }
    }

    func predictions(_ model: MultiTaskModel, _ batch: Batch) -> [[Float]] {
        let logits = model.forward(batch)
        let output = Matrix(rows: batch.size, cols: model.outputNames.count)
        model.predict(logits: logits, into: output.view)
        return output.toNestedArray()
    }

    func testExportHoldsSequenceTensorsAndReloadsBitwise() throws {
        for (label, c) in configurations() {
            let model = try ModelFixtures.model(c)
            let url = file("model.safetensors")
            try ModelExport.write(model, to: url)
            let reader = try SafeTensorsReader(url: url)
            let names = Set(reader.tensorNames)
            for name in ["embedding.item", "embedding.tags", "attention.clicks.0.W", "attention.clicks.1.b",
                         "attention.tags.0.W"] {
                XCTAssertTrue(names.contains(name), "\(label): \(name) missing from \(names.sorted())")
            }
            XCTAssertFalse(names.contains("embedding.history"), label)
            let loaded = try ModelExport.loadModel(from: url)
            XCTAssertEqual(loaded.configuration.sequenceFields, c.sequenceFields, label)
            let batch = SequenceTrainingTests.batch(for: c, size: 6, seed: 31)
            XCTAssertEqual(predictions(loaded, batch).map { $0.map(\.bitPattern) },
                           predictions(model, batch).map { $0.map(\.bitPattern) }, label)
        }
    }

    func testPythonReproducesThePredictions() throws {
        let script = ExportRoundTripTests.script.path
        for (label, c) in configurations() {
            let model = try ModelFixtures.model(c)
            let modelURL = file("model.safetensors")
            try ModelExport.write(model, to: modelURL)
            let batch = SequenceTrainingTests.batch(for: c, size: 7, seed: 23)
            let rows: [[String: Any]] = (0..<batch.size).map { e in
                var sequences: [String: [Int]] = [:]
                for (s, field) in c.sequenceFields.enumerated() {
                    let o = batch.sequenceOffsets[s]
                    sequences[field.name] = batch.sequenceIDs[s][Int(o[e])..<Int(o[e + 1])].map { Int($0) }
                }
                return ["ids": (0..<batch.fieldCount).map { Int(batch.id(example: e, field: $0)) },
                        "dense": (0..<batch.denseCount).map { Double(batch.dense[e, $0]) },
                        "sequences": sequences]
            }
            let inputURL = file("rows.json")
            try JSONSerialization.data(withJSONObject: ["rows": rows]).write(to: inputURL)
            let process = Process()
            process.executableURL = URL(fileURLWithPath: "/usr/bin/env")
            process.arguments = ["python3", script, modelURL.path, inputURL.path, "--output", file("out.json").path]
            try process.run()
            process.waitUntilExit()
            XCTAssertEqual(process.terminationStatus, 0, label)
            guard process.terminationStatus == 0 else { continue }
            let result = try XCTUnwrap(JSONSerialization.jsonObject(with: Data(contentsOf: file("out.json"))) as? [String: Any])
            let python = try XCTUnwrap(result["predictions"] as? [[Double]], label)
            let swift = predictions(model, batch)
            XCTAssertEqual(python.count, swift.count, label)
            for (b, (p, s)) in zip(python, swift).enumerated() {
                for (j, (x, y)) in zip(p, s).enumerated() {
                    XCTAssertEqual(x, Double(y), accuracy: 1e-5, "\(label): row \(b), output \(j)")
                }
            }
            // The pooled history changes the predictions (the script must read it to agree).
            let empty = Batch(size: batch.size, fieldCount: batch.fieldCount, denseCount: batch.denseCount,
                              labelCount: batch.labelCount, sequenceCount: batch.sequenceCount)
            for e in 0..<batch.size { empty.setIDs(example: e, (0..<batch.fieldCount).map { batch.id(example: e, field: $0) }) }
            empty.dense.copy(from: batch.dense)
            XCTAssertNotEqual(predictions(model, empty), swift, label)
        }
    }
}
