import Foundation
import XCTest
@testable import Ranker
import RankerTestSupport

/// `census-mmoe` as a user runs it (`.build/release/census-mmoe`): the
/// `--seeds` option's mistakes are reported before any training, and a short
/// two-seed run prints each seed's table, the summary beside the peers'
/// 5-seed means and, last, the JSON line with the mean and std per model.
final class CensusMMoECommandTests: TemporaryDirectoryTestCase {
    func censusMMoE(_ arguments: [String]) throws -> BuiltExecutable.Outcome {
        try BuiltExecutable(name: "census-mmoe").run(arguments, temporary: temporary)
    }

    func testSeedMistakesAreReportedWithoutTraining() throws {
        let cases: [(arguments: [String], says: String)] = [
            (["--seed", "1", "--seeds", "0-4"], "--seed and --seeds together"),
            (["--seeds", "4-0"], "the range 4-0 runs backwards"),
            (["--seeds", "0,x"], "x is not a seed"),
            (["--seeds", "0-2,1"], "seed 1 is listed twice"),
        ]
        for (arguments, says) in cases {
            let outcome = try censusMMoE(arguments + ["--out", temporary.appendingPathComponent("never").path])
            let label = arguments.joined(separator: " ")
            XCTAssertNotEqual(outcome.status, 0, label)
            XCTAssertTrue(outcome.standardError.contains(says), "\(label): \(outcome.standardError)")
            XCTAssertFalse(outcome.standardOutput.contains("census-income (PROTOCOL.md)"), "\(label) loaded the data")
            XCTAssertFalse(FileManager.default.fileExists(atPath: temporary.appendingPathComponent("never").path), label)
        }
    }

    /// Seeds 1 and 0 of one epoch of Shared-Bottom: one run directory per
    /// seed, each seed's table beside that seed's peer, the summary with the
    /// peers' 5-seed means (PROTOCOL.md: 0.9407 / 0.9929), and the JSON line
    /// whose mean and std are those of the two per-seed AUCs.
    func testTwoSeedsPrintTheSummaryAndTheJSONLine() throws {
        guard (try? CensusIncome.locate(filePath: #filePath)) != nil else {
            throw XCTSkip("census-income not found (set RANKER_DATA or run `make data`)")
        }
        let out = temporary.appendingPathComponent("runs")
        let outcome = try censusMMoE(["--seeds", "1,0", "--models", "shared_bottom", "--epochs", "1", "--out", out.path])
        XCTAssertEqual(outcome.status, 0, outcome.standardError)
        for seed in [0, 1] {
            let run = out.appendingPathComponent("seed-\(seed)/shared_bottom/config.json")
            XCTAssertTrue(FileManager.default.fileExists(atPath: run.path), run.path)
        }
        let text = outcome.standardOutput
        XCTAssertTrue(text.contains("seeds 1, 0,"), text)
        XCTAssertTrue(text.contains("seed 1; peer: torch-rechub, same seed"), text)
        XCTAssertTrue(text.contains("test AUC over seeds 1, 0 (mean ± population std)"), text)
        let lines = text.split(separator: "\n").map(String.init)
        let summaryRow = try XCTUnwrap(lines.last { $0.hasPrefix("shared_bottom") && $0.contains("±") })
        XCTAssertTrue(summaryRow.contains("0.9407") && summaryRow.contains("0.9929"), summaryRow)

        let json = try XCTUnwrap(lines.last)
        let object = try XCTUnwrap(try JSONSerialization.jsonObject(with: Data(json.utf8)) as? [String: Any])
        XCTAssertEqual(object["seeds"] as? [Int], [1, 0])
        XCTAssertEqual(object["seed"] as? Int, 1)
        let entry = try XCTUnwrap((object["models"] as? [[String: Any]])?.first)
        let perSeed = try XCTUnwrap(entry["per_seed"] as? [[String: Any]])
        XCTAssertEqual(perSeed.map { $0["seed"] as? Int }, [1, 0])
        let mean = try XCTUnwrap(entry["test_auc_mean"] as? [String: Double])
        let std = try XCTUnwrap(entry["test_auc_std"] as? [String: Double])
        for task in ["income", "marital"] {
            let values = try perSeed.map { try XCTUnwrap(($0["test_auc"] as? [String: Double])?[task]) }
            XCTAssertEqual(try XCTUnwrap(mean[task]), (values[0] + values[1]) / 2, accuracy: 1e-12, task)
            XCTAssertEqual(try XCTUnwrap(std[task]), abs(values[0] - values[1]) / 2, accuracy: 1e-12, task)
            XCTAssertEqual((entry["test_auc"] as? [String: Double])?[task], values[0], "the first seed's run")
        }
    }
}
