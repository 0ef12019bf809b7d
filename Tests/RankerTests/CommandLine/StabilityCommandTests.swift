import Foundation
import XCTest
import RankerTestSupport

/// The `stability` example end to end on a tiny experiment file: it runs,
/// its last output line is the JSON object, and it writes a
/// well-formed `stability.html` and a Clippy `report.html`.
final class StabilityCommandTests: TemporaryDirectoryTestCase {
    static let tinyExperiment = """
    {
      "settings": [{
        "name": "synthetic",
        "run": {
          "data": {"source": "synthetic", "synthetic": {"rows": 3000, "days": 3, "tasks": 2, "positive_rates": [0.3, 0.2],
                                                         "users": 100, "items": 200}},
          "model": {"model": "shared_bottom", "bottom_hidden": [16], "tower_hidden": [8]},
          "training": {"mode": "sequential", "batch_size": 64, "checkpoint_every_steps": 1000000},
          "output": {"progress": "silent", "report": false, "telemetry_every_steps": 10}
        },
        "base_learning_rate": 0.05
      }],
      "stability": {"policy": "stop", "divergence_auc": 0},
      "grid": {"steps_per_doubling": 1, "largest": 2},
      "seeds": [1],
      "methods": [
        {"name": "adagrad", "optimizer": {"kind": "adagrad"}},
        {"name": "clippy", "optimizer": {"kind": "clippy", "preset": "project"}}
      ]
    }
    """

    func testATinySweepEndsWithTheJSONLineAndWritesTheFigures() throws {
        let config = temporary.appendingPathComponent("tiny.json")
        try Self.tinyExperiment.write(to: config, atomically: true, encoding: .utf8)
        let out = temporary.appendingPathComponent("out")
        let run = try BuiltExecutable(name: "stability").run(["--full", "--config", config.path, "--out", out.path],
                                                             temporary: temporary)
        XCTAssertEqual(run.status, 0, run.standardError)
        let lines = run.standardOutput.split(separator: "\n").map(String.init)
        // One line per run: 2 methods x 2 multipliers x 1 seed.
        XCTAssertEqual(lines.filter { $0.hasPrefix("synthetic ") && $0.contains(" seed 1 ") }.count, 4)
        XCTAssertTrue(run.standardOutput.contains("k = 3.0, n = 100"), "the divergence rule is stated")

        let last = try XCTUnwrap(lines.last)
        let object = try XCTUnwrap(JSONSerialization.jsonObject(with: Data(last.utf8)) as? [String: Any])
        XCTAssertEqual(Set(object.keys), ["settings", "full"])
        XCTAssertEqual(object["full"] as? Bool, true)
        let settings = try XCTUnwrap(object["settings"] as? [[String: Any]])
        XCTAssertEqual(settings.map { $0["name"] as? String }, ["synthetic"])
        let methods = try XCTUnwrap(settings[0]["methods"] as? [[String: Any]])
        XCTAssertEqual(methods.map { $0["method"] as? String }, ["adagrad", "clippy"])
        for m in methods {
            XCTAssertEqual(Set(m.keys), ["method", "stability_edge", "half_divergence", "best_auc_mean", "best_auc_std",
                                         "best_multiplier"])
            XCTAssertGreaterThan(m["best_auc_mean"] as? Double ?? 0, 0.5, "a learning rate of 0.05 or 0.1 learns")
        }

        let html = try String(contentsOf: out.appendingPathComponent("stability.html"), encoding: .utf8)
        let xml = try ReportXML(html: html)
        XCTAssertEqual(try xml.seriesNames(in: "diverged-0"), ["adagrad", "clippy"])
        XCTAssertEqual(try xml.seriesNames(in: "auc-0"), ["adagrad", "clippy"])
        let reports = try FileManager.default.contentsOfDirectory(atPath: out.path).filter { $0.hasPrefix("report-synthetic-clippy") }
        XCTAssertEqual(reports.count, 1, "one Clippy report near its edge")
        let report = try String(contentsOf: out.appendingPathComponent(reports[0]), encoding: .utf8)
        XCTAssertNotNil(try ReportXML(html: report).element(id: "clipping"))
    }
}
