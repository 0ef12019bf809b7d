import Foundation
import XCTest
@testable import Ranker
@testable import RankerExperiments
@testable import RankerReport

/// The stability sweep's judgement and outputs, on constructed inputs whose
/// answers are worked out by hand: the training-loss divergence rule
/// (`StabilityMonitor`) on loss sequences, the stability edge and
/// half-divergence multiplier of a table, the paper claims, the last JSON
/// line and `stability.html`.
final class StabilitySweepTests: XCTestCase {
    // MARK: the divergence rule on constructed loss sequences

    /// k = 3, n = 4, judged after 3 steps, moving average decay 0.5.
    static func monitor() -> StabilityMonitor {
        var s = StabilitySettings()
        s.spikeFactor = 3
        s.divergenceSteps = 4
        s.warmupSteps = 3
        s.movingAverageDecay = 0.5
        s.divergenceAUC = 0
        return StabilityMonitor(settings: s, taskNames: ["a"])
    }

    /// Feeds `losses` (one task) and returns the events as `(step, kind)`.
    static func events(_ losses: [Double], lossLimit: Double? = nil) -> [(Int, StabilityEvent.Kind)] {
        var m = monitor()
        var out: [(Int, StabilityEvent.Kind)] = []
        for (step, loss) in losses.enumerated() {
            for e in m.observe(step: step, losses: [loss], lossLimits: [lossLimit]) { out.append((step, e.kind)) }
        }
        return out
    }

    func testASustainedLossAboveKTimesItsAverageDivergesAfterNSteps() {
        // Average 1 after the constant steps; 10 > 3 · 1 from step 4, frozen average:
        // spike at 4, divergence at its 4th step, 7.
        let e = Self.events([1, 1, 1, 1, 10, 10, 10, 10, 10])
        XCTAssertEqual(e.map(\.0), [4, 7])
        XCTAssertEqual(e.map(\.1), [.spike, .divergence])
    }

    func testASpikeThatRecoversIsAMicroDivergence() {
        // Three steps above 3x (one short of n = 4), then back: spike and recovered, no divergence.
        let e = Self.events([1, 1, 1, 1, 10, 10, 10, 1, 1])
        XCTAssertEqual(e.map(\.0), [4, 7])
        XCTAssertEqual(e.map(\.1), [.spike, .recovered])
        var m = Self.monitor()
        for (step, loss) in [1.0, 1, 1, 1, 10, 10, 10, 1, 1].enumerated() { _ = m.observe(step: step, losses: [loss]) }
        XCTAssertEqual(m.counts["recovered"], 1)
        XCTAssertNil(m.counts["divergence"])
        // The average was frozen during the spike: (0.5 · 1 + 0.5 · 1) twice after it.
        XCTAssertEqual(m.averages[0]!, 1, accuracy: 1e-12)
    }

    func testALossJustAtKTimesItsAverageIsNoSpike() {
        // 3 · 1 is not above 3 · 1; after step 4 the average moves to 2
        // (0.5 · 1 + 0.5 · 3), so 3 stays below 6.
        XCTAssertEqual(Self.events([1, 1, 1, 1, 3, 3, 3, 3, 3]).count, 0)
    }

    func testSpikesDuringTheWarmUpAreNotJudged() {
        // Step 1 is 10x the average but only 1 step has been observed (< 3).
        XCTAssertEqual(Self.events([1, 10, 1, 1]).count, 0)
    }

    func testANonFiniteLossIsLeftToTheTrainerAndDoesNotMoveTheAverage() {
        // The monitor skips non-finite losses (the trainer stops the run on
        // them with a `nan` event, classified as `non_finite`:
        // StabilityTrialTests.testCausesOfAStoppedRun).
        var m = Self.monitor()
        for (step, loss) in [1.0, 1, 1, 1].enumerated() { _ = m.observe(step: step, losses: [loss]) }
        XCTAssertTrue(m.observe(step: 4, losses: [.nan]).isEmpty)
        XCTAssertTrue(m.observe(step: 5, losses: [.infinity]).isEmpty)
        XCTAssertEqual(m.averages[0]!, 1, accuracy: 1e-12)
    }

    func testALossAboveItsAbsoluteLimitDivergesFromTheFirstStep() {
        let e = Self.events([100], lossLimit: 69.3)
        XCTAssertEqual(e.map(\.0), [0])
        XCTAssertEqual(e.map(\.1), [.divergence])
    }

