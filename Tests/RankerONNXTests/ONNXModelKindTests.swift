import Foundation
import XCTest
@testable import Ranker
@testable import RankerONNX
import RankerTestSupport

/// Every model kind, exported to ONNX, passes `onnx.checker.check_model` and
/// scores the census and synthetic test splits in onnxruntime as Ranker does
/// (`forward` in evaluation mode + `predict`, the path of `ranker predict`),
/// max absolute difference ≤ 1e-5, with BatchNorm off and on, one row per run
/// and 4,096 rows per run; and as `tools/export_predict.py` (numpy, from the
/// safetensors export of the same weights) on the first 512 rows.
///
/// The weights are a seeded initialisation moved by random noise, and the
/// BatchNorm running statistics and affine parameters are random too, so that
/// no layer is an identity and every tensor matters.
final class ONNXModelKindTests: TemporaryDirectoryTestCase {
    /// The architectures checked on a dataset: every kind, PLE with one and three levels
    /// (with and without shared experts, with gate biases), a regression task beside a binary one.
    func configurations(for dataset: Dataset) -> [(label: String, configuration: ModelConfiguration)] {
        let tasks = Array(dataset.tasks.prefix(2))
        func make(_ kind: ModelKind, tasks: [TaskSpec]? = nil, _ change: (inout ModelConfiguration) -> Void = { _ in })
            -> ModelConfiguration {
            var c = ModelConfiguration(model: kind, tasks: tasks ?? Array(dataset.tasks.prefix(2)),
                                       sparseFields: dataset.fields, denseFeatures: dataset.denseNames.count,
                                       bottomHidden: [16, 8], experts: 3, expertHidden: [12, 6], towerHidden: [8])
            change(&c)
            return c
        }
        var cases: [(String, ModelConfiguration)] = [
            ("shared_bottom", make(.sharedBottom)),
            ("shared_bottom+regression", make(.sharedBottom, tasks: [tasks[0], TaskSpec(name: "amount", kind: .regression)])),
            ("mmoe", make(.mmoe)),
            ("mmoe+gate_bias", make(.mmoe) { $0.gateBias = true; $0.expertHidden = [10] }),
            ("ple", make(.ple) { $0.specificExperts = 2; $0.sharedExperts = 1 }),
            ("ple-3-levels", make(.ple) { $0.levels = 3; $0.specificExperts = 1; $0.sharedExperts = 2; $0.gateBias = true }),
            ("ple-2-levels-no-shared", make(.ple) { $0.levels = 2; $0.specificExperts = 2; $0.sharedExperts = 0 }),
            ("esmm", make(.esmm, tasks: [TaskSpec(name: "ctr"), TaskSpec(name: "ctcvr")])),
        ]
        cases += cases.map { label, c in
            var withBatchNorm = c
            withBatchNorm.batchNorm = true
            withBatchNorm.gateBatchNorm = true
            return ("\(label)+batch_norm", withBatchNorm)
        }
        return cases
    }

    /// A model of `configuration` whose every tensor is random (seeded): the initialisation plus
    /// N(0, 0.3²) noise; BatchNorm gamma ~ 1 + N(0, 0.3²), running_var ~ U(0.3, 2).
    func randomModel(_ configuration: ModelConfiguration, seed: UInt64) throws -> MultiTaskModel {
        let model = try makeModel(configuration)
        var rng = RandomGenerator(seed: seed)
        model.initialize(using: &rng)
        for (name, value) in model.savedTensors {
            for i in 0..<value.count {
                if name.hasSuffix(".running_var") {
                    value.data[i] = Float(rng.uniform(0.3, 2))
                } else {
                    value.data[i] += Float(0.3 * rng.normal())
                }
            }
        }
        return model
    }

