import Foundation
import XCTest
@testable import Ranker

/// Issue 14, defect 2: every tensor a run reads back (`checkpoint.safetensors`,
/// `best.safetensors`) is checked for name, dtype and shape before use, and a
/// mismatch is an error naming the file, the tensor, the expected and the
/// found shape — instead of a `Matrix.copy(from:)` precondition crash (one
/// more vocabulary value) or silent acceptance (a transposed matrix of the
/// same size).
final class StateFileValidationTests: RunDirectoryTestCase {
    /// A run interrupted after its first evaluation (so it has `best.safetensors`).
    func interruptedRun(_ name: String) throws -> (RunConfiguration, Dataset, URL) {
        var c = TrainerTests.smallRun()
        c.training.epochs = 1
        let dataset = try RunData.load(c.data)
        var interrupted = c
        interrupted.training.epochs = 2
        interrupted.training.interruptAfterSteps = (dataset.splits.train.count + 255) / 256 + 2
        let dir = temporaryDirectory(name)
        XCTAssertEqual(try Trainer(configuration: interrupted, dataset: dataset, runDirectory: dir).run().stopReason,
                       .interrupted)
        XCTAssertTrue(FileManager.default.fileExists(atPath: dir.appendingPathComponent("best.safetensors").path))
        c.training.epochs = 2
        return (c, dataset, dir)
    }

    /// Rewrites `url` (checksums included) with tensor `name` replaced by `replacement`.
    func rewrite(_ url: URL, replacing name: String, with replacement: Matrix) throws {
        let reader = try SafeTensorsReader(url: url)
        var tensors: [(name: String, value: Matrix)] = []
        for n in reader.tensorNames {
            let value = try reader.readMatrix(named: n)
            tensors.append((n, n == name ? replacement : value))
        }
        try SafeTensorsWriter.write(tensors: tensors, metadata: reader.metadata, to: url, checksums: true)
    }

    /// The message must name the file, the tensor, and both shapes.
    func assertNames(_ error: Error, file url: URL, tensor: String, expected: [Int], found: [Int],
                     line: UInt = #line) {
        let message = "\(error)"
        for part in [url.path, tensor, "\(expected)", "\(found)"] {
            XCTAssertTrue(message.contains(part), "\"\(part)\" missing from: \(message)", line: line)
        }
    }

    func testBestStateFromARunWithOneMoreVocabularyValueIsRefusedByName() throws {
        let (c, dataset, dir) = try interruptedRun("vocabulary")
        let best = dir.appendingPathComponent("best.safetensors")
        let table = try SafeTensorsReader(url: best).readMatrix(named: "embedding.item_id")
        let larger = Matrix(rows: table.rows + 1, cols: table.cols)  // a sibling run's table: one more item
        try rewrite(best, replacing: "embedding.item_id", with: larger)
        XCTAssertThrowsError(try Trainer(configuration: c, dataset: dataset, runDirectory: dir, resume: true)) { error in
            XCTAssertEqual((error as? SafeTensorsError)?.problem,
                           .shapeMismatch(name: "embedding.item_id", expected: [table.rows, table.cols],
                                          found: [table.rows + 1, table.cols]))
            assertNames(error, file: best, tensor: "embedding.item_id", expected: [table.rows, table.cols],
                        found: [table.rows + 1, table.cols])
        }
    }

    func testTransposedBestTensorOfTheSameSizeIsRefused() throws {
        let (c, dataset, dir) = try interruptedRun("transposed-best")
        let best = dir.appendingPathComponent("best.safetensors")
        let w = try SafeTensorsReader(url: best).readMatrix(named: "experts.0.W")
        XCTAssertNotEqual(w.rows, w.cols)
        try rewrite(best, replacing: "experts.0.W", with: Matrix(rows: w.cols, cols: w.rows))
        XCTAssertThrowsError(try Trainer(configuration: c, dataset: dataset, runDirectory: dir, resume: true)) { error in
            assertNames(error, file: best, tensor: "experts.0.W", expected: [w.rows, w.cols], found: [w.cols, w.rows])
        }
    }

    func testTransposedCheckpointTensorIsRefusedNamingTheFile() throws {
        let (c, dataset, dir) = try interruptedRun("transposed-checkpoint")
        let checkpoint = dir.appendingPathComponent("checkpoint.safetensors")
        let w = try SafeTensorsReader(url: checkpoint).readMatrix(named: "optimizer/experts.0.W")
        try rewrite(checkpoint, replacing: "optimizer/experts.0.W", with: Matrix(rows: w.cols, cols: w.rows))
        XCTAssertThrowsError(try Trainer(configuration: c, dataset: dataset, runDirectory: dir, resume: true)) { error in
            XCTAssertEqual(error as? StateFileError, StateFileError(path: checkpoint.path, error:
                .shapeMismatch(name: "optimizer/experts.0.W", expected: [w.rows, w.cols], found: [w.cols, w.rows])))
            assertNames(error, file: checkpoint, tensor: "optimizer/experts.0.W", expected: [w.rows, w.cols],
                        found: [w.cols, w.rows])
        }
    }

    func testReaderRefusesAMismatchedDestinationInsteadOfStopping() throws {
        let url = directoryFile("m.safetensors")
        try SafeTensorsWriter.write(tensors: [(name: "w", value: Matrix(rows: 2, cols: 3))], metadata: [:], to: url)
        let destination = Matrix(rows: 3, cols: 2, values: [1, 2, 3, 4, 5, 6])
        XCTAssertThrowsError(try SafeTensorsReader(url: url).readMatrix(named: "w", into: destination)) { error in
            XCTAssertEqual(error as? SafeTensorsError,
                           SafeTensorsError(path: url.path, problem: .shapeMismatch(name: "w", expected: [3, 2], found: [2, 3])))
        }
        XCTAssertEqual(destination.toArray(), [1, 2, 3, 4, 5, 6], "unchanged on error")
    }

    func directoryFile(_ name: String) -> URL {
        let dir = temporaryDirectory("files")
        try? FileManager.default.createDirectory(at: dir, withIntermediateDirectories: true)
        return dir.appendingPathComponent(name)
    }
}
