import Foundation
import XCTest
import RankerTestSupport

/// `ranker bench --ranks 2` (quick, W1 only): the 2-rank measurement runs
/// under mpirun beside 1 rank × 1 and × 2 threads, and `--json` carries
/// `ranks` in every workload entry, the scaling fields and rank 0's
/// collectives per step.
final class BenchRanksTests: TemporaryDirectoryTestCase {
    func testTwoRanksOnW1ReportRanksScalingAndCollectives() throws {
        _ = try MPIRun.require()
        let outcome = try BuiltExecutable(name: "ranker").run(
            ["bench", "--ranks", "2", "--threads", "1", "--workloads", "W1", "--quick", "--json"], temporary: temporary)
        XCTAssertEqual(outcome.status, 0, outcome.standardOutput + outcome.standardError)
        XCTAssertTrue(outcome.standardOutput.contains("Scaling (2 ranks × 1 thread"), outcome.standardOutput)
        let line = try XCTUnwrap(outcome.standardOutput.split(separator: "\n").last)
        let object = try XCTUnwrap(try JSONSerialization.jsonObject(with: Data(line.utf8)) as? [String: Any])
        XCTAssertEqual(object["ranks"] as? Int, 2)

        // 1 rank × 1 thread and (--ranks 2 adds it) 1 rank × 2 threads.
        let single = try XCTUnwrap(object["workloads_single_thread"] as? [[String: Any]])
        XCTAssertEqual(single.map { $0["ranks"] as? Int }, [1])
        let sgemmThreads = (object["sgemm"] as? [[String: Any]] ?? []).compactMap { $0["threads"] as? Int }
        XCTAssertEqual(Set(sgemmThreads), [1, 2])

        let ranked = try XCTUnwrap(object["workloads_ranks"] as? [[String: Any]])
        XCTAssertEqual(ranked.count, 1)
        let w1 = try XCTUnwrap(ranked.first)
        XCTAssertEqual(w1["name"] as? String, "W1")
        XCTAssertEqual(w1["ranks"] as? Int, 2)
        XCTAssertEqual(w1["threads"] as? Int, 1)
        XCTAssertEqual(w1["batch"] as? Int, 512, "the global batch, not a rank's slice")
        let rate = try XCTUnwrap(w1["samples_per_s"] as? Double)
        XCTAssertGreaterThan(rate, 0)
        let singleRate = try XCTUnwrap(single.first?["samples_per_s"] as? Double)
        let efficiency = try XCTUnwrap(w1["scaling_efficiency"] as? Double)
        XCTAssertEqual(efficiency, rate / singleRate / 2, accuracy: 0.01)
        XCTAssertNotNil(w1["speedup_over_threads"] as? Double)

        // Rank 0's collectives per step: one slab allreduce, and one exchange of the rows of all
        // 26 embedding tables (an allgather of the counts, an allgatherv of the ids, one of the rows).
        let exchange = try XCTUnwrap(w1["exchange"] as? [String: [String: Double]])
        XCTAssertEqual(exchange["allreduce f32"]?["calls_per_step"], 1)
        XCTAssertGreaterThan(exchange["allreduce f32"]?["bytes_per_step"] ?? 0, 100_000)
        for kind in ["allgather u64", "allgatherv i32", "allgatherv f32"] {
            XCTAssertEqual(exchange[kind]?["calls_per_step"], 1, kind)
        }
        // The flag goes round before every step and once more to stop: (steps + 1) / steps (at least 10 steps; JSON rounds to 0.1).
        let flags = try XCTUnwrap(exchange["continue flag"]?["calls_per_step"])
        XCTAssertTrue(flags >= 1 && flags <= 1.11, "continue flag calls per step \(flags)")
        let compute = try XCTUnwrap(w1["compute_ms_per_rank"] as? [Double])
        XCTAssertEqual(compute.count, 2)
        XCTAssertTrue(compute.allSatisfy { $0 > 0 }, "\(compute)")
    }
}
