import Foundation
import XCTest
@testable import Ranker
@testable import RankerExperiments

/// How `stability --ranks N` shares a setting's trials out and puts their
/// outcomes back in the sequential order, and the bytes the ranks exchange.
final class StabilityTrialSplitTests: XCTestCase {
    static let methods = ["a", "b"].map { StabilityExperiment.Method(name: $0, optimizer: OptimizerConfiguration(AdagradRule.self, configuration: AdagradConfiguration())) }

    static func outcome(_ auc: Double?, best: [Double] = [0.7, .nan]) -> StabilityTrialOutcome {
        StabilityTrialOutcome(diverged: false, neverLearned: false, cause: nil, divergenceStep: nil, divergenceMessage: nil,
                              steps: 10, spikes: 0, testAUC: auc, validAUCs: [0.6], bestTaskAUCs: best, seconds: 1)
    }

    func testTheTrialsAreMethodsByMultipliersBySeedsSeedFastest() {
        let split = StabilityTrialSplit(methods: Self.methods, multipliers: [1, 2, 4], seeds: [7, 8])
        XCTAssertEqual(split.trials.count, 12)
        XCTAssertEqual(split.trials.map(\.index), Array(0..<12))
        XCTAssertEqual(split.trials[0..<4].map(\.seed), [7, 8, 7, 8])
        XCTAssertEqual(split.trials[0..<6].map(\.multiplier), [1, 1, 2, 2, 4, 4])
        XCTAssertEqual(split.trials.map(\.method.name), Array(repeating: "a", count: 6) + Array(repeating: "b", count: 6))
    }

    func testRoundRobinGivesEveryTrialToExactlyOneRank() {
        let split = StabilityTrialSplit(methods: Self.methods, multipliers: [1, 2, 4], seeds: [7, 8])
        XCTAssertEqual(split.trials(rank: 0, of: 3).map(\.index), [0, 3, 6, 9])
        XCTAssertEqual(split.trials(rank: 2, of: 3).map(\.index), [2, 5, 8, 11])
        XCTAssertEqual(split.trials(rank: 0, of: 1).map(\.index), Array(0..<12))
        // More ranks than trials: the last ranks have none.
        XCTAssertEqual(split.trials(rank: 12, of: 13).count, 0)
    }

    func testMergingTheRanksPartsRestoresTheSequentialOrder() throws {
        let split = StabilityTrialSplit(methods: Self.methods, multipliers: [1, 2], seeds: [1])
        // Outcome of trial i has test AUC i / 10; rank 1's part arrives first.
        let parts = (0..<2).map { r in
            StabilityTrialResults(indices: split.trials(rank: r, of: 2).map(\.index),
                                  outcomes: split.trials(rank: r, of: 2).map { Self.outcome(Double($0.index) / 10) })
        }
        let merged = try split.merge([parts[1], parts[0]])
        XCTAssertEqual(merged.map(\.testAUC), [0, 0.1, 0.2, 0.3])
    }

    func testAMissingOrDuplicatedTrialIsAnError() {
        let split = StabilityTrialSplit(methods: Self.methods, multipliers: [1], seeds: [1])
        let zero = StabilityTrialResults(indices: [0], outcomes: [Self.outcome(0.5)])
        XCTAssertThrowsError(try split.merge([zero])) { XCTAssertTrue("\($0)".contains("trial 1 has no outcome"), "\($0)") }
        XCTAssertThrowsError(try split.merge([zero, zero])) { XCTAssertTrue("\($0)".contains("two outcomes"), "\($0)") }
        let outside = StabilityTrialResults(indices: [5], outcomes: [Self.outcome(0.5)])
        XCTAssertThrowsError(try split.merge([zero, outside])) { XCTAssertTrue("\($0)".contains("outside 0..<2"), "\($0)") }
    }

    /// The bytes one rank sends decode to the same outcomes, bit for bit: a NaN
    /// AUC, infinities and doubles whose shortest decimal form is long.
    func testTheExchangedBytesCarryEveryValueExactly() throws {
        let awkward = [0.1 + 0.2, 1.0 / 3.0, .leastNonzeroMagnitude, .pi, .infinity, -.infinity, .nan]
        let outcomes = awkward.map { Self.outcome($0, best: [$0, .nan]) } + [Self.outcome(nil)]
        let sent = StabilityTrialResults(indices: Array(0..<outcomes.count), outcomes: outcomes)
        let received = try StabilityTrialResults.decode(try sent.encoded())
        XCTAssertEqual(received.indices, sent.indices)
        for (a, b) in zip(received.outcomes, sent.outcomes) {
            XCTAssertEqual(a.testAUC?.bitPattern, b.testAUC?.bitPattern)
            XCTAssertEqual(a.bestTaskAUCs.map(\.bitPattern), b.bestTaskAUCs.map(\.bitPattern))
            XCTAssertEqual(a.validAUCs, b.validAUCs)
            XCTAssertEqual(a.steps, b.steps)
        }
    }
}
