import Foundation
import XCTest
@testable import Ranker
import RankerTestSupport

/// `ranker train` and `ranker predict` on a CSV with a list column: the
/// synthetic log with a behaviour history written as CSV
/// (`SyntheticClickLog.csvText`), read with the shipped
/// `schemas/synthetic-history.json` (history shares item_id's table, target
/// attention); predict reads the lists of new rows with the run's frozen
/// encoding and writes what the exported model computes in process.
final class SequenceCommandTests: TemporaryDirectoryTestCase {
    func log() throws -> SyntheticClickLog {
        var c = SyntheticClickLogConfig()
        c.rows = 3000
        c.users = 200
        c.items = 400
        c.historyLength = 8
        c.historyPooling = .attention
        return try SyntheticClickLog(config: c)
    }

    func testShippedSchemaReadsTheHistoryCSV() throws {
        let log = try log()
        let path = temporary.appendingPathComponent("log.csv")
        try Data(log.csvText().utf8).write(to: path)
        let schema = try DataTestSupport.shippedSchema("synthetic-history")
        XCTAssertEqual(schema.name, "synthetic-history")
        let d = try CSVDatasetLoader.load(schema: schema, path: path.path)
        XCTAssertEqual(d.count, 3000)
        XCTAssertEqual(d.sequenceFields.map(\.name), ["history"])
        XCTAssertEqual(d.sequenceFields[0].sharesEmbeddingWith, "item_id")
        XCTAssertEqual(d.sequenceFields[0].pooling, .attention)
        // The lists hold the same items: map ids back to the values they were read from.
        let items = try XCTUnwrap(d.vocabularies[1])
        let original = log.dataset.sequences[0]
        XCTAssertEqual(d.sequences[0].offsets, original.offsets)
        for i in d.sequences[0].ids.indices where d.sequences[0].ids[i] != 0 {
            XCTAssertEqual(items[Int(d.sequences[0].ids[i]) - 1], String(original.ids[i]))
        }
    }

    /// `ranker train` on rows 0..<2500 of the log as CSV; the run directory, or nil after a failed run.
    func trainedRun(_ log: SyntheticClickLog) throws -> URL? {
        let trainCSV = temporary.appendingPathComponent("train.csv")
        try Data(log.csvText(rows: Array(0..<2500)).utf8).write(to: trainCSV)
        let schema = BuiltExecutable.repositoryRoot.appendingPathComponent("schemas/synthetic-history.json").path
        let configURL = temporary.appendingPathComponent("config.json")
        try Data("""
            {"name": "cli-history",
             "data": {"source": "csv", "schema": "\(schema)", "files": [{"path": "\(trainCSV.path)"}]},
             "model": {"model": "mmoe", "experts": 2, "expert_hidden": [16], "tower_hidden": [8]},
             "optimizer": {"kind": "adagrad", "learning_rate": 0.05},
             "training": {"epochs": 1, "batch_size": 256, "seed": 3, "threads": 1},
             "output": {"progress": "none", "report": false}}
            """.utf8).write(to: configURL)
        let run = temporary.appendingPathComponent("run")
        let tool = BuiltExecutable(name: "ranker")
        let train = try tool.run(["train", "--config", configURL.path, "--out", run.path], temporary: temporary)
        XCTAssertEqual(train.status, 0, train.standardOutput + train.standardError)
        return train.status == 0 ? run : nil
    }

