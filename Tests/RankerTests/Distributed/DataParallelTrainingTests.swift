import Foundation
import XCTest
@testable import Ranker
import RankerTestSupport

/// `ranker train` under `mpirun -np N` against one process with the same
/// global batch: the same model within float rounding (the sums over ranks
/// add the same terms in another order), per-step losses within 1e-4, `-np 1`
/// bitwise the single process, the replicas bitwise identical to each other
/// (checked by the trainer's own checksum every step), and a checkpoint
/// written by 2 ranks resuming on 1 and on 3.
final class DataParallelTrainingTests: TemporaryDirectoryTestCase {
    /// A small synthetic job (4,000 rows, 3 tasks; batch 200, so a global
    /// batch splits 100/100 on 2 ranks and 67/67/66 on 3): 50 steps, a
    /// telemetry line every step.
    func writeConfig(model: String, optimizer: String, balancer: String) throws -> String {
        let text = """
            {"name": "dp", "data": {"source": "synthetic", "synthetic": {"rows": 4000, "tasks": 3}},
             "model": \(model), "optimizer": \(optimizer), "balancer": \(balancer),
             "training": {"epochs": 4, "batch_size": 200, "seed": 3, "threads": 1, "max_steps": 50},
             "output": {"telemetry_every_steps": 1, "report": false, "progress": "none"},
             "stability": {"policy": "stop"}}
            """
        let url = temporary.appendingPathComponent("config-\(UUID().uuidString).json")
        try text.write(to: url, atomically: true, encoding: .utf8)
        return url.path
    }

