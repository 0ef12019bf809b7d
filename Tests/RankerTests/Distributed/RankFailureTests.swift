import Foundation
import XCTest
import RankerTestSupport

/// A rank killed with SIGKILL in the middle of training: the other ranks stop
/// (Open MPI's runtime sees the lost process and ends the job) within a
/// bounded time, and mpirun says which rank died and how.
final class RankFailureTests: TemporaryDirectoryTestCase {
    /// Whether `pid` exists and is not a zombie (state `Z` in /proc/<pid>/stat).
    static func isRunning(_ pid: Int32) -> Bool {
        guard let stat = try? String(contentsOfFile: "/proc/\(pid)/stat", encoding: .utf8),
              let close = stat.lastIndex(of: ")") else { return false }
        return stat[stat.index(close, offsetBy: 2)] != "Z"
    }

    /// Starts `ranker train` (synthetic MMoE, 50 epochs) on 2 ranks under mpirun,
    /// its output into `output`, and returns once rank 0 has written `config.json`
    /// and trained for 3 s more, with the two rank pids (ascending).
    func startTwoRanks(progress: String, output: FileHandle, run: URL) throws -> (Process, [Int32]) {
        let mpirun = try MPIRun.require()
        let ranker = BuiltExecutable(name: "ranker")
        guard FileManager.default.isExecutableFile(atPath: ranker.url.path) else {
            throw XCTSkip("\(ranker.url.path) is not built; `make test` builds it")
        }
        let process = Process()
        process.executableURL = URL(fileURLWithPath: mpirun)
        process.arguments = MPIRun.launchArguments(ranks: 2) + [ranker.url.path,
                             "train", "--data", "synthetic", "--model", "mmoe", "--epochs", "50", "--batch-size", "64",
                             "--threads", "1", "--progress", progress, "--out", run.path]
        process.standardOutput = progress == "none" ? FileHandle.nullDevice : output
        process.standardError = output
        try process.run()
        let written = run.appendingPathComponent("config.json")
        let started = Date()
        while !FileManager.default.fileExists(atPath: written.path) && Date().timeIntervalSince(started) < 120 {
            Thread.sleep(forTimeInterval: 0.2)
        }
        XCTAssertTrue(FileManager.default.fileExists(atPath: written.path), "rank 0 never reached the trainer")
        Thread.sleep(forTimeInterval: 3)
        let ranks = ProcessTree.descendants(of: process.processIdentifier, named: "ranker")
        XCTAssertEqual(ranks.count, 2, "two ranker processes under mpirun")
        return (process, ranks)
    }

    func testKillingOneRankStopsTheWholeJobInBoundedTime() throws {
        let run = temporary.appendingPathComponent("run")
        let errURL = temporary.appendingPathComponent("stderr")
        _ = FileManager.default.createFile(atPath: errURL.path, contents: nil)
        let err = try FileHandle(forWritingTo: errURL)
        let (process, ranks) = try startTwoRanks(progress: "none", output: err, run: run)
        defer { if process.isRunning { process.terminate() } }
        let victim = try XCTUnwrap(ranks.last)
        let survivor = try XCTUnwrap(ranks.first)
        XCTAssertEqual(kill(victim, SIGKILL), 0)

        var started = Date()
        while process.isRunning && Date().timeIntervalSince(started) < 60 { Thread.sleep(forTimeInterval: 0.2) }
        let seconds = Date().timeIntervalSince(started)
        XCTAssertFalse(process.isRunning, "the job still runs 60 s after a rank was killed")
        guard !process.isRunning else { return }
        try err.close()
        let stderr = String(decoding: try Data(contentsOf: errURL), as: UTF8.self)
        print("mpirun ended \(String(format: "%.1f", seconds)) s after SIGKILL of rank pid \(victim), status \(process.terminationStatus)")
        XCTAssertNotEqual(process.terminationStatus, 0)
        XCTAssertTrue(stderr.contains("signal 9") || stderr.contains("Killed"), stderr)
        // The other rank ends too (gone, or a zombie waiting for a parent to reap it), within 10 s.
        started = Date()
        while Self.isRunning(survivor) && Date().timeIntervalSince(started) < 10 { Thread.sleep(forTimeInterval: 0.2) }
        XCTAssertFalse(Self.isRunning(survivor), "the other rank (pid \(survivor)) is still running")
    }

    /// Ctrl-C reaching one rank only: every rank stops after the same step
    /// (the flag is summed over ranks each step), rank 0 writes the
    /// checkpoint, and the job ends normally.
    func testInterruptOfOneRankStopsEveryRankAfterTheSameStep() throws {
        let run = temporary.appendingPathComponent("run")
        let outURL = temporary.appendingPathComponent("stdout")
        _ = FileManager.default.createFile(atPath: outURL.path, contents: nil)
        let out = try FileHandle(forWritingTo: outURL)
        let (process, ranks) = try startTwoRanks(progress: "lines", output: out, run: run)
        defer { if process.isRunning { process.terminate() } }
        XCTAssertEqual(kill(try XCTUnwrap(ranks.last), SIGINT), 0)
        let started = Date()
        while process.isRunning && Date().timeIntervalSince(started) < 60 { Thread.sleep(forTimeInterval: 0.2) }
        XCTAssertFalse(process.isRunning, "the job still runs 60 s after one rank got SIGINT")
        guard !process.isRunning else { return }
        try out.close()
        let output = String(decoding: try Data(contentsOf: outURL), as: UTF8.self)
        XCTAssertEqual(process.terminationStatus, 0, output)
        XCTAssertTrue(output.contains("interrupted: checkpoint written"), output)
        let checkpoint = run.appendingPathComponent("checkpoint.safetensors")
        XCTAssertTrue(FileManager.default.fileExists(atPath: checkpoint.path))
    }
}