    func testTrainThenPredictWithListsInTheCSV() throws {
        let log = try log()
        let inputCSV = temporary.appendingPathComponent("input.csv")
        try Data(log.csvText(rows: Array(2500..<2540)).utf8).write(to: inputCSV)
        guard let run = try trainedRun(log) else { return }
        let tool = BuiltExecutable(name: "ranker")
        let directory = RunDirectory(url: run)
        let encoding = try XCTUnwrap(try directory.encoding())
        XCTAssertEqual(encoding.sequenceFields.map(\.field.name), ["history"])

        let scores = temporary.appendingPathComponent("scores.csv")
        let predict = try tool.run(["predict", "--run", run.path, "--input", inputCSV.path, "--output", scores.path],
                                   temporary: temporary)
        XCTAssertEqual(predict.status, 0, predict.standardError)
        let lines = String(decoding: try Data(contentsOf: scores), as: UTF8.self).split(separator: "\n")
        XCTAssertEqual(lines.first, "task_1,task_2")
        XCTAssertEqual(lines.count, 41)

        // In process: the best weights on the input rows read with the run's encoding.
        let model = try ModelExport.loadModel(from: directory.bestURL)
        XCTAssertEqual(model.configuration.sequenceFields, encoding.sequenceFields.map(\.field))
        let rows = try CSVDatasetLoader.load(encoding: encoding, path: inputCSV.path, labels: .ignored).dataset
        XCTAssertGreaterThan(rows.sequences[0].ids.count, 40, "the input rows carry lists")
        let batch = rows.makeBatch(capacity: rows.count)
        rows.fill(batch, rows: Array(0..<rows.count))
        let expected = Matrix(rows: rows.count, cols: 2)
        model.predict(logits: model.forward(batch), into: expected.view)
        for (i, line) in lines.dropFirst().enumerated() {
            let cells = line.split(separator: ",").map { Float(String($0))! }
            for k in 0..<2 { XCTAssertEqual(cells[k], expected[i, k], accuracy: 1e-6, "row \(i) output \(k)") }
        }
    }

    /// `ranker export --format onnx --encoding` checks the run's encoding
    /// against the exported model's sequence fields too: an encoding.json
    /// whose history keeps another number of items, or pools another way,
    /// is refused with the field and the key named, and nothing is written.
    /// `ranker predict` refuses the same pair with the same message.
    func testExportWithEncodingRefusesAnEncodingWhoseSequenceFieldDiffers() throws {
        let log = try log()
        let inputCSV = temporary.appendingPathComponent("input.csv")
        try Data(log.csvText(rows: Array(2500..<2510)).utf8).write(to: inputCSV)
        guard let run = try trainedRun(log) else { return }
        let tool = BuiltExecutable(name: "ranker")
        let directory = RunDirectory(url: run)
        let original = try XCTUnwrap(try directory.encoding())
        let model = temporary.appendingPathComponent("model.onnx")
        let agreeing = try tool.run(["export", run.path, "--format", "onnx", "--encoding", "--out", model.path],
                                    temporary: temporary)
        XCTAssertEqual(agreeing.status, 0, agreeing.standardError)
        try FileManager.default.removeItem(at: model)
        try? FileManager.default.removeItem(at: temporary.appendingPathComponent("model.encoding.json"))

        let changes: [(String, (inout SequenceField) -> Void)] = [
            ("sequence field \"history\": max_length is 20 in the model and 12 in the encoding", { $0.maxLength = 12 }),
            ("sequence field \"history\": pooling is attention in the model and mean in the encoding",
             { $0.pooling = .mean; $0.target = nil }),
        ]
        for (expected, change) in changes {
            var changed = original
            change(&changed.sequenceFields[0].field)
            try changed.write(to: directory.encodingURL)
            let refused = try tool.run(["export", run.path, "--format", "onnx", "--encoding", "--out", model.path],
                                       temporary: temporary)
            XCTAssertNotEqual(refused.status, 0, expected)
            XCTAssertTrue(refused.standardError.contains("do not belong together: " + expected), refused.standardError)
            XCTAssertFalse(FileManager.default.fileExists(atPath: model.path), "nothing is written")
            let scores = temporary.appendingPathComponent("scores.csv")
            let predict = try tool.run(["predict", "--run", run.path, "--input", inputCSV.path,
                                        "--output", scores.path], temporary: temporary)
            XCTAssertNotEqual(predict.status, 0, expected)
            XCTAssertTrue(predict.standardError.contains("do not belong together: " + expected), predict.standardError)
            XCTAssertFalse(FileManager.default.fileExists(atPath: scores.path), "nothing is written")
        }
    }
}
