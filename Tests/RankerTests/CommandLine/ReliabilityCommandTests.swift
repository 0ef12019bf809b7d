import Foundation
import XCTest
@testable import Ranker
import RankerTestSupport

/// `ranker eval` and `ranker predict` on the mistakes of issue 14: a training
/// file changed after the run, an output file that is the input, a run
/// directory or kept column that does not exist.
final class ReliabilityCommandTests: TemporaryDirectoryTestCase {
    func ranker(_ arguments: [String]) throws -> BuiltExecutable.Outcome {
        try BuiltExecutable(name: "ranker").run(arguments, temporary: temporary)
    }

    /// `rows` CSV rows `click,buy,item,price` whose labels depend on the item.
    func rows(_ count: Int, seed: UInt64) -> [String] {
        var random = RandomGenerator(seed: seed)
        return (0..<count).map { _ in
            let item = Int(random.nextDouble() * 30)
            let price = random.nextDouble() * 10
            let click = random.nextDouble() < (item % 3 == 0 ? 0.8 : 0.2) ? 1 : 0
            let buy = click == 1 && random.nextDouble() < (item % 2 == 0 ? 0.7 : 0.1) ? 1 : 0
            return "\(click),\(buy),item\(item),\(String(format: "%.3f", price))"
        }
    }

    func write(_ name: String, _ lines: [String]) throws -> URL {
        let url = temporary.appendingPathComponent(name)
        try (["click,buy,item,price"] + lines).joined(separator: "\n").appending("\n").write(to: url, atomically: true, encoding: .utf8)
        return url
    }

