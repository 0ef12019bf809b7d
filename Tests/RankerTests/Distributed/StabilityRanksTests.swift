import Foundation
import XCTest
import RankerTestSupport

/// `stability --ranks 2`: the trials shared out over two MPI ranks give the
/// sequential sweep's output (every trial is deterministic given its seed),
/// and the ways it can fail end the run with a clear message instead of a
/// hang: `--ranks 0`, no mpirun, a trial that throws, a rank that crashes.
final class StabilityRanksTests: TemporaryDirectoryTestCase {
    /// One setting, 2 methods, 2 multipliers, 1 seed (`StabilityCommandTests.tinyExperiment`).
    func writeTinyExperiment() throws -> URL {
        let config = temporary.appendingPathComponent("tiny.json")
        try StabilityCommandTests.tinyExperiment.write(to: config, atomically: true, encoding: .utf8)
        return config
    }

    /// The output with what may differ between two runs taken out: each run's
    /// seconds, the wall time, the output paths, the line saying how many ranks.
    static func comparable(_ output: String) -> [String] {
        output.split(separator: "\n", omittingEmptySubsequences: false).map(String.init).compactMap { line in
            if line.hasPrefix("  trials on ") || line.hasPrefix("wall time ") || line.hasPrefix("seconds in trials per rank")
                || line.hasPrefix("figures: ") || line.hasPrefix("report of one Clippy run near its edge: ") {
                return nil
            }
            if let seconds = line.range(of: #", [0-9.]+ s$"#, options: .regularExpression) {
                return String(line[..<seconds.lowerBound])
            }
            return line
        }
    }

