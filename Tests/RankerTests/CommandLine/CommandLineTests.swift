import Foundation
import XCTest
@testable import Ranker
import RankerTestSupport

/// The `ranker` executable, run as a user runs it (`.build/release/ranker`,
/// which `make test` builds; the tests never build it): complete help, and a
/// census-income run through train → eval → export → predict → report whose
/// outputs are checked against the library computing the same things in
/// process (the trainer's own telemetry, `Evaluator`, `forward` + `predict`
/// on the rows as the training load encoded them).
final class CommandLineTests: TemporaryDirectoryTestCase {
    /// Runs `ranker arguments…`.
    func ranker(_ arguments: [String], environment extra: [String: String] = [:]) throws -> BuiltExecutable.Outcome {
        try BuiltExecutable(name: "ranker").run(arguments, environment: extra, temporary: temporary)
    }

    // MARK: help

    /// Options each command must offer (besides --help).
    static let expectedOptions: [String: [String]] = [
        "train": ["--config", "--out", "--resume", "--print-config", "--data", "--model", "--optimizer", "--preset",
                  "--lr", "--weighting", "--combination", "--epochs", "--batch-size", "--seed", "--threads",
                  "--max-steps", "--eval-every", "--interrupt-after", "--policy", "--progress"],
        "eval": ["<run-directory>", "--split", "--weights", "--threads", "--batch-size", "--json"],
        "predict": ["--run", "--model", "--encoding", "--input", "--output", "--keep", "--batch-size", "--threads"],
        "export": ["<source>", "--weights", "--out", "--format", "--encoding"],
        "report": ["<run-directory>", "--out"],
        "bench": ["--threads", "--ranks", "--workloads", "--json", "--quick"],
    ]

    func testHelpListsEveryCommandAndEveryOptionWithAHelpText() throws {
        let top = try ranker(["--help"])
        XCTAssertEqual(top.status, 0, top.standardError)
        let subcommands = try XCTUnwrap(top.standardOutput.range(of: "SUBCOMMANDS:")).upperBound
        let listing = String(top.standardOutput[subcommands...])
        let positions = ["train", "eval", "predict", "export", "report", "bench"].map { name in
            listing.range(of: "\n  \(name) ")?.lowerBound
        }
        XCTAssertFalse(positions.contains(nil), "every subcommand is listed:\n\(top.standardOutput)")
        XCTAssertEqual(positions.compactMap { $0 }, positions.compactMap { $0 }.sorted(),
                       "in the order train, eval, predict, export, report, bench")

        for (command, options) in Self.expectedOptions {
            let help = try ranker([command, "--help"])
            XCTAssertEqual(help.status, 0, "\(command): \(help.standardError)")
            for option in options {
                XCTAssertTrue(help.standardOutput.contains(option), "`ranker \(command) --help` lacks \(option)")
            }
        }

        // The parser's own description of every command: each argument it
        // shows has a help text, and each command an abstract.
        let dump = try ranker(["--experimental-dump-help"])
        XCTAssertEqual(dump.status, 0, dump.standardError)
        let root = try XCTUnwrap(try JSONSerialization.jsonObject(with: Data(dump.standardOutput.utf8)) as? [String: Any])
        var checked = 0
        var seen: [String: [String]] = [:]
        func visit(_ command: [String: Any], path: String) {
            let name = command["commandName"] as? String ?? "?"
            if name == "help" { return }  // the parser's own help command
            let here = path.isEmpty ? name : path + " " + name
            XCTAssertFalse((command["abstract"] as? String ?? "").isEmpty, "\(here) has no abstract")
            for argument in command["arguments"] as? [[String: Any]] ?? [] {
                guard argument["shouldDisplay"] as? Bool ?? true else { continue }
                let preferred = argument["preferredName"] as? [String: Any]
                let shown = (preferred?["name"] as? String) ?? (argument["valueName"] as? String) ?? "?"
                let abstract = (argument["abstract"] as? String ?? "").trimmingCharacters(in: .whitespaces)
                XCTAssertFalse(abstract.isEmpty, "`\(here)` argument \(shown) has an empty help text")
                seen[name, default: []].append(shown)
                checked += 1
            }
            for sub in command["subcommands"] as? [[String: Any]] ?? [] { visit(sub, path: here) }
        }
        visit(try XCTUnwrap(root["command"] as? [String: Any]), path: "")
        XCTAssertEqual(Set(seen.keys).intersection(Self.expectedOptions.keys), Set(Self.expectedOptions.keys))
        XCTAssertGreaterThan(checked, Self.expectedOptions.values.reduce(0) { $0 + $1.count })
    }