    /// Ranker's predictions for `rows`, 4,096 rows per forward pass as `ranker predict` runs them.
    func rankerPredictions(_ model: MultiTaskModel, _ dataset: Dataset, rows: [Int]) -> [Float] {
        let outputs = model.outputNames.count
        var result: [Float] = []
        result.reserveCapacity(rows.count * outputs)
        let batch = dataset.makeBatch(capacity: 4096)
        let predictions = Matrix(rows: 0, cols: outputs)
        var start = 0
        while start < rows.count {
            let end = min(rows.count, start + 4096)
            dataset.fill(batch, rows: rows[start..<end])
            let logits = model.forward(batch)
            predictions.resize(rows: end - start, cols: outputs)
            model.predict(logits: logits, into: predictions.view)
            result += predictions.toArray()
            start = end
        }
        return result
    }

    /// Writes the model inputs of `rows` (int64 ids `N × F`, float32 dense `N × D`, little-endian).
    func writeInputs(_ dataset: Dataset, rows: [Int], ids: URL, dense: URL) throws {
        var idBytes = [UInt8]()
        idBytes.reserveCapacity(rows.count * dataset.fields.count * 8)
        var denseBytes = [UInt8]()
        for r in rows {
            for f in dataset.fields.indices {
                withUnsafeBytes(of: Int64(dataset.ids[f][r]).littleEndian) { idBytes.append(contentsOf: $0) }
            }
            for j in dataset.dense.indices {
                withUnsafeBytes(of: dataset.dense[j][r].bitPattern.littleEndian) { denseBytes.append(contentsOf: $0) }
            }
        }
        try Data(idBytes).write(to: ids)
        try Data(denseBytes).write(to: dense)
    }