    /// stability.html without its wall-time note.
    static func comparableHTML(_ url: URL) throws -> String {
        try String(contentsOf: url, encoding: .utf8)
            .replacingOccurrences(of: #"wall time [0-9]+ s"#, with: "wall time", options: .regularExpression)
    }

    func testTwoRanksPrintTheSequentialSweepsTablesClaimsAndJSON() throws {
        _ = try MPIRun.require()
        let config = try writeTinyExperiment()
        let stability = BuiltExecutable(name: "stability")
        let outOne = temporary.appendingPathComponent("one"), outTwo = temporary.appendingPathComponent("two")
        let one = try stability.run(["--full", "--config", config.path, "--out", outOne.path], temporary: temporary)
        XCTAssertEqual(one.status, 0, one.standardError)
        let two = try stability.run(["--full", "--config", config.path, "--out", outTwo.path, "--ranks", "2"],
                                    temporary: temporary)
        XCTAssertEqual(two.status, 0, two.standardError)
        XCTAssertTrue(two.standardOutput.contains("trials on 2 ranks"), two.standardOutput)
        XCTAssertTrue(two.standardOutput.contains("seconds in trials per rank: "), two.standardOutput)

        let lastOne = try XCTUnwrap(one.standardOutput.split(separator: "\n").last)
        let lastTwo = try XCTUnwrap(two.standardOutput.split(separator: "\n").last)
        XCTAssertTrue(lastOne.hasPrefix("{\"full\":true,\"settings\":"), String(lastOne))
        XCTAssertEqual(lastTwo, lastOne, "the final JSON line")

        let linesOne = Self.comparable(one.standardOutput), linesTwo = Self.comparable(two.standardOutput)
        // The four runs in the sequential order, then the table and the claims.
        XCTAssertEqual(linesOne.filter { $0.hasPrefix("synthetic ") && $0.contains(" seed 1 ") }.count, 4)
        XCTAssertTrue(linesOne.contains { $0.hasPrefix("adagrad ") }, "the table has an adagrad row")
        XCTAssertEqual(linesTwo, linesOne)

        XCTAssertEqual(try Self.comparableHTML(outTwo.appendingPathComponent("stability.html")),
                       try Self.comparableHTML(outOne.appendingPathComponent("stability.html")))
        let reports = { (dir: URL) in
            try FileManager.default.contentsOfDirectory(atPath: dir.path).filter { $0.hasPrefix("report-") }.sorted()
        }
        XCTAssertEqual(try reports(outTwo), try reports(outOne))
        XCTAssertEqual(try reports(outOne).count, 1)
    }

    func testZeroRanksIsRejected() throws {
        let run = try BuiltExecutable(name: "stability").run(["--ranks", "0", "--config", try writeTinyExperiment().path],
                                                             temporary: temporary)
        XCTAssertNotEqual(run.status, 0)
        XCTAssertTrue(run.standardError.contains("--ranks must be at least 1, got 0"), run.standardError)
        XCTAssertEqual(run.standardOutput, "", "nothing runs")
    }

    func testRanksWithoutMpirunSaysSo() throws {
        let run = try BuiltExecutable(name: "stability").run(
            ["--full", "--ranks", "2", "--config", try writeTinyExperiment().path, "--out", temporary.path],
            environment: ["PATH": temporary.path], temporary: temporary)
        XCTAssertEqual(run.status, 2)
        XCTAssertTrue(run.standardError.contains("--ranks 2 needs mpirun (Open MPI) on the PATH"), run.standardError)
        XCTAssertEqual(run.standardOutput, "", "nothing runs")
    }

    /// Trial 1 (`synthetic-adagrad-x2-s1`, rank 1's first) cannot create its run directory: a file is in the way.
    func testATrialThatFailsOnOneRankStopsTheJobNamingTheTrial() throws {
        _ = try MPIRun.require()
        let runs = temporary.appendingPathComponent("runs")
        try FileManager.default.createDirectory(at: runs, withIntermediateDirectories: true)
        try Data("in the way\n".utf8).write(to: runs.appendingPathComponent("synthetic-adagrad-x2-s1"))
        let run = try BuiltExecutable(name: "stability").run(
            ["--full", "--ranks", "2", "--config", try writeTinyExperiment().path, "--out", temporary.path,
             "--runs", runs.path], temporary: temporary)
        XCTAssertNotEqual(run.status, 0)
        XCTAssertTrue(run.standardError.contains("stability: rank 1: trial synthetic-adagrad-x2-s1 failed: "), run.standardError)
        XCTAssertTrue(run.standardError.contains("exists and is not a directory"), run.standardError)
        XCTAssertFalse(run.standardOutput.contains("{\"full\""), "no JSON line from a failed sweep")
    }

    /// A rank that dies of a fatal signal in the middle of the sweep (SIGSEGV sent from here): mpirun ends the
    /// job, and the rank's last words name the trial it was in.
    func testARankThatCrashesEndsTheJobNamingItsTrial() throws {
        let mpirun = try MPIRun.require()
        let stability = BuiltExecutable(name: "stability")
        guard FileManager.default.isExecutableFile(atPath: stability.url.path) else {
            throw XCTSkip("\(stability.url.path) is not built; `make test` builds it")
        }
        let runs = temporary.appendingPathComponent("runs")
        let errURL = temporary.appendingPathComponent("stderr")
        _ = FileManager.default.createFile(atPath: errURL.path, contents: nil)
        let err = try FileHandle(forWritingTo: errURL)
        let process = Process()
        process.executableURL = URL(fileURLWithPath: mpirun)
        // 8 seeds: 16 trials per rank, so both ranks are still in the sweep when one is hit.
        process.arguments = MPIRun.launchArguments(ranks: 2) + [stability.url.path, "--full", "--config",
                             try writeTinyExperiment().path, "--seeds", "1,2,3,4,5,6,7,8", "--out", temporary.path,
                             "--runs", runs.path, "--no-edge-report"]
        process.standardOutput = FileHandle.nullDevice
        process.standardError = err
        // No Swift backtracer in the ranks: the one of the rank killed here would outlive the job, asleep.
        process.environment = ProcessInfo.processInfo.environment.merging(["SWIFT_BACKTRACE": "enable=no"]) { $1 }
        try process.run()
        // Wait until both ranks are in their first trial (adagrad at 1x, seed 1 on rank 0, seed 2 on rank 1).
        let firsts = ["synthetic-adagrad-x1-s1", "synthetic-adagrad-x1-s2"].map { runs.appendingPathComponent($0).path }
        let started = Date()
        while !firsts.allSatisfy(FileManager.default.fileExists(atPath:)) && Date().timeIntervalSince(started) < 120 {
            Thread.sleep(forTimeInterval: 0.05)
        }
        let ranks = ProcessTree.descendants(of: process.processIdentifier, named: "stability")
        XCTAssertEqual(ranks.count, 2, "two stability processes under mpirun")
        let victim = try XCTUnwrap(ranks.last)
        kill(victim, SIGSEGV)
        // Bounded: if the job hung, stop it and fail.
        let deadline = Date().addingTimeInterval(60)
        while process.isRunning && Date() < deadline { Thread.sleep(forTimeInterval: 0.1) }
        let hung = process.isRunning
        if hung { process.terminate(); process.waitUntilExit() }
        process.waitUntilExit()
        try err.close()
        let stderr = String(decoding: try Data(contentsOf: errURL), as: UTF8.self)
        XCTAssertFalse(hung, "the job did not end within 60 s of the crash: \(stderr)")
        XCTAssertNotEqual(process.terminationStatus, 0)
        XCTAssertNotNil(stderr.range(of: #"stability: rank [01] crashed \(signal 11\); its last trial started: synthetic-[a-z]+-x[12]-s[1-8]"#,
                                     options: .regularExpression), stderr)
    }
}
