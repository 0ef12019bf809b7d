import Foundation
import XCTest
@testable import Ranker
import RankerTestSupport

/// `ranker train` on two "hosts" over TCP: 2 ranks in two network namespaces
/// joined by a veth pair (`NetworkNamespacePair`), `mpirun` started in the
/// first and reaching the second through a launcher agent, `--mca btl
/// tcp,self` (no shared memory between the ranks: every byte of the
/// exchange crosses the veth link). The model must be BITWISE the one of the
/// same job on 2 ranks over shared memory: with 2 ranks every reduced value
/// is `a + b`, one correctly rounded addition whatever algorithm or
/// transport carries it, the row all-gather is merged in rank order, and
/// both runs use the same binary with 1 BLAS thread.
final class TwoHostTCPTests: TemporaryDirectoryTestCase {
    var hosts: NetworkNamespacePair?

    override func tearDownWithError() throws {
        hosts?.remove()
        hosts = nil
        try super.tearDownWithError()
    }

    /// The MMoE / Adagrad job of `DataParallelTrainingTests` (4,000 synthetic
    /// rows, batch 200 split 100/100), 30 steps.
    func writeConfig() throws -> String {
        let text = """
            {"name": "tcp", "data": {"source": "synthetic", "synthetic": {"rows": 4000, "tasks": 3}},
             "model": {"model": "mmoe", "experts": 3, "expert_hidden": [32, 16], "tower_hidden": [8]},
             "optimizer": {"kind": "adagrad", "learning_rate": 0.05}, "balancer": {"weighting": {"method": "fixed"}},
             "training": {"epochs": 4, "batch_size": 200, "seed": 3, "threads": 1, "max_steps": 30},
             "output": {"telemetry_every_steps": 1, "report": false, "progress": "none"},
             "stability": {"policy": "stop"}}
            """
        let url = temporary.appendingPathComponent("config.json")
        try text.write(to: url, atomically: true, encoding: .utf8)
        return url.path
    }

    func modelTensors(_ dir: URL) throws -> [String: [UInt32]] {
        let checkpoint = try Checkpoint.read(from: dir.appendingPathComponent("checkpoint.safetensors"))
        var result: [String: [UInt32]] = [:]
        for (name, m) in checkpoint.tensors where name.hasPrefix(Checkpoint.Prefix.model) {
            result[name] = m.toArray().map(\.bitPattern)
        }
        return result
    }

    /// Per-step losses from `telemetry.jsonl`, as bit patterns.
    func stepLosses(_ dir: URL) throws -> [Int: [UInt64]] {
        let text = try String(contentsOf: dir.appendingPathComponent("telemetry.jsonl"), encoding: .utf8)
        var result: [Int: [UInt64]] = [:]
        for line in text.split(separator: "\n") {
            guard let object = try JSONSerialization.jsonObject(with: Data(line.utf8)) as? [String: Any],
                  object["type"] as? String == "step", let step = object["step"] as? Int,
                  let losses = object["losses"] as? [Double] else { continue }
            result[step] = losses.map(\.bitPattern)
        }
        return result
    }

    func testTwoRanksInTwoNetworkNamespacesOverTCPAreBitwiseTwoRanksOverSharedMemory() throws {
        let mpirun = try MPIRun.require()
        let ranker = BuiltExecutable(name: "ranker")
        guard FileManager.default.isExecutableFile(atPath: ranker.url.path) else {
            throw XCTSkip("\(ranker.url.path) is not built; `make test` builds it")
        }
        let pair = try NetworkNamespacePair(tag: "\(getpid())")
        hosts = pair
        let config = try writeConfig()
        let log = temporary.appendingPathComponent("launches.log")
        let launcher = try pair.writeLauncher(in: temporary, log: log)
        let hostfile = try pair.writeHostfile(in: temporary)

        let tcpRun = temporary.appendingPathComponent("tcp")
        let train = ["train", "--config", config, "--check-replicas-every", "1"]
        // timeout: a rank that cannot reach the other must fail the test, not hang it.
        let command = ["300", pair.ip, "netns", "exec", pair.namespaces[0],
                       mpirun, "--allow-run-as-root", "--bind-to", "none",
                       "--hostfile", hostfile.path, "-np", "2",
                       "--mca", "plm_rsh_agent", launcher.path,
                       "--mca", "btl", "tcp,self",
                       "--mca", "oob_tcp_if_include", pair.interfaces.joined(separator: ","),
                       "--mca", "btl_tcp_if_include", NetworkNamespacePair.subnet,
                       ranker.url.path] + train + ["--out", tcpRun.path]
        let tcp = try BuiltExecutable(name: "timeout", explicitURL: URL(fileURLWithPath: "/usr/bin/timeout"))
            .run(command, temporary: temporary)
        XCTAssertEqual(tcp.status, 0, "over TCP:\n\(tcp.standardOutput)\n\(tcp.standardError)")
        XCTAssertTrue(tcp.standardOutput.contains("data parallel: 2 ranks"), tcp.standardOutput)
        // mpirun started rank 0 itself (first namespace) and rank 1's daemon through the agent.
        let launches = (try? String(contentsOf: log, encoding: .utf8)) ?? ""
        XCTAssertEqual(launches.split(separator: "\n").map(String.init), [pair.namespaces[1]],
                       "one daemon launched, in the second namespace")

        let sharedRun = temporary.appendingPathComponent("shared")
        let shared = try MPIRun.ranker(ranks: 2, train + ["--out", sharedRun.path], temporary: temporary)
        XCTAssertEqual(shared.status, 0, "over shared memory:\n\(shared.standardOutput)\n\(shared.standardError)")

        let a = try modelTensors(tcpRun), b = try modelTensors(sharedRun)
        XCTAssertFalse(a.isEmpty)
        XCTAssertEqual(Set(a.keys), Set(b.keys))
        for (name, bits) in a { XCTAssertEqual(bits, b[name], "\(name): TCP and shared memory differ") }
        let la = try stepLosses(tcpRun), lb = try stepLosses(sharedRun)
        XCTAssertEqual(la.count, 30, "a telemetry line per step")
        XCTAssertEqual(la, lb, "per-step losses")
    }
}