    func testTheValidAUCIsNotJudgedWithDivergenceAUCZero() {
        var m = Self.monitor()
        XCTAssertTrue(m.observe(step: 1, validAUC: ["a": 0.9]).isEmpty)
        XCTAssertTrue(m.observe(step: 2, validAUC: ["a": 0.3]).isEmpty)
        var judged = StabilityMonitor(settings: StabilitySettings(), taskNames: ["a"])
        _ = judged.observe(step: 1, validAUC: ["a": 0.9])
        XCTAssertEqual(judged.observe(step: 2, validAUC: ["a": 0.3]).map(\.kind), [.divergence])
    }

    // MARK: the table

    static func run(diverged: Bool, auc: Double?, micro: Int = 0) -> StabilityTrialOutcome {
        StabilityTrialOutcome(diverged: diverged, neverLearned: false, cause: diverged ? .lossDivergence : nil,
                              divergenceStep: diverged ? 5 : nil, divergenceMessage: nil, steps: 10, spikes: micro,
                              microDivergences: micro, testAUC: auc, validAUCs: [], bestTaskAUCs: [], seconds: 0)
    }

    static let grid = [1, 2.0.squareRoot(), 2, 2 * 2.0.squareRoot(), 4]

    /// One method's cells: `diverged[i]` of `seeds` diverged at `grid[i]`;
    /// surviving seeds have AUC `aucs[i] ± 0.01` (two values), diverged ones 0.5.
    static func cells(_ method: String, diverged: [Int], aucs: [Double], seeds: Int = 4) -> [StabilityCell] {
        zip(grid, zip(diverged, aucs)).map { m, pair in
            let (d, auc) = pair
            let outcomes = (0..<seeds).map { s in
                s < d ? run(diverged: true, auc: 0.5) : run(diverged: false, auc: auc + (s % 2 == 0 ? 0.01 : -0.01), micro: 1)
            }
            return StabilityCell(method: method, multiplier: m, learningRate: 0.1 * m, outcomes: outcomes)
        }
    }

    func testEdgeAndHalfDivergenceOfAConstructedTable() {
        // Diverged 0 0 1 2 4 of 4: edge √2 (no divergence at or below it), half 2√2.
        XCTAssertEqual(StabilityMethodResult.stabilityEdge(multipliers: Self.grid, diverged: [0, 0, 1, 2, 4]), Self.grid[1])
        XCTAssertEqual(StabilityMethodResult.halfDivergence(multipliers: Self.grid, diverged: [0, 0, 1, 2, 4],
                                                            runs: [4, 4, 4, 4, 4]), Self.grid[3])
        // A divergence at a low rate ends the stable range even if a higher one survived.
        XCTAssertEqual(StabilityMethodResult.stabilityEdge(multipliers: Self.grid, diverged: [0, 1, 0, 0, 0]), 1)
        XCTAssertNil(StabilityMethodResult.stabilityEdge(multipliers: Self.grid, diverged: [1, 0, 0, 0, 0]))
        XCTAssertEqual(StabilityMethodResult.stabilityEdge(multipliers: Self.grid, diverged: [0, 0, 0, 0, 0]), 4)
        XCTAssertNil(StabilityMethodResult.halfDivergence(multipliers: Self.grid, diverged: [0, 1, 1, 1, 1],
                                                          runs: [4, 4, 4, 4, 4]))
        // 3 of 5 is more than half; 2 of 5 is not.
        XCTAssertEqual(StabilityMethodResult.halfDivergence(multipliers: [1, 2], diverged: [2, 3], runs: [5, 5]), 2)
    }