    /// Trains a small Shared-Bottom on train/valid/test files; returns the run directory and the train file.
    func trainedRun() throws -> (run: URL, train: URL, test: URL) {
        let train = try write("train.csv", rows(600, seed: 1))
        let valid = try write("valid.csv", rows(200, seed: 2))
        let test = try write("test.csv", rows(200, seed: 3))
        let schema = temporary.appendingPathComponent("schema.json")
        try #"""
            {"columns": [{"column": "click", "role": "label"}, {"column": "buy", "role": "label"},
                         {"column": "item", "role": "sparse", "dimension": 4}, {"column": "price", "role": "dense"}]}
            """#.write(to: schema, atomically: true, encoding: .utf8)
        let config = temporary.appendingPathComponent("run.json")
        try """
            {"name": "small", "data": {"source": "csv", "schema": "\(schema.path)",
              "files": [{"path": "\(train.path)", "part": "train"}, {"path": "\(valid.path)", "part": "valid"},
                        {"path": "\(test.path)", "part": "test"}]},
             "model": {"model": "shared_bottom", "bottom_hidden": [8], "tower_hidden": [4]},
             "optimizer": {"kind": "clippy", "learning_rate": 0.2},
             "training": {"epochs": 2, "batch_size": 64, "seed": 1},
             "output": {"progress": "none", "report": false}}
            """.write(to: config, atomically: true, encoding: .utf8)
        let run = temporary.appendingPathComponent("run")
        let trained = try ranker(["train", "--config", config.path, "--out", run.path])
        XCTAssertEqual(trained.status, 0, trained.standardError)
        return (run, train, test)
    }

    /// Before: eval rebuilt the vocabularies from the shuffled train file, so
    /// the test metrics changed (0.9273 → 0.4287 in the issue), with exit status 0 and no word.
    func testEvalUsesTheFrozenEncodingAndWarnsWhenADataFileChanged() throws {
        let (run, train, _) = try trainedRun()
        XCTAssertTrue(FileManager.default.fileExists(atPath: run.appendingPathComponent("data-fingerprints.json").path))
        let before = try ranker(["eval", run.path, "--json"])
        XCTAssertEqual(before.status, 0, before.standardError)
        XCTAssertFalse(before.standardError.contains("warning"), before.standardError)

        var lines = try String(contentsOf: train, encoding: .utf8).split(separator: "\n").map(String.init)
        let header = lines.removeFirst()
        var random = RandomGenerator(seed: 9)
        for i in stride(from: lines.count - 1, to: 0, by: -1) { lines.swapAt(i, Int(random.nextDouble() * Double(i + 1))) }
        try ([header] + lines).joined(separator: "\n").appending("\n").write(to: train, atomically: true, encoding: .utf8)

        let after = try ranker(["eval", run.path, "--json"])
        XCTAssertEqual(after.status, 0, after.standardError)
        XCTAssertTrue(after.standardError.contains("warning: \(train.path): same size, content hash "), after.standardError)
        XCTAssertTrue(after.standardError.contains("since the run trained on it"), after.standardError)
        func meanAUC(_ outcome: BuiltExecutable.Outcome) throws -> Double {
            let object = try JSONSerialization.jsonObject(with: Data(outcome.standardOutput.utf8)) as? [String: Any]
            return try XCTUnwrap(object?["mean_auc"] as? Double)
        }
        // The test file did not change, and it is encoded as the run encoded it.
        XCTAssertEqual(try meanAUC(after), try meanAUC(before))
    }

    /// Before: predict truncated the input it was reading (`--output` = `--input`).
    func testPredictRefusesToOverwriteItsInput() throws {
        let (run, _, test) = try trainedRun()
        let original = try Data(contentsOf: test)
        let link = temporary.appendingPathComponent("link.csv")
        try FileManager.default.createSymbolicLink(at: link, withDestinationURL: test)
        let other = temporary.path + "/./sub/../test.csv"
        try FileManager.default.createDirectory(at: temporary.appendingPathComponent("sub"), withIntermediateDirectories: true)
        for output in [test.path, link.path, other] {
            let outcome = try ranker(["predict", "--run", run.path, "--input", test.path, "--output", output])
            XCTAssertNotEqual(outcome.status, 0)
            XCTAssertTrue(outcome.standardError.contains("is the input file"), outcome.standardError)
            XCTAssertEqual(try Data(contentsOf: test), original)
        }
    }

    /// Before: `--run /nonexistent` said `/nonexistent/encoding.json does not exist (the run's data came from code…)`;
    /// `--keep nonexist` said the schema names a column it does not.
    func testPredictNamesAMissingRunDirectoryAndAMissingKeptColumn() throws {
        let missing = temporary.appendingPathComponent("no-such-run").path
        let absent = try ranker(["predict", "--run", missing, "--input", "x.csv", "--output", "y.csv"])
        XCTAssertNotEqual(absent.status, 0)
        XCTAssertTrue(absent.standardError.contains("the run directory \(missing) does not exist"), absent.standardError)

        let (run, _, test) = try trainedRun()
        let kept = try ranker(["predict", "--run", run.path, "--input", test.path, "--output",
                               temporary.appendingPathComponent("out.csv").path, "--keep", "nonexist"])
        XCTAssertNotEqual(kept.status, 0)
        XCTAssertTrue(kept.standardError.contains("no column \"nonexist\" to keep; the columns are: click, buy, item, price"),
                      kept.standardError)
    }

    /// A process killed after it created the run directory (and its lock
    /// file) but before it wrote `config.json` left nothing to resume. Before:
    /// `--resume DIR` failed with "…/config.json: open failed" and no advice.
    /// Now the message says what happened and how to start the run; doing
    /// what it says trains the run from the beginning.
    func testResumeOfARunKilledBeforeItWroteItsConfigurationSaysHowToStartIt() throws {
        let run = temporary.appendingPathComponent("killed-at-start")
        try FileManager.default.createDirectory(at: run, withIntermediateDirectories: true)
        _ = FileManager.default.createFile(atPath: run.appendingPathComponent(".ranker.lock").path, contents: nil)
        let resumed = try ranker(["train", "--resume", run.path])
        XCTAssertEqual(resumed.status, 1, resumed.standardError)
        XCTAssertTrue(resumed.standardError.contains("cannot resume \(run.path): it has no config.json"), resumed.standardError)
        XCTAssertTrue(resumed.standardError.contains("ranker train --config FILE --resume \(run.path)"), resumed.standardError)

        let config = temporary.appendingPathComponent("run.json")
        try #"""
            {"name": "early", "data": {"source": "synthetic", "synthetic": {"rows": 2000, "users": 50, "items": 80, "tasks": 2}},
             "model": {"model": "shared_bottom", "bottom_hidden": [8], "tower_hidden": [4]},
             "training": {"epochs": 1, "batch_size": 64, "seed": 1, "threads": 1},
             "output": {"progress": "none", "report": false}}
            """#.write(to: config, atomically: true, encoding: .utf8)
        let started = try ranker(["train", "--config", config.path, "--resume", run.path])
        XCTAssertEqual(started.status, 0, started.standardError)
        XCTAssertTrue(FileManager.default.fileExists(atPath: run.appendingPathComponent("checkpoint.safetensors").path))
        XCTAssertTrue(FileManager.default.fileExists(atPath: run.appendingPathComponent("config.json").path))

        let missing = temporary.appendingPathComponent("never-created").path
        let absent = try ranker(["train", "--resume", missing])
        XCTAssertEqual(absent.status, 1, absent.standardError)
        XCTAssertTrue(absent.standardError.contains("cannot resume: \(missing) is not a run directory"), absent.standardError)
    }

    /// Replaces one non-square `.W` matrix of `url` whose name starts with
    /// `prefix` by its transpose's shape (checksums rewritten, so only the
    /// shape is wrong); returns the tensor's name.
    func transposeOneMatrix(_ url: URL, prefix: String) throws -> String {
        let reader = try SafeTensorsReader(url: url)
        var tensors = try reader.readAllMatrices()
        let name = try XCTUnwrap(tensors.keys.sorted().first {
            $0.hasPrefix(prefix) && $0.hasSuffix(".W") && tensors[$0]!.rows != tensors[$0]!.cols
        })
        let m = tensors[name]!
        tensors[name] = Matrix(rows: m.cols, cols: m.rows)
        try SafeTensorsWriter.write(tensors: tensors.map { (name: $0.key, value: $0.value) }, metadata: reader.metadata,
                                    to: url, checksums: true)
        return name
    }

    /// Before: a misshapen tensor made eval and predict say "checkpoint tensor
    /// X has shape …" without the file (`ranker export` named it); both name it now.
    func testEvalAndPredictNameTheFileOfAMisshapenTensor() throws {
        let (run, _, test) = try trainedRun()
        let best = run.appendingPathComponent("best.safetensors")
        let checkpoint = run.appendingPathComponent("checkpoint.safetensors")
        let bestTensor = try transposeOneMatrix(best, prefix: "")
        let modelTensor = try transposeOneMatrix(checkpoint, prefix: Checkpoint.Prefix.model)
        for (arguments, file, tensor) in [(["eval", run.path], best, bestTensor),
                                          (["eval", run.path, "--weights", "last"], checkpoint, modelTensor),
                                          (["predict", "--run", run.path, "--input", test.path, "--output",
                                            temporary.appendingPathComponent("scores.csv").path], best, bestTensor)] {
            let outcome = try ranker(arguments)
            XCTAssertEqual(outcome.status, 1, "\(arguments): \(outcome.standardError)")
            XCTAssertTrue(outcome.standardError.contains("\(file.path): checkpoint tensor \(tensor) has shape"),
                          "\(arguments): \(outcome.standardError)")
        }
    }
}