    func testArgumentMistakesAreReportedWithoutRunning() throws {
        let predict = try ranker(["predict", "--input", "x.csv", "--output", "y.csv"])
        XCTAssertNotEqual(predict.status, 0)
        XCTAssertTrue(predict.standardError.contains("give --model FILE (or --run DIR)"), predict.standardError)
        let eval = try ranker(["eval", temporary.appendingPathComponent("absent").path])
        XCTAssertNotEqual(eval.status, 0)
        XCTAssertTrue(eval.standardError.contains("does not exist"), eval.standardError)
        let split = try ranker(["eval", temporary.path, "--split", "holdout"])
        XCTAssertNotEqual(split.status, 0)
        XCTAssertTrue(split.standardError.contains("holdout"), split.standardError)
        let weighting = try ranker(["train", "--weighting", "mgda"])
        XCTAssertNotEqual(weighting.status, 0)
        XCTAssertTrue(weighting.standardError.contains("unknown loss weighting method \"mgda\"; known: fixed, dwa, gradnorm, uw"),
                      weighting.standardError)
        let misplaced = try ranker(["train", "--combination", "uw"])
        XCTAssertNotEqual(misplaced.status, 0)
        XCTAssertTrue(misplaced.standardError.contains("configure it under \"weighting\""), misplaced.standardError)
    }

    /// `--weighting` / `--combination` list the registry's (built-in) methods.
    func testBalancerHelpListsTheRegisteredMethods() throws {
        let help = try ranker(["train", "--help"])
        XCTAssertEqual(help.status, 0, help.standardError)
        let words = help.standardOutput.split(whereSeparator: \.isWhitespace).joined(separator: " ")
        for names in ["fixed, dwa, gradnorm, uw", "gradcraft, pcgrad"] {
            XCTAssertTrue(words.contains("method with default options: \(names)."), "\(names): \(words)")
        }
    }

    // MARK: census-income end to end

    /// Predictions of `model` for `rows` of `dataset`, in process.
    func predictions(_ model: MultiTaskModel, _ dataset: Dataset, rows: [Int]) -> [[Float]] {
        let batch = dataset.makeBatch(capacity: rows.count)
        dataset.fill(batch, rows: rows)
        let output = Matrix(rows: rows.count, cols: model.outputNames.count)
        model.predict(logits: model.forward(batch), into: output.view)
        return output.toNestedArray()
    }

    /// A predictions CSV: header and rows of cells.
    func readCSV(_ url: URL) throws -> (header: [String], rows: [[String]]) {
        let lines = String(decoding: try Data(contentsOf: url), as: UTF8.self).split(separator: "\n").map(String.init)
        let cells = lines.map { $0.split(separator: ",", omittingEmptySubsequences: false).map(String.init) }
        return (cells.first ?? [], Array(cells.dropFirst()))
    }

