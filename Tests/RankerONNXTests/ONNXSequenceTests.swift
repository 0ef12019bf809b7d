import Foundation
import XCTest
@testable import Ranker
@testable import RankerONNX
import RankerTestSupport

/// Models with sequence (list) fields exported to ONNX: the lists enter as
/// `<name>_ids` (padded) and `<name>_mask`, pooled in the graph as
/// `EmbeddingInput` pools them (sum, mean, DIN attention with raw or softmax
/// weights, own and shared tables). onnxruntime's scores are compared with
/// Ranker's forward + predict (the path of `ranker predict`) and with
/// `tools/export_predict.py` (numpy, from the safetensors export), and end to
/// end: `ranker train` → `ranker export --format onnx --encoding` →
/// `tools/onnx_score.py score-csv` on the raw CSV against `ranker predict`.
final class ONNXSequenceTests: TemporaryDirectoryTestCase {
    /// The synthetic click log (history of item ids, up to 8, sharing item_id's table) with four
    /// more sequence fields: every pooling, own and shared tables, lists of every length from
    /// empty to max_length with repeated ids.
    func sequenceDataset() throws -> Dataset {
        var config = SyntheticClickLogConfig()
        config.rows = 50_000   // a test split of about 5,000 rows
        config.tasks = 2
        config.positiveRates = [0.2, 0.08]
        config.items = 2_000
        config.historyLength = 8
        config.historyPooling = .attention
        config.historySignal = 3   // history carries much of the signal, so the trained attention matters
        let log = try SyntheticClickLog(config: config).dataset
        let history = log.sequences[0]
        let items = log.fields[1], categories = log.fields[2]
        var rng = RandomGenerator(seed: 77)
        func randomLists(vocabulary: Int, maxLength: Int) -> RaggedColumn {
            RaggedColumn(lists: (0..<log.count).map { _ in
                (0..<rng.nextInt(below: maxLength + 1)).map { _ in Int32(rng.nextInt(below: vocabulary)) }
            })
        }
        // The last five of each history (keep the last max_length, the most recent).
        let recent = RaggedColumn(lists: (0..<log.count).map { Array(history.list($0).suffix(5)) })
        let fields: [SequenceField] = [
            SequenceField(name: "history", vocabulary: items.vocabulary, dimension: items.dimension, maxLength: 8,
                          sharesEmbeddingWith: "item_id", pooling: .attention, target: "item_id", attentionHidden: [6, 5]),
            SequenceField(name: "recent", vocabulary: items.vocabulary, dimension: items.dimension, maxLength: 5,
                          sharesEmbeddingWith: "item_id", pooling: .attention, target: "category", attentionHidden: [7],
                          attentionSoftmax: true),
            SequenceField(name: "tags", vocabulary: 30, dimension: 5, maxLength: 6, pooling: .mean),
            SequenceField(name: "clicks", vocabulary: 12, dimension: 3, maxLength: 4, pooling: .sum),
            SequenceField(name: "categories_seen", vocabulary: categories.vocabulary, dimension: categories.dimension,
                          maxLength: 3, sharesEmbeddingWith: "category", pooling: .mean),
        ]
        let columns = [history, recent, randomLists(vocabulary: 30, maxLength: 6), randomLists(vocabulary: 12, maxLength: 4),
                       randomLists(vocabulary: categories.vocabulary, maxLength: 3)]
        return Dataset(name: "synthetic-sequences", fields: log.fields, denseNames: log.denseNames, tasks: log.tasks,
                       ids: log.ids, dense: log.dense, labels: log.labels, splits: log.splits,
                       sequenceFields: fields, sequences: columns)
    }

    /// A model whose every tensor is random (seeded): the initialisation plus N(0, 0.3²) noise;
    /// BatchNorm running_var ~ U(0.3, 2).
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