    func testMethodResultOfConstructedCells() throws {
        let r = StabilityMethodResult(method: "adagrad",
                                      cells: Self.cells("adagrad", diverged: [0, 0, 1, 2, 4], aucs: [0.70, 0.74, 0.76, 0.7, 0.7]).reversed())
        XCTAssertEqual(r.multipliers, Self.grid, "sorted by multiplier")
        XCTAssertEqual(r.diverged, [0, 0, 1, 2, 4])
        XCTAssertEqual(r.microDivergences, [4, 4, 3, 2, 0])
        XCTAssertEqual(r.stabilityEdge, Self.grid[1])
        XCTAssertEqual(r.halfDivergence, Self.grid[3])
        XCTAssertFalse(r.edgeIsOpen)
        // At 2x: 0.5 (diverged), 0.75, 0.77, 0.75 → mean 2.77 / 4 = 0.6925; at √2: 0.75, 0.73, 0.75, 0.73 → 0.74.
        XCTAssertEqual(r.aucMeans[2]!, 0.6925, accuracy: 1e-12)
        XCTAssertEqual(r.bestMultiplier, Self.grid[1])
        XCTAssertEqual(r.bestAUCMean!, 0.74, accuracy: 1e-12)
        // Sample deviation of 0.75, 0.73, 0.75, 0.73: sqrt(4 · 0.01² / 3).
        XCTAssertEqual(r.bestAUCStandardDeviation!, (4 * 0.0001 / 3).squareRoot(), accuracy: 1e-12)
        // A missing or non-finite AUC counts as 0.5.
        let cell = StabilityCell(method: "m", multiplier: 1, learningRate: 1,
                                 outcomes: [Self.run(diverged: true, auc: nil), Self.run(diverged: true, auc: .nan),
                                            Self.run(diverged: false, auc: 0.8)])
        XCTAssertEqual(cell.finalAUCs, [0.5, 0.5, 0.8])
    }

    func constructedSetting() -> StabilitySettingResult {
        let cells = Self.cells("adagrad", diverged: [0, 0, 1, 2, 4], aucs: [0.70, 0.74, 0.76, 0.7, 0.7])
            + Self.cells("adagrad_gc", diverged: [0, 0, 0, 1, 3], aucs: [0.70, 0.73, 0.74, 0.74, 0.7])
            + Self.cells("adagrad_agc", diverged: [0, 0, 0, 0, 0], aucs: [0.70, 0.70, 0.70, 0.7, 0.7])
            + Self.cells("clippy", diverged: [0, 0, 0, 0, 1], aucs: [0.70, 0.73, 0.74, 0.75, 0.75])
            + Self.cells("clippy_paper", diverged: [0, 0, 0, 1, 1], aucs: [0.70, 0.73, 0.74, 0.75, 0.75])
        return StabilitySettingResult(name: "constructed", cells: cells,
                                      methodOrder: ["adagrad", "adagrad_gc", "adagrad_agc", "clippy", "clippy_paper"])
    }

    func testClaimsOfAConstructedTable() {
        let claims = StabilityClaims.judge(constructedSetting())
        XCTAssertEqual(claims.count, 7)
        // Adagrad: half diverged at 2√2.
        XCTAssertEqual(claims[0].reproduced, true)
        // GC: edge 2 >= 2.
        XCTAssertEqual(claims[1].reproduced, true)
        // AGC at 2x: no divergence, AUC 0.70 < Adagrad's best 0.74 − 0.0115.
        XCTAssertEqual(claims[2].reproduced, true)
        // clippy: edge 2√2 >= 2, best 0.75 >= 0.74 − std; 2√2 = 2 × √2 (Adagrad's edge).
        XCTAssertEqual(claims[3].reproduced, true)
        XCTAssertEqual(claims[4].reproduced, true, claims[4].evidence)
        // clippy_paper: edge 2 < 2 × √2.
        XCTAssertEqual(claims[5].reproduced, true)
        XCTAssertEqual(claims[6].reproduced, false, claims[6].evidence)
        XCTAssertTrue(claims[6].line(setting: "constructed").hasPrefix("constructed: NOT reproduced — clippy_paper"))
    }

    func testTheGoalCannotBeShownWhenAdagradNeverDiverged() {
        let cells = Self.cells("adagrad", diverged: [0, 0, 0, 0, 0], aucs: [0.7, 0.7, 0.7, 0.7, 0.7])
            + Self.cells("clippy", diverged: [0, 0, 0, 0, 0], aucs: [0.7, 0.7, 0.7, 0.7, 0.7])
        let claims = StabilityClaims.judge(StabilitySettingResult(name: "s", cells: cells, methodOrder: ["adagrad", "clippy"]))
        XCTAssertEqual(claims[0].reproduced, false, "Adagrad never diverged")
        XCTAssertNil(claims[1].reproduced, "no GC in the sweep")
        XCTAssertEqual(claims[3].reproduced, true)
        XCTAssertEqual(claims[4].reproduced, false)
        XCTAssertTrue(claims[4].evidence.contains("never diverged"), claims[4].evidence)
    }