    func testCensusTrainEvalExportPredictReport() throws {
        let censusPath: String
        do {
            censusPath = try CensusIncome.locate(filePath: #filePath)
        } catch let notFound as DataLocation.NotFound {
            print("skipping: \(notFound)")
            throw XCTSkip("census-income not found (set RANKER_DATA or run `make data`): \(notFound)")
        }
        // The child processes look for the same file.
        let dataRoot = URL(fileURLWithPath: censusPath).deletingLastPathComponent().deletingLastPathComponent().path
        let environment = ["RANKER_DATA": dataRoot]
        let run = temporary.appendingPathComponent("run")
        let directory = RunDirectory(url: run)

        // 1. train: a small Shared-Bottom, 30 steps of 1,024 rows, valid evaluations at steps 15 and 30.
        let configURL = temporary.appendingPathComponent("census.json")
        try Data("""
            {"name": "cli-census", "data": {"source": "census"},
             "model": {"model": "shared_bottom", "bottom_hidden": [32], "tower_hidden": [8]},
             "optimizer": {"kind": "adagrad", "learning_rate": 0.05},
             "training": {"epochs": 2, "batch_size": 1024, "max_steps": 30, "eval_every_steps": 15, "seed": 3, "threads": 1},
             "output": {"progress": "none"}}
            """.utf8).write(to: configURL)
        let train = try ranker(["train", "--config", configURL.path, "--out", run.path], environment: environment)
        XCTAssertEqual(train.status, 0, train.standardOutput + train.standardError)
        guard train.status == 0 else { return }
        for file in ["config.json", "encoding.json", "telemetry.jsonl", "checkpoint.safetensors", "best.safetensors",
                     "report.html"] {
            XCTAssertTrue(FileManager.default.fileExists(atPath: run.appendingPathComponent(file).path), file)
        }

        // The run's encoding is the census data's, as the library encodes it.
        let census = try CensusIncome.load(path: censusPath, filePath: #filePath)
        XCTAssertEqual(try directory.encoding(), DatasetEncoding(dataset: census))

        // 2. eval (best weights, test split) reports what the trainer reported
        //    for the same weights and rows at the end of the run.
        let eval = try ranker(["eval", run.path, "--json"], environment: environment)
        XCTAssertEqual(eval.status, 0, eval.standardError)
        let evalJSON = try XCTUnwrap(try JSONSerialization.jsonObject(with: Data(eval.standardOutput.utf8)) as? [String: Any])
        XCTAssertEqual(evalJSON["split"] as? String, "test")
        XCTAssertEqual(evalJSON["weights"] as? String, "best")
        XCTAssertEqual(evalJSON["examples"] as? Int, census.splits.test.count)
        let telemetry = String(decoding: try Data(contentsOf: directory.telemetryURL), as: UTF8.self)
            .split(separator: "\n").compactMap { try? JSONSerialization.jsonObject(with: Data($0.utf8)) as? [String: Any] }
        let end = try XCTUnwrap(telemetry.last { $0["type"] as? String == "end" })
        XCTAssertEqual(evalJSON["step"] as? Int, end["best_step"] as? Int)
        let trainerTest = try XCTUnwrap(end["test"] as? [String: [String: Any]])
        let evalMetrics = try XCTUnwrap(evalJSON["metrics"] as? [String: [String: Any]])
        XCTAssertEqual(Set(evalMetrics.keys), ["income", "marital"])
        for (task, metrics) in trainerTest {
            for key in ["auc", "logloss"] {
                let expected = try XCTUnwrap(metrics[key] as? Double, "\(task).\(key)")
                let found = try XCTUnwrap(evalMetrics[task]?[key] as? Double, "\(task).\(key)")
                XCTAssertEqual(found, expected, accuracy: 1e-12, "\(task) \(key)")
            }
        }
        // The table, with the last weights on the valid split, against Evaluator in process.
        let lastModel = try makeModel(try RunData.modelConfiguration(try directory.configuration().model, for: census))
        try ModelWeights.load(into: lastModel, from: directory.checkpointURL)
        let expectedValid = Evaluator(model: lastModel, dataset: census).evaluate(rows: census.splits.valid, split: "valid")
        let table = try ranker(["eval", run.path, "--split", "valid", "--weights", "last"], environment: environment)
        XCTAssertEqual(table.status, 0, table.standardError)
        for t in expectedValid.tasks {
            let line = "  " + t.name.padding(toLength: 12, withPad: " ", startingAt: 0) + "  " + String(format: "%.4f", t.auc!)
            XCTAssertTrue(table.standardOutput.contains(line), "expected \(line) in\n\(table.standardOutput)")
        }
        XCTAssertTrue(table.standardOutput.contains(String(format: "mean AUC %.4f", expectedValid.meanAUC)))

        // 3. export: the last weights are the checkpoint's model tensors; best is copied as is.
        let lastExport = temporary.appendingPathComponent("last.safetensors")
        let export = try ranker(["export", run.path, "--weights", "last", "--out", lastExport.path], environment: environment)
        XCTAssertEqual(export.status, 0, export.standardError)
        let exported = try ModelExport.loadModel(from: lastExport)
        XCTAssertEqual(exported.configuration, lastModel.configuration)
        let checkpoint = try SafeTensorsReader(url: directory.checkpointURL)
        for p in exported.parameters {
            let stored = try checkpoint.readMatrix(named: Checkpoint.Prefix.model + p.name)
            XCTAssertEqual((0..<p.count).map { p.value.data[$0].bitPattern },
                           (0..<stored.count).map { stored.data[$0].bitPattern }, p.name)
        }
        let bestCopy = temporary.appendingPathComponent("best-copy.safetensors")
        XCTAssertEqual(try ranker(["export", run.path, "--out", bestCopy.path]).status, 0)
        XCTAssertEqual(try Data(contentsOf: bestCopy), try Data(contentsOf: directory.bestURL))
        let fromFile = try ranker(["export", directory.checkpointURL.path, "--out",
                                   temporary.appendingPathComponent("file.safetensors").path])
        XCTAssertEqual(fromFile.status, 0, fromFile.standardError)
        XCTAssertEqual(try Data(contentsOf: temporary.appendingPathComponent("file.safetensors")),
                       try Data(contentsOf: lastExport), "a checkpoint file exports as its run directory does")

        // 4. predict on the file's first 50 rows (rows 0…49 of the dataset).
        let lines = try DataTestSupport.firstLines(of: censusPath, count: 50)
        XCTAssertEqual(lines.count, 50)
        let input = temporary.appendingPathComponent("rows.csv")
        try Data((lines.joined(separator: "\n") + "\n").utf8).write(to: input)
        let scores = temporary.appendingPathComponent("scores.csv")
        let predict = try ranker(["predict", "--model", lastExport.path, "--encoding", directory.encodingURL.path,
                                  "--input", input.path, "--output", scores.path, "--keep", "age", "--keep", "24"])
        XCTAssertEqual(predict.status, 0, predict.standardError)
        let written = try readCSV(scores)
        XCTAssertEqual(written.header, ["age", "24", "income", "marital"])
        XCTAssertEqual(written.rows.count, 50)
        let expected = predictions(exported, census, rows: Array(0..<50))
        for (i, row) in written.rows.enumerated() {
            let fields = lines[i].split(separator: ",", omittingEmptySubsequences: false)
                .map { $0.trimmingCharacters(in: .whitespaces) }
            XCTAssertEqual(Array(row.prefix(2)), [fields[0], fields[24]], "kept columns of row \(i)")
            for k in 0..<2 {
                let p = try XCTUnwrap(Float(row[2 + k]), "row \(i): \(row)")
                XCTAssertEqual(p, expected[i][k], accuracy: 1e-6, "row \(i) output \(k)")
                XCTAssertTrue(p > 0 && p < 1)
            }
        }
        // --run: the best weights with the run's encoding.
        let bestScores = temporary.appendingPathComponent("best-scores.csv")
        let predictRun = try ranker(["predict", "--run", run.path, "--input", input.path, "--output", bestScores.path])
        XCTAssertEqual(predictRun.status, 0, predictRun.standardError)
        let bestModel = try ModelExport.loadModel(from: directory.bestURL)
        let expectedBest = predictions(bestModel, census, rows: Array(0..<50))
        let writtenBest = try readCSV(bestScores)
        XCTAssertEqual(writtenBest.header, ["income", "marital"])
        for (i, row) in writtenBest.rows.enumerated() {
            for k in 0..<2 { XCTAssertEqual(try XCTUnwrap(Float(row[k])), expectedBest[i][k], accuracy: 1e-6) }
        }
        // A bad value names its file, line and column, and no output file is left behind.
        var bad = lines
        bad[2] = "abc" + bad[2].drop { $0 != "," }
        let badInput = temporary.appendingPathComponent("bad.csv")
        try Data((bad.joined(separator: "\n") + "\n").utf8).write(to: badInput)
        let badScores = temporary.appendingPathComponent("bad-scores.csv")
        let failed = try ranker(["predict", "--run", run.path, "--input", badInput.path, "--output", badScores.path])
        XCTAssertNotEqual(failed.status, 0)
        XCTAssertTrue(failed.standardError.contains("\(badInput.path):3: column 1 (age): expected a number, found \"abc\""),
                      failed.standardError)
        XCTAssertFalse(FileManager.default.fileExists(atPath: badScores.path))

        // 5. report: regenerated from the telemetry.
        try FileManager.default.removeItem(at: directory.reportURL)
        let report = try ranker(["report", run.path])
        XCTAssertEqual(report.status, 0, report.standardError)
        XCTAssertTrue(report.standardOutput.contains("report: \(directory.reportURL.path)"), report.standardOutput)
        let html = String(decoding: try Data(contentsOf: directory.reportURL), as: UTF8.self)
        XCTAssertTrue(html.contains("<svg") && html.contains("cli-census"))
    }
}