    /// Ranker's predictions for `rows`, `batchSize` rows per forward pass.
    func rankerPredictions(_ model: MultiTaskModel, _ dataset: Dataset, rows: [Int], batchSize: Int = 4096) -> [Float] {
        let outputs = model.outputNames.count
        var result: [Float] = []
        let batch = dataset.makeBatch(capacity: batchSize)
        let predictions = Matrix(rows: 0, cols: outputs)
        var start = 0
        while start < rows.count {
            let end = min(rows.count, start + batchSize)
            dataset.fill(batch, rows: rows[start..<end])
            let logits = model.forward(batch)
            predictions.resize(rows: end - start, cols: outputs)
            model.predict(logits: logits, into: predictions.view)
            result += predictions.toArray()
            start = end
        }
        return result
    }

    /// Writes the graph inputs of `rows`: ids, dense, and per sequence field its ids padded to
    /// max_length with a nonzero valid id (the mask must make the padding irrelevant) and its mask.
    func writeInputs(_ dataset: Dataset, rows: [Int], prefix: String) throws -> [String: Any] {
        var idBytes = [UInt8](), denseBytes = [UInt8]()
        for r in rows {
            for f in dataset.fields.indices {
                withUnsafeBytes(of: Int64(dataset.ids[f][r]).littleEndian) { idBytes.append(contentsOf: $0) }
            }
            for j in dataset.dense.indices {
                withUnsafeBytes(of: dataset.dense[j][r].bitPattern.littleEndian) { denseBytes.append(contentsOf: $0) }
            }
        }
        let ids = temporary.appendingPathComponent("\(prefix)-ids.bin")
        let dense = temporary.appendingPathComponent("\(prefix)-dense.bin")
        try Data(idBytes).write(to: ids)
        try Data(denseBytes).write(to: dense)
        var sequences: [[String: Any]] = []
        for (s, field) in dataset.sequenceFields.enumerated() {
            var sequenceBytes = [UInt8](), maskBytes = [UInt8]()
            for r in rows {
                let list = Array(dataset.sequences[s].list(r))
                precondition(list.count <= field.maxLength)
                for i in 0..<field.maxLength {
                    let id = i < list.count ? Int64(list[i]) : Int64((r + i) % field.vocabulary)
                    let mask: Float = i < list.count ? 1 : 0
                    withUnsafeBytes(of: id.littleEndian) { sequenceBytes.append(contentsOf: $0) }
                    withUnsafeBytes(of: mask.bitPattern.littleEndian) { maskBytes.append(contentsOf: $0) }
                }
            }
            let idsFile = temporary.appendingPathComponent("\(prefix)-\(field.name)-ids.bin")
            let maskFile = temporary.appendingPathComponent("\(prefix)-\(field.name)-mask.bin")
            try Data(sequenceBytes).write(to: idsFile)
            try Data(maskBytes).write(to: maskFile)
            sequences.append(["name": field.name, "ids": idsFile.path, "mask": maskFile.path, "length": field.maxLength])
        }
        return ["ids": ids.path, "dense": dense.path, "rows": rows.count, "sparse_fields": dataset.fields.count,
                "dense_features": dataset.denseNames.count, "sequences": sequences]
    }

