import Foundation
import XCTest

/// Runs every `*.json` golden file in the directory named by `RANKER_GOLDENS`
/// (default: the repository's copy in `Tests/Goldens`) through the checker
/// registered for its file name, at the tolerances of ALGORITHMS.md 8.
///
/// A file whose implementation has not landed is reported as pending; a file
/// name nobody knows fails. Further case files of the same names and format
/// can be dropped into another directory and checked with
/// `RANKER_GOLDENS=/that/dir make goldens`.
final class GoldenRunnerTests: XCTestCase {
    /// Checker per golden file name (without `.json`); `nil` marks a file whose
    /// implementation has not landed yet (printed as pending).
    static let checkers: [String: ((GoldenValue, GoldenChecker) throws -> Void)?] = [
        "losses": GoldenLosses.check,
        "metrics": GoldenMetrics.check,
        "adagrad": checkAdagradGoldens,
        "clippy_tfrs_public": checkClippyTFRSPublicGoldens,
        "clippy": checkClippyGoldens,
        "models": checkModelsGolden,
        "batchnorm": GoldenBatchNorm.check,
        "dwa": GoldenDWA.check,
        "gradnorm": GoldenGradNorm.check,
        "gradcraft": GoldenGradCraft.check,
        "pcgrad": GoldenPCGrad.check,
        "uw": GoldenUW.check,
        "sequence": GoldenSequence.check,
    ]

    static var goldenDirectory: URL {
        if let dir = ProcessInfo.processInfo.environment["RANKER_GOLDENS"], !dir.isEmpty {
            return URL(fileURLWithPath: dir, isDirectory: true)
        }
        // Tests/RankerTests/Goldens/GoldenRunnerTests.swift → Tests/Goldens
        return URL(fileURLWithPath: #filePath)
            .deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent()
            .appendingPathComponent("Goldens", isDirectory: true)
    }

    func testEveryGoldenFile() throws {
        let dir = Self.goldenDirectory
        let files = try FileManager.default.contentsOfDirectory(atPath: dir.path)
            .filter { $0.hasSuffix(".json") }.sorted()
        XCTAssertFalse(files.isEmpty, "no *.json golden files in \(dir.path)")
        print("golden directory: \(dir.path)")
        for file in files {
            let name = String(file.dropLast(".json".count))
            guard let entry = Self.checkers[name] else {
                XCTFail("\(file): no checker knows this golden file name")
                continue
            }
            guard let check = entry else {
                print("  \(file): pending (implementation not landed)")
                continue
            }
            let data = try Data(contentsOf: dir.appendingPathComponent(file))
            let json = GoldenValue(try JSONSerialization.jsonObject(with: data, options: [.fragmentsAllowed]), path: name)
            let checker = GoldenChecker(file: file)
            do {
                try check(json, checker)
            } catch {
                checker.fail("\(file): threw \(error)")
            }
            if checker.failures.isEmpty {
                print("  \(file): \(checker.checks) checks passed")
            } else {
                print("  \(file): \(checker.failures.count) of \(checker.checks) checks FAILED")
                for f in checker.failures.prefix(25) { XCTFail("\(file): \(f)") }
                if checker.failures.count > 25 { XCTFail("\(file): … and \(checker.failures.count - 25) more") }
            }
            XCTAssertGreaterThan(checker.checks, 0, "\(file): the checker compared nothing")
        }
    }
}
