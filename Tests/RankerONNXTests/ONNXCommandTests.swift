import Foundation
import XCTest
@testable import Ranker
import RankerTestSupport

/// `ranker export --format onnx --encoding` end to end, as a serving team uses
/// it: a census MMoE with BatchNorm trained by `ranker train`, exported with its
/// encoding; census test rows, some with categorical values the train split
/// never had, scored by `ranker predict` and by `tools/onnx_score.py`, which
/// encodes the raw rows from the exported encoding JSON alone (its own
/// implementation of the documented rules) and runs onnxruntime.
final class ONNXCommandTests: TemporaryDirectoryTestCase {
    /// The first `count` lines of a (gzip) text file.
    func firstLines(of path: String, count: Int) throws -> [String] {
        let source = try openByteSource(path: path)
        var bytes: [UInt8] = []
        let chunk = UnsafeMutablePointer<UInt8>.allocate(capacity: 1 << 16)
        defer { chunk.deallocate() }
        while bytes.reduce(0, { $0 + ($1 == 0x0A ? 1 : 0) }) < count {
            let n = try source.read(into: chunk, capacity: 1 << 16)
            if n == 0 { break }
            bytes += UnsafeBufferPointer(start: chunk, count: n)
        }
        return Array(String(decoding: bytes, as: UTF8.self).split(separator: "\n").prefix(count).map(String.init))
    }

