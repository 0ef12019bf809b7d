import Foundation
import XCTest
import RankerTestSupport

/// The fault-injection scripts of `faults/` (issue 14) with small counts, so
/// that `make test` and CI run them like every other test; `make faults`
/// runs them with the full counts. Each script drives `.build/release/ranker`
/// (the test skips when it is not built), prints one summary line and exits
/// 0 only when every count that must be 0 is 0.
final class FaultScriptTests: RunDirectoryTestCase {
    let ranker = BuiltExecutable(name: "ranker")

    /// Runs `faults/<name>` with `python3` in a fresh work directory and
    /// returns its exit status and its output (standard output, then error).
    func script(_ name: String, _ arguments: [String]) throws -> (status: Int32, output: String) {
        guard FileManager.default.isExecutableFile(atPath: ranker.url.path) else {
            throw XCTSkip("\(ranker.url.path) is not built")
        }
        let work = temporaryDirectory(name)
        try FileManager.default.createDirectory(at: work, withIntermediateDirectories: true)
        let log = work.appendingPathComponent("output.txt")
        _ = FileManager.default.createFile(atPath: log.path, contents: nil)
        let handle = try FileHandle(forWritingTo: log)
        let process = Process()
        process.executableURL = URL(fileURLWithPath: "/usr/bin/env")
        let path = BuiltExecutable.repositoryRoot.appendingPathComponent("faults/\(name)").path
        process.arguments = ["python3", path, "--ranker", ranker.url.path, "--workdir", work.path] + arguments
        process.standardOutput = handle
        process.standardError = handle
        try process.run()
        process.waitUntilExit()
        try handle.close()
        let output = String(decoding: try Data(contentsOf: log), as: UTF8.self)
        print(output.split(separator: "\n").last { $0.contains("=") } ?? "")
        return (process.terminationStatus, output)
    }

    func expectSuccess(_ result: (status: Int32, output: String), summary: String,
                       file: StaticString = #filePath, line: UInt = #line) {
        XCTAssertEqual(result.status, 0, result.output, file: file, line: line)
        XCTAssertTrue(result.output.contains(summary + ":"), result.output, file: file, line: line)
    }

    /// Five SIGKILLs at random moments of a checkpointing run; every resume
    /// succeeds, no checkpoint is torn, the final tensors and telemetry equal
    /// the uninterrupted run's.
    func testKillNineDuringCheckpointing() throws {
        expectSuccess(try script("kill_resume.py", ["--kills", "5", "--rows", "12000"]), summary: "kill_resume")
    }

    /// A full disk at three sizes: a clear ENOSPC error, the checkpoint
    /// whole, and the run resumed on a bigger disk to the uninterrupted end.
    /// Skipped only where mounting a tmpfs is not permitted and CI is not
    /// set; under CI a failed mount fails the test.
    func testDiskFull() throws {
        let result = try script("disk_full.py", ["--sizes", "3", "--rows", "4000"])
        if result.status == 77 {
            if ProcessInfo.processInfo.environment["CI"] != nil {
                return XCTFail("CI is set and a tmpfs cannot be mounted: \(result.output)")
            }
            throw XCTSkip("mounting a tmpfs is not permitted here: \(result.output)")
        }
        expectSuccess(result, summary: "disk_full")
    }

    /// Truncations, header edits and bit flips of both state files are
    /// refused by resume and eval, naming the file (and the tensor).
    func testCorruptedStateFilesAreRefused() throws {
        expectSuccess(try script("corrupt.py", ["--flips", "3"]), summary: "corrupt")
    }

    /// NaN and infinities in a CSV row are refused naming `file:line`.
    func testNonFiniteInputRowsAreRefused() throws {
        expectSuccess(try script("nan_input.py", []), summary: "nan_input")
    }

    /// NaN, +inf and -inf written into a dense input, each task's loss and
    /// two gradients at one step (`ranker-fault-inject`): caught at that step
    /// under stop, skip and rollback; stop and skip change no tensor.
    /// (`make faults` injects all three values; here NaN only.)
    func testNonFiniteValuesInsideAStepAreCaughtAtTheirStep() throws {
        let injector = BuiltExecutable(name: "ranker-fault-inject")
        guard FileManager.default.isExecutableFile(atPath: injector.url.path) else {
            throw XCTSkip("\(injector.url.path) is not built; `make test` builds it")
        }
        expectSuccess(try script("nan_step.py", ["--values", "nan"]), summary: "nan_step")
    }

    /// One SIGKILL of a random rank of a 2-rank run: the job ends, no
    /// process is left, the checkpoint is whole and the resumed run ends
    /// as the uninterrupted one. (`make faults`: 10 kills.) Skipped only
    /// without mpirun and CI unset; under CI a missing mpirun fails.
    func testKillNineOfOneMPIRank() throws {
        let result = try script("kill_rank.py", ["--kills", "1", "--rows", "12000"])
        if result.status == 77 {
            if ProcessInfo.processInfo.environment["CI"] != nil {
                return XCTFail("CI is set and mpirun is missing: \(result.output)")
            }
            throw XCTSkip("mpirun is missing: \(result.output)")
        }
        expectSuccess(result, summary: "kill_rank")
    }
}
