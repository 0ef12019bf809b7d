import Foundation
import XCTest

/// More `dwa.json`, `gradnorm.json`, `gradcraft.json`, `pcgrad.json` and
/// `uw.json` cases, generated in float64 numpy by
/// `tools/goldens/weighting_reference.py` (seeds 1 and 2) straight from the
/// formulas of ALGORITHMS.md 5 and 6 — GradCraft by explicit projections of the
/// d-vectors, PCGrad by LibMTL's loop — and run through the same checkers as
/// the shared golden files. (The script's `--check-shared` mode reproduces the
/// shared files to 1e-15, so it is the same semantics on new draws.)
final class ExtraWeightingGoldenTests: XCTestCase {
    static let checkers: [(file: String, check: (GoldenValue, GoldenChecker) throws -> Void, minimumChecks: Int)] = [
        ("dwa", GoldenDWA.check, 100),
        ("gradnorm", GoldenGradNorm.check, 500),
        ("gradcraft", GoldenGradCraft.check, 5_000),
        ("pcgrad", GoldenPCGrad.check, 1_000),
        ("uw", GoldenUW.check, 10),
    ]

    func testGeneratedWeightingCases() throws {
        let root = URL(fileURLWithPath: #filePath)
            .deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent()
            .appendingPathComponent("GoldensExtra", isDirectory: true)
        let dirs = try FileManager.default.contentsOfDirectory(atPath: root.path)
            .filter { $0.hasPrefix("weighting-") }.sorted()
        XCTAssertGreaterThanOrEqual(dirs.count, 2)
        for dir in dirs {
            for entry in Self.checkers {
                let name = "\(dir)/\(entry.file).json"
                let data = try Data(contentsOf: root.appendingPathComponent(dir).appendingPathComponent("\(entry.file).json"))
                let json = GoldenValue(try JSONSerialization.jsonObject(with: data), path: name)
                let checker = GoldenChecker(file: name)
                do {
                    try entry.check(json, checker)
                } catch {
                    checker.fail("\(name): threw \(error)")
                }
                XCTAssertGreaterThan(checker.checks, entry.minimumChecks, name)
                for f in checker.failures.prefix(10) { XCTFail("\(name): \(f)") }
                if checker.failures.count > 10 { XCTFail("\(name): … and \(checker.failures.count - 10) more") }
            }
        }
    }
}