    /// MMoE (and PLE, ESMM, Shared-Bottom with BatchNorm) with five sequence fields: onnxruntime equals
    /// Ranker within 1e-5 on the synthetic test split, 4,096 rows per run and one row per run, and
    /// equals tools/export_predict.py on 512 rows.
    func testSequenceFieldsPooledInTheGraphMatchRanker() throws {
        let python = try ONNXTestSupport.python()
        let dataset = try sequenceDataset()
        let rows = dataset.splits.test
        XCTAssertGreaterThan(rows.count, 4096)
        let singleRows = 160
        // The rows scored one at a time hold empty, partial and full lists of every field.
        for (s, field) in dataset.sequenceFields.enumerated() {
            let lengths = Set(rows.prefix(singleRows).map { dataset.sequences[s].list($0).count })
            XCTAssertTrue(lengths.contains(0) && lengths.contains(field.maxLength) && lengths.count > 2,
                          "\(field.name): lengths \(lengths.sorted())")
        }
        let inputs = try writeInputs(dataset, rows: rows, prefix: "synthetic")
        let tasks = Array(dataset.tasks.prefix(2))
        func make(_ kind: ModelKind, _ change: (inout ModelConfiguration) -> Void = { _ in }) -> ModelConfiguration {
            var c = ModelConfiguration(model: kind, tasks: tasks, sparseFields: dataset.fields,
                                       denseFeatures: dataset.denseNames.count, bottomHidden: [16, 8], experts: 3,
                                       expertHidden: [12, 6], towerHidden: [8], sequenceFields: dataset.sequenceFields)
            change(&c)
            return c
        }
        let configurations: [(String, ModelConfiguration)] = [
            ("mmoe", make(.mmoe)),
            ("mmoe+batch_norm", make(.mmoe) { $0.batchNorm = true; $0.gateBatchNorm = true }),
            ("ple-2-levels", make(.ple) { $0.levels = 2; $0.specificExperts = 1; $0.sharedExperts = 2 }),
            ("shared_bottom", make(.sharedBottom)),
            ("esmm", make(.esmm) { $0.tasks = [TaskSpec(name: "ctr"), TaskSpec(name: "ctcvr")] }),
        ]
        var cases: [[String: Any]] = []
        var expected: [String: (model: MultiTaskModel, predictions: [Float], single: [Float])] = [:]
        for (index, (label, configuration)) in configurations.enumerated() {
            let model = try randomModel(configuration, seed: UInt64(300 + index))
            let file = temporary.appendingPathComponent("\(label).onnx")
            try ONNXExport.write(model, to: file, runConfiguration: "{\"name\": \"\(label)\"}")
            let safetensors = temporary.appendingPathComponent("\(label).safetensors")
            try ModelExport.write(model, to: safetensors)
            expected[file.path] = (model, rankerPredictions(model, dataset, rows: rows),
                                   rankerPredictions(model, dataset, rows: Array(rows.prefix(singleRows)), batchSize: 1))
            cases.append(inputs.merging([
                "model": file.path, "batches": ["1": file.path + ".b1", "4096": file.path + ".b4096"],
                "batch_rows": ["1": singleRows], "safetensors": safetensors.path, "reference_rows": 512,
            ]) { $1 })
        }
        let manifest = temporary.appendingPathComponent("manifest.json")
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
            let (model, predictions, singlePredictions) = try XCTUnwrap(expected[path])
            let label = URL(fileURLWithPath: path).lastPathComponent
            let c = model.configuration
            XCTAssertEqual(summary["check"] as? String, "passed", label)
            XCTAssertEqual(summary["opset"] as? [String: Int], ["": 17], label)
            let operators = try XCTUnwrap(summary["operators"] as? [[String]], label)
            XCTAssertTrue(operators.allSatisfy { $0[0] == "" }, "standard domain only: \(operators)")
            XCTAssertEqual(Set(operators.map { $0[1] }).subtracting(["Gather", "Concat", "Gemm", "MatMul", "Relu",
                "BatchNormalization", "Split", "Softmax", "Unsqueeze", "Mul", "ReduceSum", "Sigmoid",
                "Add", "Sub", "Div", "Max", "Shape", "Expand"]), [], label)
            // Inputs: per sequence field, ids int64 and mask float, [batch, max_length].
            let inputs = try XCTUnwrap(summary["inputs"] as? [String: [String: Any]])
            XCTAssertEqual(Set(inputs.keys), Set(["sparse_ids", "dense"] + c.sequenceFields.flatMap { [$0.name + "_ids", $0.name + "_mask"] }))
            for field in c.sequenceFields {
                XCTAssertEqual(inputs[field.name + "_ids"]?["type"] as? Int, 7, "int64")
                XCTAssertEqual(inputs[field.name + "_mask"]?["type"] as? Int, 1, "float")
                XCTAssertEqual(inputs[field.name + "_ids"]?["shape"] as? NSArray, ["batch", field.maxLength] as NSArray)
                XCTAssertEqual(inputs[field.name + "_mask"]?["shape"] as? NSArray, ["batch", field.maxLength] as NSArray)
            }
            let metadata = try XCTUnwrap(summary["metadata"] as? [String: String])
            let sequenceMetadata = try XCTUnwrap(try JSONSerialization.jsonObject(
                with: Data(try XCTUnwrap(metadata["sequence_fields"]).utf8)) as? [[String: Any]])
            XCTAssertEqual(sequenceMetadata.map { $0["name"] as? String }, c.sequenceFields.map(\.name))
            XCTAssertEqual(sequenceMetadata.map { $0["max_length"] as? Int }, c.sequenceFields.map(\.maxLength))
            XCTAssertEqual(sequenceMetadata.map { $0["pooling"] as? String }, c.sequenceFields.map(\.pooling.rawValue))
            XCTAssertEqual(sequenceMetadata.map { $0["ids_input"] as? String }, c.sequenceFields.map { $0.name + "_ids" })
            XCTAssertEqual(sequenceMetadata.map { $0["mask_input"] as? String }, c.sequenceFields.map { $0.name + "_mask" })
            XCTAssertEqual(sequenceMetadata.map { $0["table"] as? String },
                           ["embedding.item_id", "embedding.item_id", "embedding.tags", "embedding.clicks", "embedding.category"])
            XCTAssertEqual(metadata["model_config"].map { Data($0.utf8) }.flatMap {
                try? JSONDecoder().decode(ModelConfiguration.self, from: $0) }, c)
            let numpyError = try XCTUnwrap(summary["numpy_reference_max_abs_diff"] as? Double, label)
            XCTAssertLessThanOrEqual(numpyError, 1e-5, "\(label): max |onnxruntime − export_predict.py|, 512 rows")

            let outputCount = model.outputNames.count
            let batched = try ONNXTestSupport.readFloats(URL(fileURLWithPath: path + ".b4096"))
            let single = try ONNXTestSupport.readFloats(URL(fileURLWithPath: path + ".b1"))
            XCTAssertEqual(batched.count, predictions.count, label)
            XCTAssertEqual(single.count, singleRows * outputCount, label)
            guard batched.count == predictions.count, single.count == singleRows * outputCount else { continue }
            let batchedError = zip(batched, predictions).map { abs($0 - $1) }.max() ?? .infinity
            let singleError = zip(single, singlePredictions).map { abs($0 - $1) }.max() ?? .infinity
            XCTAssertLessThanOrEqual(batchedError, 1e-5, "\(label): batch 4096, max |onnxruntime − Ranker|")
            XCTAssertLessThanOrEqual(singleError, 1e-5, "\(label): batch 1, max |onnxruntime − Ranker|")
            print("\(label) with sequences: \(rows.count) rows, max |onnxruntime − Ranker| batch 4096 \(batchedError), "
                  + "batch 1 \(singleError); max |onnxruntime − numpy| \(numpyError)")
        }
    }

    /// The lists matter: the same model scored with every list emptied differs, so the
    /// comparison above tests the pooled slices (and the shared table is stored once).
    func testTheListsChangeTheScoresAndASharedTableIsStoredOnce() throws {
        let dataset = try sequenceDataset()
        let configuration = ModelConfiguration(model: .mmoe, tasks: Array(dataset.tasks.prefix(2)), sparseFields: dataset.fields,
                                               denseFeatures: dataset.denseNames.count, experts: 2, expertHidden: [6],
                                               towerHidden: [4], sequenceFields: dataset.sequenceFields)
        let model = try randomModel(configuration, seed: 9)
        let proto = try ONNXExport.model(of: model)
        let names = proto.graph.initializer.map(\.name)
        XCTAssertEqual(names.filter { $0.hasPrefix("embedding.item_id") }, ["embedding.item_id"])
        XCTAssertEqual(names.filter { $0.hasPrefix("embedding.category") }, ["embedding.category"])
        XCTAssertTrue(Set(model.savedTensors.map(\.name)).isSubset(of: Set(names)))
        let rows = Array(dataset.splits.test.prefix(200))
        let empty = Dataset(name: "empty-lists", fields: dataset.fields, denseNames: dataset.denseNames, tasks: dataset.tasks,
                            ids: dataset.ids, dense: dataset.dense, labels: dataset.labels, splits: dataset.splits,
                            sequenceFields: dataset.sequenceFields,
                            sequences: dataset.sequences.map { _ in RaggedColumn(lists: Array(repeating: [], count: dataset.count)) })
        XCTAssertNotEqual(rankerPredictions(model, dataset, rows: rows), rankerPredictions(model, empty, rows: rows))
    }

    /// End to end: `ranker train` on the synthetic history log as CSV (schemas/synthetic-history.json:
    /// history shares item_id's table, DIN attention, max_length 20), `ranker export --format onnx
    /// --encoding`, then new raw rows — lists empty, longer than max_length (the oldest dropped), with
    /// values the train split never had (id 0), with unseen items — scored by `tools/onnx_score.py
    /// score-csv` from the ONNX file and the encoding JSON alone, against `ranker predict`.
    func testTrainExportAndScoreRawRowsWithListsEqualsRankerPredict() throws {
        let python = try ONNXTestSupport.python()
        let ranker = try ONNXTestSupport.executable("ranker")
        var config = SyntheticClickLogConfig()
        config.rows = 3000
        config.users = 200
        config.items = 400
        config.historyLength = 8
        config.historyPooling = .attention
        config.historySignal = 3   // history carries much of the signal, so the trained attention matters
        let log = try SyntheticClickLog(config: config)
        let trainCSV = temporary.appendingPathComponent("train.csv")
        try Data(log.csvText(rows: Array(0..<2500)).utf8).write(to: trainCSV)
        let schema = ONNXTestSupport.repositoryRoot.appendingPathComponent("schemas/synthetic-history.json").path
        let configURL = temporary.appendingPathComponent("config.json")
        try Data("""
            {"name": "onnx-history",
             "data": {"source": "csv", "schema": "\(schema)", "files": [{"path": "\(trainCSV.path)"}]},
             "model": {"model": "mmoe", "experts": 2, "expert_hidden": [16], "tower_hidden": [8], "embedding_init_std": 0.3},
             "optimizer": {"kind": "adagrad", "learning_rate": 0.05}, "stability": {"policy": "rollback"},
             "training": {"epochs": 3, "batch_size": 256, "seed": 3, "threads": 1},
             "output": {"progress": "none", "report": false}}
            """.utf8).write(to: configURL)
        let run = temporary.appendingPathComponent("run")
        let train = try ONNXTestSupport.run(ranker, ["train", "--config", configURL.path, "--out", run.path], in: temporary)
        XCTAssertEqual(train.status, 0, train.standardOutput + train.standardError)
        guard train.status == 0 else { return }

        let model = temporary.appendingPathComponent("model.onnx")
        let export = try ONNXTestSupport.run(ranker, ["export", run.path, "--format", "onnx", "--encoding", "--out", model.path],
                                             in: temporary)
        XCTAssertEqual(export.status, 0, export.standardError)
        guard export.status == 0 else { return }
        let encodingFile = temporary.appendingPathComponent("model.encoding.json")
        let encoding = try DatasetEncoding.load(path: encodingFile.path)
        XCTAssertEqual(encoding.sequenceFields.map(\.field.name), ["history"])
        XCTAssertEqual(encoding.sequenceFields.first?.field.maxLength, 20)

        // New rows 2500..<2800, their history lists changed in four ways.
        var lines = log.csvText(rows: Array(2500..<2800)).split(separator: "\n").map(String.init)
        let header = lines[0].split(separator: ",").map(String.init)
        let column = try XCTUnwrap(header.firstIndex(of: "history"))
        let known = (1...60).map(String.init)   // item ids the train rows hold
        for i in 1..<lines.count {
            var cells = lines[i].split(separator: ",", omittingEmptySubsequences: false).map(String.init)
            switch i % 5 {
            case 1: cells[column] = ""                                                    // empty
            case 2: cells[column] = cells[column].isEmpty ? "unseen-\(i)" : cells[column] + "|unseen-\(i)"        // unseen value
            case 3: cells[column] = (["unseen-old-\(i)"] + (0..<24).map { known[($0 * 7 + i) % known.count] }).joined(separator: "|")  // 25 values
            case 4: cells[column] = (0..<20).map { known[($0 + i) % known.count] }.joined(separator: "|")                // exactly 20
            default: break
            }
            lines[i] = cells.joined(separator: ",")
        }
        let input = temporary.appendingPathComponent("rows.csv")
        try Data((lines.joined(separator: "\n") + "\n").utf8).write(to: input)

        let rankerScores = temporary.appendingPathComponent("ranker.csv")
        let predict = try ONNXTestSupport.run(ranker, ["predict", "--run", run.path, "--input", input.path,
                                                       "--output", rankerScores.path], in: temporary)
        XCTAssertEqual(predict.status, 0, predict.standardError)
        let onnxScores = temporary.appendingPathComponent("onnx.csv")
        let score = try ONNXTestSupport.run(python, [ONNXTestSupport.scoreScript, "score-csv", model.path, encodingFile.path,
                                                     input.path, "--output", onnxScores.path], in: temporary)
        XCTAssertEqual(score.status, 0, score.standardError)
        guard predict.status == 0, score.status == 0 else { return }
        let expected = try ONNXTestSupport.readScores(rankerScores)
        let found = try ONNXTestSupport.readScores(onnxScores)
        XCTAssertEqual(found.header, ["task_1", "task_2"])
        XCTAssertEqual(found.header, expected.header)
        XCTAssertEqual(found.rows.count, 300)
        XCTAssertEqual(expected.rows.count, 300)
        var largest = 0.0
        for (a, b) in zip(found.rows, expected.rows) {
            XCTAssertEqual(a.count, 2)
            for (x, y) in zip(a, b) { largest = max(largest, abs(x - y)) }
        }
        XCTAssertLessThanOrEqual(largest, 1e-5, "max |onnxruntime − ranker predict| on raw rows with lists")
        print("synthetic history rows: max |onnxruntime − ranker predict| = \(largest)")

        // The lists matter: the same rows with every history emptied score differently.
        let emptied = temporary.appendingPathComponent("emptied.csv")
        try Data((([lines[0]] + lines.dropFirst().map { line -> String in
            var cells = line.split(separator: ",", omittingEmptySubsequences: false).map(String.init)
            cells[column] = ""
            return cells.joined(separator: ",")
        }).joined(separator: "\n") + "\n").utf8).write(to: emptied)
        let emptiedScores = temporary.appendingPathComponent("emptied-scores.csv")
        XCTAssertEqual(try ONNXTestSupport.run(ranker, ["predict", "--run", run.path, "--input", emptied.path,
                                                        "--output", emptiedScores.path], in: temporary).status, 0)
        let changed = zip(try ONNXTestSupport.readScores(emptiedScores).rows, expected.rows).filter { $0 != $1 }.count
        XCTAssertGreaterThan(changed, 150, "the history changes most rows' scores")
    }

    /// A sequence field whose input names would clash with `sparse_ids` is refused, naming it.
    func testClashingInputNamesAreRefused() throws {
        let fields = [SparseField(name: "item", vocabulary: 20, dimension: 4)]
        let configuration = ModelConfiguration(model: .mmoe, tasks: [TaskSpec(name: "a"), TaskSpec(name: "b")],
                                               sparseFields: fields, denseFeatures: 2, experts: 2, expertHidden: [4],
                                               towerHidden: [2], sequenceFields: [
                                                   SequenceField(name: "sparse", vocabulary: 20, dimension: 4, maxLength: 3,
                                                                 sharesEmbeddingWith: "item", pooling: .sum)])
        let model = try makeModel(configuration)
        XCTAssertThrowsError(try ONNXExport.model(of: model)) { error in
            XCTAssertTrue("\(error)".contains("clash with sparse_ids"), "\(error)")
        }
    }
}
