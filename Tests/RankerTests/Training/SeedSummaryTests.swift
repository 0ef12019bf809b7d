import XCTest
@testable import RankerExperiments

/// `SeedSummary`: mean and population standard deviation over seeds, the
/// "at or above the peer" rule at the peer's four decimals, and the table.
final class SeedSummaryTests: XCTestCase {
    /// PROTOCOL.md's own five-seed row for the MMoE peer reproduces its
    /// published mean ± std (population form): 0.9404 ± 0.0027, 0.9929 ± 0.0006.
    func testStatisticsReproduceThePublishedPeerRow() {
        let income = SeedSummary.Statistic(values: [0.9372, 0.9418, 0.9388, 0.9448, 0.9394], spread: .population)
        let marital = SeedSummary.Statistic(values: [0.9921, 0.9928, 0.9936, 0.9925, 0.9937], spread: .population)
        XCTAssertEqual(income.mean, 0.9404, accuracy: 5e-5)
        XCTAssertEqual(income.standardDeviation, 0.0027, accuracy: 5e-5)
        XCTAssertEqual(marital.mean, 0.9929, accuracy: 5e-5)
        XCTAssertEqual(marital.standardDeviation, 0.0006, accuracy: 5e-5)
        // Population, not sample: {1, 3} has std 1 (the sample form gives √2).
        XCTAssertEqual(SeedSummary.Statistic(values: [1, 3], spread: .population).standardDeviation, 1)
        XCTAssertEqual(SeedSummary.Statistic(values: [0.93], spread: .population).standardDeviation, 0)
        XCTAssertTrue(SeedSummary.Statistic(values: [], spread: .population).mean.isNaN)
        // The weighting comparison's sample form divides by n - 1: NaN for one value.
        XCTAssertEqual(SeedStatistic(values: [1, 3], spread: .sample).standardDeviation, 2.0.squareRoot())
        XCTAssertTrue(SeedStatistic(values: [0.93], spread: .sample).standardDeviation.isNaN)
    }

    /// At or above compares the mean rounded to four decimals with the peer.
    func testAtOrAboveThePeerAtItsFourDecimals() {
        func task(_ values: [Double], peer: Double?) -> SeedSummary.Task {
            SeedSummary.Task(name: "income", testAUC: SeedSummary.Statistic(values: values, spread: .population), peerMean: peer)
        }
        XCTAssertEqual(task([0.9404, 0.9404], peer: 0.9404).atOrAbovePeer, true)
        XCTAssertEqual(task([0.94036], peer: 0.9404).atOrAbovePeer, true, "prints as 0.9404")
        XCTAssertEqual(task([0.94034], peer: 0.9404).atOrAbovePeer, false, "prints as 0.9403")
        XCTAssertEqual(task([0.95, 0.93], peer: 0.9404).atOrAbovePeer, false, "mean 0.9400")
        XCTAssertEqual(task([0.95, 0.9310], peer: 0.9404).atOrAbovePeer, true, "mean 0.9405")
        XCTAssertNil(task([0.95], peer: nil).atOrAbovePeer)
        XCTAssertNil(task([.nan, 0.95], peer: 0.9).atOrAbovePeer)
    }

    func testModelFromPerSeedResultsAndItsErrors() throws {
        let model = try SeedSummary.Model(
            name: "mmoe",
            testAUC: [[("income", 0.94), ("marital", 0.99)], [("income", 0.96), ("marital", 0.98)]],
            samplesPerSecond: [100, 300], peer: ["income": 0.95])
        XCTAssertEqual(model.tasks.map(\.name), ["income", "marital"])
        XCTAssertEqual(model.tasks[0].testAUC.values, [0.94, 0.96])
        XCTAssertEqual(model.tasks[0].testAUC.mean, 0.95, accuracy: 1e-12)
        XCTAssertEqual(model.tasks[0].atOrAbovePeer, true)
        XCTAssertNil(model.tasks[1].peerMean)
        XCTAssertEqual(model.samplesPerSecond.mean, 200)

        XCTAssertThrowsError(try SeedSummary.Model(name: "ple", testAUC: [[("income", 0.9)], [("marital", 0.9)]],
                                                   samplesPerSecond: [1, 2], peer: [:])) {
            XCTAssertTrue("\($0)".contains("ple: the seeds report different tasks"), "\($0)")
        }
        XCTAssertThrowsError(try SeedSummary.Model(name: "ple", testAUC: [[("income", 0.9)]],
                                                   samplesPerSecond: [1, 2], peer: [:])) {
            XCTAssertTrue("\($0)".contains("1 seeds of test AUC, 2 of samples/s"), "\($0)")
        }
        XCTAssertThrowsError(try SeedSummary.Model(name: "ple", testAUC: [], samplesPerSecond: [], peer: [:]))
    }

    /// The table: a header naming the seeds and the peer, one row per model
    /// with mean ± std, the peer and yes / NO / "-" per task, and samples/s.
    func testTableShowsMeansPeersAndTheVerdict() throws {
        let mmoe = try SeedSummary.Model(name: "mmoe", testAUC: [[("income", 0.9410), ("marital", 0.9920)],
                                                                 [("income", 0.9420), ("marital", 0.9930)]],
                                         samplesPerSecond: [20000, 22000], peer: ["income": 0.9404, "marital": 0.9929])
        let ple = try SeedSummary.Model(name: "ple", testAUC: [[("income", 0.9300), ("marital", 0.9931)],
                                                               [("income", 0.9310), ("marital", 0.9931)]],
                                        samplesPerSecond: [30000, 30000], peer: ["income": 0.9401])
        let text = SeedSummary(seeds: [0, 1], models: [mmoe, ple], peerLabel: "the peers").text()
        let lines = text.split(separator: "\n").map(String.init)
        XCTAssertEqual(lines.count, 4, text)
        XCTAssertEqual(lines[0], "test AUC over seeds 0, 1 (mean ± population std); peer: the peers")
        for column in ["model", "income mean ± std", "marital mean ± std", "peer", "≥ peer", "samples/s"] {
            XCTAssertTrue(lines[1].contains(column), "header lacks \(column): \(lines[1])")
        }
        let mmoeCells = lines[2].split(separator: " ", omittingEmptySubsequences: true).map(String.init)
        XCTAssertEqual(mmoeCells, ["mmoe", "0.9415", "±", "0.0005", "0.9404", "yes",
                                   "0.9925", "±", "0.0005", "0.9929", "NO", "21000"])
        let pleCells = lines[3].split(separator: " ", omittingEmptySubsequences: true).map(String.init)
        XCTAssertEqual(pleCells, ["ple", "0.9305", "±", "0.0005", "0.9401", "NO",
                                  "0.9931", "±", "0.0000", "-", "-", "30000"])
        // The columns line up: every row as wide as the header.
        XCTAssertEqual(Set(lines.dropFirst().map(\.count)).count, 1, text)
    }
}
