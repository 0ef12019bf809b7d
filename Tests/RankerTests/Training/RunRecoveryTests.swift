import Foundation
import XCTest
@testable import Ranker

/// Issue 14, defects 6, 7 and 10 in process: a run directory survives being
/// killed before its first checkpoint, being killed after telemetry got
/// ahead of the last checkpoint, a failed write, and a second process.
final class RunRecoveryTests: RunDirectoryTestCase {
    func configuration() -> RunConfiguration {
        var c = TrainerTests.smallRun()
        c.training.checkpointEverySteps = 4
        return c
    }

    func checkpointBits(_ dir: URL) throws -> [String: [UInt32]] {
        try Checkpoint.read(from: dir.appendingPathComponent("checkpoint.safetensors")).tensors
            .mapValues { $0.toArray().map(\.bitPattern) }
    }

    /// Defect 7: `--resume` of a directory whose run died before its first
    /// checkpoint (config.json, a torn telemetry line, no checkpoint) starts
    /// the run over and ends exactly as an uninterrupted run. Before: "open
    /// failed: No such file or directory".
    func testResumeOfARunKilledBeforeItsFirstCheckpointStartsOver() throws {
        let c = configuration()
        let dataset = try RunData.load(c.data)
        let straight = temporaryDirectory("straight")
        XCTAssertEqual(try Trainer(configuration: c, dataset: dataset, runDirectory: straight).run().stopReason, .completed)

        let dir = temporaryDirectory("killed-early")
        _ = try Trainer(configuration: c, dataset: dataset, runDirectory: dir)  // writes config.json, as a real start does
        try Data(#"{"type":"run","name":"te"#.utf8).write(to: dir.appendingPathComponent("telemetry.jsonl"))
        XCTAssertFalse(FileManager.default.fileExists(atPath: dir.appendingPathComponent("checkpoint.safetensors").path))
        let resumed = try Trainer(configuration: c, dataset: dataset, runDirectory: dir, resume: true).run()
        XCTAssertEqual(resumed.stopReason, .completed)
        XCTAssertEqual(TelemetryText.withoutWallClock(try TelemetryText.read(dir)),
                       TelemetryText.withoutWallClock(try TelemetryText.read(straight)))
        XCTAssertEqual(try checkpointBits(dir), try checkpointBits(straight))
    }

    /// Defect 6, simulated in process: what a SIGKILL leaves when the
    /// telemetry got further than the last checkpoint that became visible —
    /// lines past it (here up to an interrupt at step 13 and its end line)
    /// and a torn last line — with the checkpoint of step 8 in place. The
    /// simulation is honest about one thing only: the files are exactly
    /// those a killed process can leave (the step-8 checkpoint is the file
    /// the run wrote at step 8, copied back). The resumed run cuts the
    /// telemetry back to the offset in that checkpoint and ends byte for
    /// byte as the uninterrupted run, wall-clock fields aside. Before: the
    /// steps 9–13 appeared twice, with a second run line and an
    /// `interrupted` end line in the middle.
    func testTelemetryAfterResumingFromAnOlderCheckpointEqualsTheUninterruptedRun() throws {
        let c = configuration()
        let dataset = try RunData.load(c.data)
        let straight = temporaryDirectory("straight")
        _ = try Trainer(configuration: c, dataset: dataset, runDirectory: straight).run()

        let dir = temporaryDirectory("replayed")
        let checkpoint = dir.appendingPathComponent("checkpoint.safetensors")
        var first = c
        first.training.interruptAfterSteps = 8
        XCTAssertEqual(try Trainer(configuration: first, dataset: dataset, runDirectory: dir).run().steps, 8)
        let atStep8 = try Data(contentsOf: checkpoint)
        var second = c
        second.training.interruptAfterSteps = 13
        XCTAssertEqual(try Trainer(configuration: second, dataset: dataset, runDirectory: dir, resume: true).run().steps, 13)
        try atStep8.write(to: checkpoint)
        let handle = try FileHandle(forWritingTo: dir.appendingPathComponent("telemetry.jsonl"))
        _ = try handle.seekToEnd()
        try handle.write(contentsOf: Data(#"{"day":null,"epoch":0,"los"#.utf8))
        try handle.close()

        let resumed = try Trainer(configuration: c, dataset: dataset, runDirectory: dir, resume: true).run()
        XCTAssertEqual(resumed.stopReason, .completed)
        let expected = TelemetryText.withoutWallClock(try TelemetryText.read(straight))
        XCTAssertEqual(TelemetryText.withoutWallClock(try TelemetryText.read(dir)), expected)
        XCTAssertEqual(expected.components(separatedBy: "\"type\":\"run\"").count, 2, "one run line")
        XCTAssertEqual(try checkpointBits(dir), try checkpointBits(straight))
    }

    /// Defect 6: a run that fails on I/O (here the checkpoint's rename, with
    /// a directory in the checkpoint's place; ENOSPC takes the same path)
    /// writes a `stop` event and an `end` line saying `failed`. Before: the
    /// telemetry just ended.
    func testAFailedCheckpointWriteLeavesAStopLine() throws {
        let c = configuration()
        let dir = temporaryDirectory("failing")
        let trainer = try Trainer(configuration: c, runDirectory: dir)
        let blocker = dir.appendingPathComponent("checkpoint.safetensors")
        try FileManager.default.createDirectory(at: blocker, withIntermediateDirectories: true)
        try Data("x".utf8).write(to: blocker.appendingPathComponent("keep"))
        XCTAssertThrowsError(try trainer.run()) { XCTAssertTrue($0 is FileIOError, "\($0)") }
        let lines = try TelemetryText.read(dir).split(separator: "\n").map(String.init)
        let stop = try XCTUnwrap(lines.dropLast().last)
        XCTAssertTrue(stop.contains(#""kind":"stop""#) && stop.contains("rename") && stop.contains(#""step":4"#), stop)
        XCTAssertTrue(lines.last!.contains(#""stopped":"failed""#) && lines.last!.contains(#""type":"end""#), lines.last!)
    }

    /// Defect 10: one process (one `Trainer`) per run directory; the second
    /// is refused with the directory named, and the lock goes with the run.
    func testASecondTrainerOnTheSameRunDirectoryIsLockedOut() throws {
        var c = configuration()
        c.training.interruptAfterSteps = 4
        let dataset = try RunData.load(c.data)
        let dir = temporaryDirectory("locked")
        let first = try Trainer(configuration: c, dataset: dataset, runDirectory: dir)
        XCTAssertThrowsError(try Trainer(configuration: c, dataset: dataset, runDirectory: dir, resume: true)) { error in
            XCTAssertTrue("\(error)".contains("\(dir.path) is in use"), "\(error)")
            XCTAssertTrue("\(error)".contains(RunDirectoryLock.fileName), "\(error)")
        }
        XCTAssertEqual(try first.run().stopReason, .interrupted)
        // The run is over: its lock is released even though `first` is still alive.
        c.training.interruptAfterSteps = 0
        XCTAssertEqual(try Trainer(configuration: c, dataset: dataset, runDirectory: dir, resume: true).run().stopReason,
                       .completed)
        withExtendedLifetime(first) {}
    }
}