    /// Exports every configuration, runs the Python checker and onnxruntime on all of them in one
    /// process, and compares.
    func checkEveryModelKind(on dataset: Dataset, name: String) throws {
        let python = try ONNXTestSupport.python()
        let rows = dataset.splits.test
        XCTAssertGreaterThan(rows.count, 4096, "the test split fills at least one batch of 4,096 (\(name))")
        let singleRows = 128
        let ids = temporary.appendingPathComponent("\(name)-ids.bin")
        let dense = temporary.appendingPathComponent("\(name)-dense.bin")
        try writeInputs(dataset, rows: rows, ids: ids, dense: dense)

        var cases: [[String: Any]] = []
        var expected: [String: (model: MultiTaskModel, predictions: [Float])] = [:]
        for (index, (label, configuration)) in configurations(for: dataset).enumerated() {
            let model = try randomModel(configuration, seed: UInt64(100 + index))
            let file = temporary.appendingPathComponent("\(name)-\(label).onnx")
            try ONNXExport.write(model, to: file, runConfiguration: "{\"name\": \"\(label)\"}")
            let safetensors = temporary.appendingPathComponent("\(name)-\(label).safetensors")
            try ModelExport.write(model, to: safetensors)
            expected[file.path] = (model, rankerPredictions(model, dataset, rows: rows))
            cases.append([
                "model": file.path, "ids": ids.path, "dense": dense.path, "rows": rows.count,
                "sparse_fields": dataset.fields.count, "dense_features": dataset.denseNames.count,
                "batches": ["1": file.path + ".b1", "4096": file.path + ".b4096"],
                "batch_rows": ["1": singleRows],
                "safetensors": safetensors.path, "reference_rows": 512,
            ])
        }
        let manifest = temporary.appendingPathComponent("\(name)-manifest.json")
        try JSONSerialization.data(withJSONObject: ["cases": cases]).write(to: manifest)
        let run = try ONNXTestSupport.run(python, [ONNXTestSupport.scoreScript, "cases", manifest.path], in: temporary)
        XCTAssertEqual(run.status, 0, run.standardError)
        guard run.status == 0 else { return }

        let summaries = run.standardOutput.split(separator: "\n").compactMap {
            try? JSONSerialization.jsonObject(with: Data($0.utf8)) as? [String: Any]
        }
        XCTAssertEqual(summaries.count, cases.count)
        for summary in summaries {
            let path = try XCTUnwrap(summary["model"] as? String)
            let (model, predictions) = try XCTUnwrap(expected[path])
            let label = URL(fileURLWithPath: path).lastPathComponent
            let c = model.configuration
            // The checker passed; the graph's interface and metadata are the documented ones.
            XCTAssertEqual(summary["check"] as? String, "passed", label)
            XCTAssertEqual(summary["opset"] as? [String: Int], ["": 17], label)
            let operators = try XCTUnwrap(summary["operators"] as? [[String]], label)
            XCTAssertTrue(operators.allSatisfy { $0[0] == "" }, "standard domain only: \(operators)")
            XCTAssertEqual(Set(operators.map { $0[1] }).subtracting(["Gather", "Concat", "Gemm", "MatMul", "Relu",
                "BatchNormalization", "Split", "Softmax", "Unsqueeze", "Mul", "ReduceSum", "Sigmoid"]), [], label)
            XCTAssertEqual(operators.contains(["", "BatchNormalization"]), c.batchNorm, label)
            let inputs = try XCTUnwrap(summary["inputs"] as? [String: [String: Any]])
            XCTAssertEqual(inputs["sparse_ids"]?["type"] as? Int, 7, "int64")
            XCTAssertEqual(inputs["dense"]?["type"] as? Int, 1, "float")
            XCTAssertEqual(inputs["sparse_ids"]?["shape"] as? NSArray, ["batch", c.sparseFields.count] as NSArray)
            XCTAssertEqual(inputs["dense"]?["shape"] as? NSArray, ["batch", c.denseFeatures] as NSArray)
            let outputs = try XCTUnwrap(summary["outputs"] as? [String: [String: Any]])
            XCTAssertEqual(outputs["probabilities"]?["shape"] as? NSArray, ["batch", model.outputNames.count] as NSArray)
            let metadata = try XCTUnwrap(summary["metadata"] as? [String: String])
            XCTAssertEqual(metadata["format"], "ranker-onnx/1")
            XCTAssertEqual(metadata["ranker_version"], RankerVersion.string)
            XCTAssertEqual(metadata["outputs"].map { Data($0.utf8) }.flatMap { try? JSONDecoder().decode([String].self, from: $0) },
                           model.outputNames)
            XCTAssertEqual(metadata["model_config"].map { Data($0.utf8) }.flatMap {
                try? JSONDecoder().decode(ModelConfiguration.self, from: $0) }, c)
            XCTAssertNotNil(metadata["run_config"])
            // onnxruntime against tools/export_predict.py (numpy, float64, from the safetensors export).
            let numpyError = try XCTUnwrap(summary["numpy_reference_max_abs_diff"] as? Double, label)
            XCTAssertLessThanOrEqual(numpyError, 1e-5, "\(label): max |onnxruntime − export_predict.py|, 512 rows")

            // The scores, at both batch sizes.
            let outputCount = model.outputNames.count
            let batched = try ONNXTestSupport.readFloats(URL(fileURLWithPath: path + ".b4096"))
            let single = try ONNXTestSupport.readFloats(URL(fileURLWithPath: path + ".b1"))
            XCTAssertEqual(batched.count, predictions.count, label)
            XCTAssertEqual(single.count, singleRows * outputCount, label)
            guard batched.count == predictions.count, single.count == singleRows * outputCount else { continue }
            let batchedError = zip(batched, predictions).map { abs($0 - $1) }.max() ?? .infinity
            let singleError = zip(single, predictions.prefix(single.count)).map { abs($0 - $1) }.max() ?? .infinity
            XCTAssertLessThanOrEqual(batchedError, 1e-5, "\(label): batch 4096, max |onnxruntime − Ranker|")
            XCTAssertLessThanOrEqual(singleError, 1e-5, "\(label): batch 1, max |onnxruntime − Ranker|")
            // The scores are not a constant (the comparison would then be weak).
            let first = (0..<outputCount).map { predictions[$0] }
            XCTAssertTrue((1..<min(rows.count, 200)).contains { r in (0..<outputCount).contains { predictions[r * outputCount + $0] != first[$0] } },
                          "\(label): predictions vary over rows")
            print("\(label): \(rows.count) rows, max |onnxruntime − Ranker| batch 4096 \(batchedError), batch 1 \(singleError); "
                  + "max |onnxruntime − numpy| \(numpyError)")
        }
    }

