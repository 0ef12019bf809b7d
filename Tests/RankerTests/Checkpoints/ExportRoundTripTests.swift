import Foundation
import XCTest
@testable import Ranker
import RankerTestSupport

/// The weights-only export: its layout and metadata, the Swift reload, and
/// the round trip through `tools/export_predict.py` — an independent numpy
/// implementation of the forward equations (ALGORITHMS.md 3) that reads the
/// file with its own header parser and must reproduce Ranker's predictions.
final class ExportRoundTripTests: TemporaryDirectoryTestCase {
    static let repositoryRoot = URL(fileURLWithPath: #filePath)
        .deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent()
    static let script = repositoryRoot.appendingPathComponent("tools/export_predict.py")

    /// The model kinds and variants the Python script must reproduce.
    static func configurations() -> [(label: String, configuration: ModelConfiguration)] {
        var sharedBottom = ModelFixtures.configuration(.sharedBottom, tasks: 3)
        sharedBottom.tasks[2].kind = .regression
        var mmoeWithoutGateBias = ModelFixtures.configuration(.mmoe, tasks: 2)
        mmoeWithoutGateBias.gateBias = false
        mmoeWithoutGateBias.expertHidden = [5]
        func withBatchNorm(_ c: ModelConfiguration) -> ModelConfiguration {
            var c = c
            c.batchNorm = true
            c.gateBatchNorm = true
            c.dropout = 0.3
            return c
        }
        return [
            ("shared-bottom (with a regression task)", sharedBottom),
            ("mmoe", ModelFixtures.configuration(.mmoe, tasks: 2)),
            ("mmoe (one-layer experts, no gate bias)", mmoeWithoutGateBias),
            ("ple (2 levels)", ModelFixtures.configuration(.ple, tasks: 2, levels: 2, specific: 2, shared: 1)),
            ("ple (3 levels, no specific experts)", ModelFixtures.configuration(.ple, tasks: 3, levels: 3, specific: 0, shared: 2)),
            ("esmm", ModelFixtures.configuration(.esmm)),
            ("shared-bottom with BatchNorm", withBatchNorm(sharedBottom)),
            ("mmoe with BatchNorm (gates too)", withBatchNorm(ModelFixtures.configuration(.mmoe, tasks: 2))),
            ("mmoe with BatchNorm (one-layer experts)", withBatchNorm(mmoeWithoutGateBias)),
            ("ple with BatchNorm (2 levels)",
             withBatchNorm(ModelFixtures.configuration(.ple, tasks: 2, levels: 2, specific: 2, shared: 1))),
            ("ple with BatchNorm (3 levels)",
             withBatchNorm(ModelFixtures.configuration(.ple, tasks: 3, levels: 3, specific: 1, shared: 2))),
            ("esmm with BatchNorm", withBatchNorm(ModelFixtures.configuration(.esmm))),
        ]
    }

    /// A model of `c`; with BatchNorm, its gammas and betas moved off 1 and 0
    /// and its running statistics moved by three training passes, so that the
    /// exported state matters.
    static func model(_ c: ModelConfiguration) throws -> MultiTaskModel {
        let model = try ModelFixtures.model(c)
        guard !model.stateTensors.isEmpty else { return model }
        var rng = RandomGenerator(seed: 41)
        for p in model.parameters where p.name.contains(".bn.") {
            let center: Double = p.name.hasSuffix(".gamma") ? 1 : 0
            for i in 0..<p.count { p.value.data[i] = Float(center + 0.3 * rng.normal()) }
        }
        for seed in 0..<3 {
            let batch = ModelFixtures.batch(for: c, size: 8, seed: UInt64(50 + seed))
            _ = model.forward(batch, mode: ModelFixtures.mode(trainingSeed: UInt64(seed)))
        }
        return model
    }

    /// Swift's predictions (`forward` + `predict`) for `batch`.
    func swiftPredictions(_ model: MultiTaskModel, _ batch: Batch) -> [[Float]] {
        let logits = model.forward(batch)
        let output = Matrix(rows: batch.size, cols: model.outputNames.count)
        model.predict(logits: logits, into: output.view)
        return output.toNestedArray()
    }

    /// The batch as the script's input JSON.
    func inputJSON(_ batch: Batch) throws -> Data {
        let rows: [[String: Any]] = (0..<batch.size).map { e in
            ["ids": (0..<batch.fieldCount).map { Int(batch.id(example: e, field: $0)) },
             "dense": (0..<batch.denseCount).map { Double(batch.dense[e, $0]) }]
        }
        return try JSONSerialization.data(withJSONObject: ["rows": rows])
    }

    // MARK: layout

    func testExportHoldsParametersByNameWithTheModelDescription() throws {
        let c = ModelFixtures.configuration(.mmoe, tasks: 2)
        let model = try ModelFixtures.model(c)
        let url = file("model.safetensors")
        try ModelExport.write(model, to: url, metadata: ["trained_on": "synthetic"])

        let reader = try SafeTensorsReader(url: url)
        XCTAssertEqual(reader.tensorNames, model.parameters.map(\.name).sorted(), "no prefix")
        for p in model.parameters {
            let entry = try XCTUnwrap(reader.header.entry(named: p.name))
            XCTAssertEqual(entry.shape, [p.rows, p.cols], p.name)
            XCTAssertEqual(bitPatterns(try reader.readMatrix(named: p.name)), bitPatterns(p.value), p.name)
        }
        // The documented layout on concrete tensors: W is in × out, b is 1 × out, tables vocabulary × dimension.
        XCTAssertEqual(reader.header.entry(named: "embedding.item")?.shape, [5, 4])
        XCTAssertEqual(reader.header.entry(named: "experts.0.W")?.shape, [c.inputSize, 3 * 5], "concatenated first layers")
        XCTAssertEqual(reader.header.entry(named: "experts.2.0.W")?.shape, [5, 4])
        XCTAssertEqual(reader.header.entry(named: "gate.task1.b")?.shape, [1, 3])
        XCTAssertEqual(reader.header.entry(named: "tower.task0.1.W")?.shape, [3, 1])

        let m = reader.metadata
        XCTAssertEqual(m["format"], "ranker-export/1")
        XCTAssertEqual(m["ranker_version"], RankerVersion.string)
        XCTAssertEqual(m["tasks"], #"["task0","task1"]"#)
        XCTAssertEqual(m["outputs"], #"["task0","task1"]"#)
        XCTAssertEqual(m["trained_on"], "synthetic")
        XCTAssertEqual(m["layout"], ModelExport.layoutDescription)
        XCTAssertEqual(try ModelExport.configuration(of: reader), c)
        let configurationJSON = try XCTUnwrap(JSONSerialization.jsonObject(with: Data(m["model_config"]!.utf8)) as? [String: Any])
        XCTAssertEqual(configurationJSON["model"] as? String, "mmoe")
        XCTAssertEqual(configurationJSON["expert_hidden"] as? [Int], [5, 4], "snake_case keys")

        let esmm = try ModelFixtures.model(ModelFixtures.configuration(.esmm))
        try ModelExport.write(esmm, to: url)
        XCTAssertEqual(try SafeTensorsReader(url: url).metadata["outputs"], #"["ctr","cvr","ctcvr"]"#)
    }

    func testBatchNormStateIsExportedByName() throws {
        var c = ModelFixtures.configuration(.mmoe, tasks: 2)
        c.batchNorm = true
        c.gateBatchNorm = true
        let model = try Self.model(c)
        let url = file("model.safetensors")
        try ModelExport.write(model, to: url)
        let reader = try SafeTensorsReader(url: url)
        XCTAssertEqual(reader.tensorNames, (model.parameters.map(\.name) + model.stateTensors.map(\.name)).sorted())
        for name in ["experts.0.bn.running_mean", "experts.0.bn.running_var", "experts.0.bn.gamma"] {
            XCTAssertEqual(reader.header.entry(named: name)?.shape, [1, 3 * 5], name)
        }
        for name in ["experts.1.0.bn.running_var", "tower.task0.0.bn.running_mean", "gate.task1.bn.running_var"] {
            XCTAssertNotNil(reader.header.entry(named: name), name)
        }
        XCTAssertNil(reader.header.entry(named: "tower.task0.1.bn.gamma"), "the output layer has no BatchNorm")
        for s in model.stateTensors {
            XCTAssertEqual(bitPatterns(try reader.readMatrix(named: s.name)), bitPatterns(s.value), s.name)
        }
        let configurationJSON = try XCTUnwrap(
            JSONSerialization.jsonObject(with: Data(reader.metadata["model_config"]!.utf8)) as? [String: Any])
        XCTAssertEqual(configurationJSON["batch_norm"] as? Bool, true)
        XCTAssertEqual(configurationJSON["gate_batch_norm"] as? Bool, true)
    }

    func testLoadModelReproducesThePredictionsExactly() throws {
        for (label, c) in Self.configurations() {
            let model = try Self.model(c)
            let url = file("model.safetensors")
            try ModelExport.write(model, to: url)
            let loaded = try ModelExport.loadModel(from: url)
            XCTAssertEqual(loaded.configuration, c, label)
            let batch = ModelFixtures.batch(for: c, size: 5, seed: 3)
            let expected = swiftPredictions(model, batch).map { $0.map(\.bitPattern) }
            XCTAssertEqual(swiftPredictions(loaded, batch).map { $0.map(\.bitPattern) }, expected, label)
        }
    }

    func testLoadModelValidatesTheTensors() throws {
        let c = ModelFixtures.configuration(.sharedBottom, tasks: 2)
        let model = try ModelFixtures.model(c)
        let url = file("model.safetensors")
        func export(_ parameters: [Parameter]) throws {
            try ModelExport.write(parameters: parameters, configuration: c, outputNames: model.outputNames, to: url)
        }
        try export(model.parameters.filter { $0.name != "bottom.1.b" })
        XCTAssertThrowsError(try ModelExport.loadModel(from: url)) {
            XCTAssertEqual($0 as? CheckpointError, .missingTensor(name: "bottom.1.b"))
        }
        try export(model.parameters + [Parameter(name: "tower.task9.0.W", rows: 1, cols: 1, group: .shared)])
        XCTAssertThrowsError(try ModelExport.loadModel(from: url)) {
            XCTAssertEqual($0 as? CheckpointError, .unexpectedTensor(name: "tower.task9.0.W"))
        }
        try export(model.parameters.filter { $0.name != "bottom.0.W" }
                   + [Parameter(name: "bottom.0.W", rows: 2, cols: 2, group: .shared)])
        XCTAssertThrowsError(try ModelExport.loadModel(from: url)) {
            XCTAssertEqual($0 as? CheckpointError, .shapeMismatch(name: "bottom.0.W", expected: [c.inputSize, 6], found: [2, 2]))
        }
    }

    // MARK: the Python round trip

    /// Runs `python3 arguments…`; returns the exit status, stdout and stderr.
    func runPython(_ arguments: [String]) throws -> (status: Int32, output: Data, errors: String) {
        let process = Process()
        process.executableURL = URL(fileURLWithPath: "/usr/bin/env")
        process.arguments = ["python3"] + arguments
        let errorsURL = file("stderr.txt")
        _ = FileManager.default.createFile(atPath: errorsURL.path, contents: nil)
        let errors = try FileHandle(forWritingTo: errorsURL)
        let output = Pipe()
        process.standardOutput = output
        process.standardError = errors
        try process.run()
        let data = output.fileHandleForReading.readDataToEndOfFile()
        process.waitUntilExit()
        try errors.close()
        return (process.terminationStatus, data, (try? String(contentsOf: errorsURL, encoding: .utf8)) ?? "")
    }

    func requireNumpy() throws {
        let check: (status: Int32, output: Data, errors: String)
        do {
            check = try runPython(["-c", "import numpy"])
        } catch {
            throw XCTSkip("export round trip skipped: cannot run python3 (\(error))")
        }
        if check.status != 0 {
            throw XCTSkip("export round trip skipped: python3 with numpy is not available "
                          + "(python3 -c 'import numpy' exited \(check.status): \(check.errors.suffix(200)))")
        }
    }

    func testPythonReproducesThePredictionsOfEveryModelKind() throws {
        try requireNumpy()
        XCTAssertTrue(FileManager.default.fileExists(atPath: Self.script.path), Self.script.path)
        for (label, c) in Self.configurations() {
            let model = try Self.model(c)
            let modelURL = file("model.safetensors")
            try ModelExport.write(model, to: modelURL)
            let batch = ModelFixtures.batch(for: c, size: 7, seed: 21)
            let inputURL = file("rows.json")
            try inputJSON(batch).write(to: inputURL)

            let run = try runPython([Self.script.path, modelURL.path, inputURL.path])
            XCTAssertEqual(run.status, 0, "\(label): \(run.errors)")
            guard run.status == 0 else { continue }
            let result = try XCTUnwrap(JSONSerialization.jsonObject(with: run.output) as? [String: Any], label)
            XCTAssertEqual(result["outputs"] as? [String], model.outputNames, label)
            let python = try XCTUnwrap(result["predictions"] as? [[Double]], label)
            let swift = swiftPredictions(model, batch)
            XCTAssertEqual(python.count, swift.count, label)
            var spread: (Double, Double) = (.infinity, -.infinity)
            for (b, (p, s)) in zip(python, swift).enumerated() {
                XCTAssertEqual(p.count, s.count, label)
                for (j, (x, y)) in zip(p, s).enumerated() {
                    XCTAssertEqual(x, Double(y), accuracy: 1e-5, "\(label): row \(b), output \(model.outputNames[j])")
                    spread = (min(spread.0, x), max(spread.1, x))
                }
            }
            XCTAssertGreaterThan(spread.1 - spread.0, 0.02, "\(label): predictions vary across rows (a meaningful check)")
        }
    }

    func testPythonScriptRejectsBadInputWithAMessage() throws {
        try requireNumpy()
        let c = ModelFixtures.configuration(.mmoe, tasks: 2)
        let modelURL = file("model.safetensors")
        try ModelExport.write(try ModelFixtures.model(c), to: modelURL)
        let inputURL = file("rows.json")
        try Data(#"{"rows": [{"ids": [0, 99, 0], "dense": [0, 0]}]}"#.utf8).write(to: inputURL)
        let run = try runPython([Self.script.path, modelURL.path, inputURL.path])
        XCTAssertEqual(run.status, 2)
        XCTAssertTrue(run.errors.contains("id 99 outside field item"), run.errors)
    }
}