    func testTrainExportWithEncodingAndScoreRawRowsWithUnseenValues() throws {
        let python = try ONNXTestSupport.python()
        let ranker = try ONNXTestSupport.executable("ranker")
        let censusPath: String
        do {
            censusPath = try CensusIncome.locate(filePath: #filePath)
        } catch let notFound as DataLocation.NotFound {
            print("skipping: \(notFound)")
            throw XCTSkip("census-income not found (set RANKER_DATA or run `make data`): \(notFound)")
        }
        let dataRoot = URL(fileURLWithPath: censusPath).deletingLastPathComponent().deletingLastPathComponent().path
        let environment = ["RANKER_DATA": dataRoot]

        // 1. train: a small MMoE with BatchNorm on hidden layers and gates, 40 steps.
        let run = temporary.appendingPathComponent("run")
        let config = temporary.appendingPathComponent("census.json")
        try Data("""
            {"name": "onnx-census", "data": {"source": "census"},
             "model": {"model": "mmoe", "experts": 3, "expert_hidden": [16], "tower_hidden": [8],
                       "batch_norm": true, "gate_batch_norm": true},
             "optimizer": {"kind": "adagrad", "learning_rate": 0.05},
             "training": {"epochs": 1, "batch_size": 512, "max_steps": 40, "eval_every_steps": 40, "seed": 5, "threads": 1},
             "output": {"progress": "none"}}
            """.utf8).write(to: config)
        let train = try ONNXTestSupport.run(ranker, ["train", "--config", config.path, "--out", run.path],
                                            in: temporary, environment: environment)
        XCTAssertEqual(train.status, 0, train.standardOutput + train.standardError)
        guard train.status == 0 else { return }

        // 2. export the best weights as ONNX with the encoding.
        let model = temporary.appendingPathComponent("model.onnx")
        let export = try ONNXTestSupport.run(ranker, ["export", run.path, "--format", "onnx", "--encoding",
                                                      "--out", model.path], in: temporary)
        XCTAssertEqual(export.status, 0, export.standardError)
        guard export.status == 0 else { return }
        let encodingFile = temporary.appendingPathComponent("model.encoding.json")
        XCTAssertTrue(export.standardOutput.contains("\(model.path): ONNX opset 17, mmoe"), export.standardOutput)
        XCTAssertEqual(try DatasetEncoding.load(path: encodingFile.path),
                       try DatasetEncoding.load(path: run.appendingPathComponent("encoding.json").path))

        let check = try ONNXTestSupport.run(python, [ONNXTestSupport.scoreScript, "check", model.path], in: temporary)
        XCTAssertEqual(check.status, 0, check.standardError)
        let summary = try XCTUnwrap(try JSONSerialization.jsonObject(with: Data(check.standardOutput.utf8)) as? [String: Any])
        let metadata = try XCTUnwrap(summary["metadata"] as? [String: String])
        XCTAssertEqual(metadata["run_config"], String(decoding: try Data(contentsOf: run.appendingPathComponent("config.json")),
                                                      as: UTF8.self))
        XCTAssertEqual(metadata["tasks"], "[\"income\",\"marital\"]")
        XCTAssertEqual(metadata["source"], "best.safetensors")

        // 3. test rows (rows 8 and 9 of every 10, PROTOCOL.md), some with unseen categorical values.
        let lines = try firstLines(of: censusPath, count: 3000).enumerated().filter { $0.offset % 10 >= 8 }.map(\.element)
        XCTAssertEqual(lines.count, 600)
        var rows = lines
        for i in stride(from: 0, to: rows.count, by: 7) {
            var cells = rows[i].split(separator: ",", omittingEmptySubsequences: false).map(String.init)
            cells[4] = " Doctorate of Onnxology"      // education
            cells[34] = " Atlantis"                   // country_self
            rows[i] = cells.joined(separator: ",")
        }
        let input = temporary.appendingPathComponent("rows.csv")
        try Data((rows.joined(separator: "\n") + "\n").utf8).write(to: input)

        // 4. ranker predict, and onnxruntime from the raw rows with the exported encoding.
        let rankerScores = temporary.appendingPathComponent("ranker.csv")
        let predict = try ONNXTestSupport.run(ranker, ["predict", "--run", run.path, "--input", input.path,
                                                       "--output", rankerScores.path], in: temporary)
        XCTAssertEqual(predict.status, 0, predict.standardError)
        let unseen = predict.standardOutput.split(separator: "\n").first { $0.hasPrefix("values the train split never had") }
        XCTAssertTrue(unseen.map { $0.contains("education ") && $0.contains("country_self ") } ?? false,
                      "unseen values reach the model as id 0: \(predict.standardOutput)")
        let onnxScores = temporary.appendingPathComponent("onnx.csv")
        let score = try ONNXTestSupport.run(python, [ONNXTestSupport.scoreScript, "score-csv", model.path, encodingFile.path,
                                                     input.path, "--output", onnxScores.path], in: temporary)
        XCTAssertEqual(score.status, 0, score.standardError)
        guard predict.status == 0, score.status == 0 else { return }
        let expected = try ONNXTestSupport.readScores(rankerScores)
        let found = try ONNXTestSupport.readScores(onnxScores)
        XCTAssertEqual(found.header, ["income", "marital"])
        XCTAssertEqual(found.header, expected.header)
        XCTAssertEqual(found.rows.count, 600)
        XCTAssertEqual(expected.rows.count, 600)
        var largest = 0.0
        for (a, b) in zip(found.rows, expected.rows) {
            XCTAssertEqual(a.count, 2)
            for (x, y) in zip(a, b) { largest = max(largest, abs(x - y)) }
        }
        XCTAssertLessThanOrEqual(largest, 1e-5, "max |onnxruntime − ranker predict| on raw rows")
        print("census rows with unseen values: max |onnxruntime − ranker predict| = \(largest)")
        // The unseen values change the scores (id 0 is a row of its own), so the rows test something.
        let original = temporary.appendingPathComponent("original.csv")
        try Data((lines.joined(separator: "\n") + "\n").utf8).write(to: original)
        let originalScores = temporary.appendingPathComponent("original-scores.csv")
        XCTAssertEqual(try ONNXTestSupport.run(ranker, ["predict", "--run", run.path, "--input", original.path,
                                                        "--output", originalScores.path], in: temporary).status, 0)
        XCTAssertNotEqual(try ONNXTestSupport.readScores(originalScores).rows[0], expected.rows[0])

        // --encoding is for ONNX only, and needs a run with an encoding.
        let misuse = try ONNXTestSupport.run(ranker, ["export", run.path, "--encoding", "--out",
                                                      temporary.appendingPathComponent("x.safetensors").path], in: temporary)
        XCTAssertNotEqual(misuse.status, 0)
        XCTAssertTrue(misuse.standardError.contains("--encoding applies to --format onnx"), misuse.standardError)
    }
}