    func testEveryModelKindOnTheCensusTestSplit() throws {
        let census: Dataset
        do {
            census = try CensusIncome.load(filePath: #filePath)
        } catch let notFound as DataLocation.NotFound {
            print("skipping: \(notFound)")
            throw XCTSkip("census-income not found (set RANKER_DATA or run `make data`): \(notFound)")
        }
        try checkEveryModelKind(on: census, name: "census")
    }

    func testEveryModelKindOnTheSyntheticTestSplit() throws {
        var config = SyntheticClickLogConfig()
        config.rows = 50_000   // a test split of about 5,000 rows
        config.tasks = 2
        config.positiveRates = [0.2, 0.08]
        let synthetic = try SyntheticClickLog(config: config).dataset
        try checkEveryModelKind(on: synthetic, name: "synthetic")
    }

    /// A tensor the graph needs but does not find, and a tensor it leaves unused, are errors naming
    /// the tensor, not a graph that silently differs from the model.
    func testAMissingOrUnusedTensorIsNamed() throws {
        let configuration = ModelConfiguration(model: .ple, tasks: [TaskSpec(name: "a"), TaskSpec(name: "b")],
                                               denseFeatures: 3, expertHidden: [4], levels: 2, towerHidden: [2])
        let model = try makeModel(configuration)
        let tensors = model.savedTensors
        var complete = ScoringGraph(configuration: configuration, tensors: tensors)
        XCTAssertNoThrow(try complete.build())
        XCTAssertNoThrow(try complete.checkEveryTensorUsed())
        var missing = ScoringGraph(configuration: configuration, tensors: tensors.filter { $0.name != "level2.gate.b.W" })
        XCTAssertThrowsError(try missing.build()) { error in
            XCTAssertTrue("\(error)".contains("needs the tensor level2.gate.b.W"), "\(error)")
        }
        var extra = ScoringGraph(configuration: configuration,
                                 tensors: tensors + [(name: "level2.shared_gate.W", value: Matrix(rows: 4, cols: 2))])
        XCTAssertNoThrow(try extra.build())
        XCTAssertThrowsError(try extra.checkEveryTensorUsed()) { error in
            XCTAssertTrue("\(error)".contains("does not use the tensors level2.shared_gate.W"), "\(error)")
        }
    }

    /// The initializers are the model's tensors, bit for bit, as raw little-endian float32.
    func testInitializersAreTheTensorsAsRawLittleEndianFloat32() throws {
        let model = try makeModel(ModelConfiguration(model: .mmoe, tasks: [TaskSpec(name: "a"), TaskSpec(name: "b")],
                                                     denseFeatures: 3, experts: 2, expertHidden: [4], towerHidden: [2]))
        var rng = RandomGenerator(seed: 1)
        model.initialize(using: &rng)
        XCTAssertNoThrow(try ONNXExport.model(of: model))
        let proto = try ONNXExport.model(of: model)
        let names = Set(proto.graph.initializer.map(\.name))
        XCTAssertTrue(Set(model.savedTensors.map(\.name)).isSubset(of: names), "every tensor is an initializer")
        for tensor in proto.graph.initializer where tensor.dataType == 1 {
            let saved = try XCTUnwrap(model.savedTensors.first { $0.name == tensor.name }, tensor.name)
            XCTAssertEqual(tensor.rawData.count, 4 * saved.value.count, tensor.name)
            let values = tensor.rawData.withUnsafeBytes { raw in
                (0..<saved.value.count).map { Float(bitPattern: UInt32(littleEndian: raw.loadUnaligned(fromByteOffset: 4 * $0, as: UInt32.self))) }
            }
            XCTAssertEqual(values, saved.value.toArray(), "\(tensor.name): raw little-endian float32")
        }
    }
}