    func testTableTextMarksAnOpenEdge() {
        let cells = Self.cells("clippy", diverged: [0, 0, 0, 0, 0], aucs: [0.7, 0.7, 0.7, 0.7, 0.7])
        let t = StabilitySettingResult(name: "s", cells: cells, methodOrder: ["clippy"]).tableRows
        XCTAssertEqual(t.header, ["method", "1x", "1.41x", "2x", "2.83x", "4x", "edge", "half", "best AUC (mean ± std @ lr)",
                                  "micro", "no-learn"])
        XCTAssertEqual(Array(t.rows[0][1...7]), ["0/4", "0/4", "0/4", "0/4", "0/4", "≥4x", "—"])
        XCTAssertEqual(t.rows[0][9], "20")
    }

    // MARK: the last line and the figures

    func testTheLastJSONLineHasTheIssueShape() throws {
        let line = try StabilitySweepJSON.line(settings: [constructedSetting()], full: false)
        XCTAssertFalse(line.contains("\n"))
        let object = try XCTUnwrap(JSONSerialization.jsonObject(with: Data(line.utf8)) as? [String: Any])
        XCTAssertEqual(Set(object.keys), ["settings", "full"])
        XCTAssertEqual(object["full"] as? Bool, false)
        let settings = try XCTUnwrap(object["settings"] as? [[String: Any]])
        XCTAssertEqual(settings.count, 1)
        XCTAssertEqual(Set(settings[0].keys), ["name", "methods"])
        XCTAssertEqual(settings[0]["name"] as? String, "constructed")
        let methods = try XCTUnwrap(settings[0]["methods"] as? [[String: Any]])
        XCTAssertEqual(methods.map { $0["method"] as? String }, ["adagrad", "adagrad_gc", "adagrad_agc", "clippy", "clippy_paper"])
        for m in methods {
            XCTAssertEqual(Set(m.keys), ["method", "stability_edge", "half_divergence", "best_auc_mean", "best_auc_std",
                                         "best_multiplier"])
        }
        XCTAssertEqual(methods[0]["stability_edge"] as? Double ?? 0, 2.0.squareRoot(), accuracy: 1e-12)
        XCTAssertEqual(methods[0]["half_divergence"] as? Double ?? 0, 2 * 2.0.squareRoot(), accuracy: 1e-12)
        XCTAssertTrue(methods[2]["half_divergence"] is NSNull, "AGC never had half its seeds diverge")
        XCTAssertEqual(methods[0]["best_auc_mean"] as? Double ?? 0, 0.74, accuracy: 1e-12)
    }

    func testStabilityHTMLIsWellFormedWithOneLinePerMethod() throws {
        let result = constructedSetting()
        let (header, rows) = result.tableRows
        let setting = StabilitySweepDocument.Setting(
            name: "constructed", description: "a <constructed> & checked setting",
            divergedFraction: result.methods.map {
                .init(method: $0.method, multipliers: $0.multipliers,
                      values: zip($0.diverged, $0.runs).map { Double($0.0) / Double($0.1) })
            },
            meanAUC: result.methods.map { .init(method: $0.method, multipliers: $0.multipliers, values: $0.aucMeans) },
            tableHeader: header, tableRows: rows,
            claims: StabilityClaims.judge(result).map { $0.line(setting: "constructed") },
            links: [("report", "report-constructed.html")])
        let html = StabilitySweepDocument(title: "Stability & sweep", notes: ["k = 3, n = 100"], settings: [setting]).render()
        let xml = try ReportXML(html: html)
        let methods = ["adagrad", "adagrad_gc", "adagrad_agc", "clippy", "clippy_paper"]
        XCTAssertEqual(try xml.seriesNames(in: "diverged-0"), methods)
        XCTAssertEqual(try xml.seriesNames(in: "auc-0"), methods)
        XCTAssertEqual(try xml.nodes("//*[local-name()='svg']").count, 2)
        XCTAssertEqual(try xml.nodes("//*[local-name()='tr']").count, 1 + methods.count)
        XCTAssertTrue(try xml.text(of: "setting-constructed").contains("a <constructed> & checked setting"))
        // Five points per line, one per multiplier.
        let counts = try xml.nodes("//*[@id='diverged-0']//*[@data-series]")
            .compactMap { ReportXML.attribute("data-points", of: $0) }
        XCTAssertEqual(counts, Array(repeating: "5", count: 5))
    }
}