    static let mmoeAdagrad = (model: #"{"model": "mmoe", "experts": 3, "expert_hidden": [32, 16], "tower_hidden": [8]}"#,
                              optimizer: #"{"kind": "adagrad", "learning_rate": 0.05}"#,
                              balancer: #"{"weighting": {"method": "fixed"}}"#)
    static let pleClippyGradCraft = (model: #"{"model": "ple", "levels": 1, "specific_experts": 1, "shared_experts": 2, "expert_hidden": [16], "tower_hidden": [8]}"#,
                                     optimizer: #"{"kind": "clippy", "learning_rate": 0.05}"#,
                                     balancer: #"{"combination": {"method": "gradcraft"}}"#)
    static let sharedBottomBatchNorm = (model: #"{"model": "shared_bottom", "bottom_hidden": [32, 16], "tower_hidden": [8], "batch_norm": true}"#,
                                        optimizer: #"{"kind": "adagrad", "learning_rate": 0.05}"#,
                                        balancer: #"{"weighting": {"method": "dwa"}}"#)

    /// Trains `config` in one process (`ranks == nil`) or under mpirun; returns the run directory.
    func train(_ config: String, ranks: Int?, extra: [String] = []) throws -> URL {
        let dir = temporary.appendingPathComponent("run-\(UUID().uuidString)")
        let arguments = ["train", "--config", config, "--out", dir.path, "--check-replicas-every", "1"] + extra
        let outcome = try ranks.map { try MPIRun.ranker(ranks: $0, arguments, temporary: temporary) }
            ?? BuiltExecutable(name: "ranker").run(arguments, temporary: temporary)
        XCTAssertEqual(outcome.status, 0, "ranks \(ranks.map(String.init) ?? "none"):\n\(outcome.standardOutput)\n\(outcome.standardError)")
        return dir
    }

    /// The model tensors of a run's checkpoint.
    func modelTensors(_ dir: URL) throws -> [String: [Float]] {
        let checkpoint = try Checkpoint.read(from: dir.appendingPathComponent("checkpoint.safetensors"))
        var result: [String: [Float]] = [:]
        for (name, m) in checkpoint.tensors where name.hasPrefix(Checkpoint.Prefix.model) { result[name] = m.toArray() }
        return result
    }

    /// Per-step losses from `telemetry.jsonl`.
    func stepLosses(_ dir: URL) throws -> [Int: [Double]] {
        let text = try String(contentsOf: dir.appendingPathComponent("telemetry.jsonl"), encoding: .utf8)
        var result: [Int: [Double]] = [:]
        for line in text.split(separator: "\n") {
            guard let object = try JSONSerialization.jsonObject(with: Data(line.utf8)) as? [String: Any],
                  object["type"] as? String == "step", let step = object["step"] as? Int,
                  let losses = object["losses"] as? [Double] else { continue }
            result[step] = losses
        }
        return result
    }

    /// Largest `max|a − b| / max(max|b|, 1e-3)` over the tensors, and the
    /// largest per-step loss difference. The floor compares tensors whose
    /// values all stay below 1e-3 absolutely: a bias just before a BatchNorm
    /// has a zero gradient up to rounding, so its values are rounding noise
    /// near 1e-9 whose relative difference means nothing.
    func compare(_ a: URL, _ b: URL, file: StaticString = #filePath, line: UInt = #line) throws -> (parameters: Double, losses: Double) {
        let ta = try modelTensors(a), tb = try modelTensors(b)
        XCTAssertEqual(Set(ta.keys), Set(tb.keys), file: file, line: line)
        XCTAssertFalse(ta.isEmpty, file: file, line: line)
        var worst = 0.0
        for (name, x) in ta {
            let y = try XCTUnwrap(tb[name])
            XCTAssertEqual(x.count, y.count, name, file: file, line: line)
            let scale = max(y.map { abs(Double($0)) }.max() ?? 0, 1e-3)
            let difference = zip(x, y).map { abs(Double($0) - Double($1)) }.max() ?? 0
            worst = max(worst, difference / scale)
        }
        let la = try stepLosses(a), lb = try stepLosses(b)
        XCTAssertEqual(la.count, 50, "a telemetry line per step", file: file, line: line)
        XCTAssertEqual(Set(la.keys), Set(lb.keys), file: file, line: line)
        var lossWorst = 0.0
        for (step, x) in la {
            let y = try XCTUnwrap(lb[step])
            for (u, v) in zip(x, y) { lossWorst = max(lossWorst, abs(u - v)) }
        }
        return (worst, lossWorst)
    }

    /// Runs the job on 1 process and on each of `ranks` and checks the bounds.
    func checkAgainstOneProcess(_ job: (model: String, optimizer: String, balancer: String), ranks: [Int],
                                file: StaticString = #filePath, line: UInt = #line) throws {
        let config = try writeConfig(model: job.model, optimizer: job.optimizer, balancer: job.balancer)
        let single = try train(config, ranks: nil)
        for n in ranks {
            let parallel = try train(config, ranks: n)
            let (parameters, losses) = try compare(parallel, single, file: file, line: line)
            print("np \(n) vs one process after 50 steps: max relative parameter difference \(parameters), "
                  + "max loss difference \(losses)")
            XCTAssertLessThanOrEqual(parameters, 1e-4, "np \(n): parameters", file: file, line: line)
            XCTAssertLessThanOrEqual(losses, 1e-4, "np \(n): losses", file: file, line: line)
        }
    }

    func testOneRankUnderMPIRunIsBitwiseTheSingleProcess() throws {
        _ = try MPIRun.require()
        let job = Self.mmoeAdagrad
        let config = try writeConfig(model: job.model, optimizer: job.optimizer, balancer: job.balancer)
        let single = try train(config, ranks: nil)
        let one = try train(config, ranks: 1)
        let a = try modelTensors(single), b = try modelTensors(one)
        XCTAssertFalse(a.isEmpty)
        for (name, x) in a {
            XCTAssertEqual(x.map(\.bitPattern), b[name]?.map(\.bitPattern), name)
        }
        XCTAssertEqual(try stepLosses(single).mapValues { $0.map(\.bitPattern) },
                       try stepLosses(one).mapValues { $0.map(\.bitPattern) })
    }

    func testMMoEAdagradOnTwoAndThreeRanksMatchesOneProcess() throws {
        try checkAgainstOneProcess(Self.mmoeAdagrad, ranks: [2, 3])
    }

    func testPLEClippyGradCraftOnTwoAndThreeRanksMatchesOneProcess() throws {
        try checkAgainstOneProcess(Self.pleClippyGradCraft, ranks: [2, 3])
    }

    func testBatchNormModelOnTwoAndThreeRanksMatchesOneProcess() throws {
        try checkAgainstOneProcess(Self.sharedBottomBatchNorm, ranks: [2, 3])
    }

    func testCheckpointOfTwoRanksResumesOnOneAndOnThree() throws {
        let job = Self.mmoeAdagrad
        let config = try writeConfig(model: job.model, optimizer: job.optimizer, balancer: job.balancer)
        let straight = try train(config, ranks: nil)
        let dir = try train(config, ranks: 2, extra: ["--interrupt-after", "20"])
        XCTAssertEqual(try stepLosses(dir).count, 20)
        let onThree = temporary.appendingPathComponent("resumed-on-3")
        try FileManager.default.copyItem(at: dir, to: onThree)
        let outcome = try BuiltExecutable(name: "ranker").run(["train", "--resume", dir.path], temporary: temporary)
        XCTAssertEqual(outcome.status, 0, outcome.standardOutput + outcome.standardError)
        let three = try MPIRun.ranker(ranks: 3, ["train", "--resume", onThree.path, "--check-replicas-every", "1"],
                                      temporary: temporary)
        XCTAssertEqual(three.status, 0, three.standardOutput + three.standardError)
        for (resumed, how) in [(dir, "1 process"), (onThree, "3 ranks")] {
            XCTAssertEqual(try stepLosses(resumed).count, 50, how)
            let (parameters, losses) = try compare(resumed, straight)
            print("2 ranks for 20 steps, then \(how) to 50, vs one process: max relative parameter difference "
                  + "\(parameters), max loss difference \(losses)")
            XCTAssertLessThanOrEqual(parameters, 1e-4, how)
            XCTAssertLessThanOrEqual(losses, 1e-4, how)
        }
    }

    func testRanksFlagRelaunchesUnderMPIRun() throws {
        _ = try MPIRun.require()
        let job = Self.mmoeAdagrad
        let config = try writeConfig(model: job.model, optimizer: job.optimizer, balancer: job.balancer)
        let viaFlag = try train(config, ranks: nil, extra: ["--ranks", "2"])
        let viaMPIRun = try train(config, ranks: 2)
        let a = try modelTensors(viaFlag), b = try modelTensors(viaMPIRun)
        XCTAssertFalse(a.isEmpty)
        for (name, x) in a { XCTAssertEqual(x.map(\.bitPattern), b[name]?.map(\.bitPattern), name) }
    }

    /// The reference path: the same job trained by 2 replicas as threads of
    /// this process (`ThreadedReplicaGroup`, sums in rank order) is bitwise
    /// the `mpirun -np 2` run (a sum of two floats does not depend on its order).
    func testTwoThreadReplicasAreBitwiseTwoMPIRanks() throws {
        let job = Self.mmoeAdagrad
        let config = try writeConfig(model: job.model, optimizer: job.optimizer, balancer: job.balancer)
        let viaMPI = try train(config, ranks: 2)
        var configuration = try RunConfiguration.load(path: config)
        configuration.output.progress = .silent
        let dataset = try RunData.load(configuration.data)
        let threaded = temporary.appendingPathComponent("threaded")
        try ThreadedReplicaGroup(size: 2).train(configuration, dataset: dataset, runDirectory: threaded)
        let a = try modelTensors(threaded), b = try modelTensors(viaMPI)
        XCTAssertFalse(a.isEmpty)
        for (name, x) in a { XCTAssertEqual(x.map(\.bitPattern), b[name]?.map(\.bitPattern), name) }
        XCTAssertEqual(try stepLosses(threaded).mapValues { $0.map(\.bitPattern) },
                       try stepLosses(viaMPI).mapValues { $0.map(\.bitPattern) })
    }
}
