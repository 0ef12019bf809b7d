import Foundation
import XCTest
@testable import Ranker

/// AUC and GAUC on the worked examples of ALGORITHMS.md and against a naive O(n²)
/// pair-count oracle on random data with many ties; log loss and RMSE against
/// their definitions; the documented edge behaviour.
final class MetricsTests: XCTestCase {
    // MARK: - Oracles

    /// Fraction of (positive, negative) pairs ordered correctly, ties ½.
    private func pairCountAUC(_ scores: [Double], _ labels: [Double]) -> Double {
        var points = 0.0, pairs = 0.0
        for i in scores.indices where labels[i] == 1 {
            for j in scores.indices where labels[j] == 0 {
                pairs += 1
                if scores[i] > scores[j] { points += 1 } else if scores[i] == scores[j] { points += 0.5 }
            }
        }
        return pairs > 0 ? points / pairs : .nan
    }

    /// Per-user loop over the pair-count AUC, skipping single-class users.
    private func pairCountGAUC(_ scores: [Double], _ labels: [Double], _ users: [Int]) -> GAUCResult {
        var weighted = 0.0, usersUsed = 0, impressionsUsed = 0
        for user in Set(users) {
            let rows = users.indices.filter { users[$0] == user }
            let auc = pairCountAUC(rows.map { scores[$0] }, rows.map { labels[$0] })
            if auc.isNaN { continue }
            weighted += Double(rows.count) * auc
            usersUsed += 1
            impressionsUsed += rows.count
        }
        return GAUCResult(value: impressionsUsed > 0 ? weighted / Double(impressionsUsed) : .nan,
                          usersUsed: usersUsed, impressionsUsed: impressionsUsed)
    }

    /// Scores on a coarse grid (many exact ties) and random labels.
    private func randomData(count: Int, seed: UInt64, levels: Int = 7, positiveRate: Double = 0.4)
        -> (scores: [Double], labels: [Double]) {
        var rng = RandomGenerator(seed: seed)
        var scores: [Double] = [], labels: [Double] = []
        for _ in 0..<count {
            scores.append(Double(rng.nextInt(below: levels)) * 0.25 - 1)
            labels.append(rng.nextDouble() < positiveRate ? 1 : 0)
        }
        return (scores, labels)
    }

    // MARK: - AUC

    func testAUCWorkedExample() throws {
        // ALGORITHMS.md 2.1: 5.5 of 9 pairs.
        let auc = try Metrics.auc(scores: [0.9, 0.9, 0.5, 0.3, 0.3, 0.3], labels: [1.0, 0, 1, 0, 1, 0])
        XCTAssertEqual(auc, 5.5 / 9, accuracy: 1e-15)
        XCTAssertEqual(try Metrics.auc(scores: [0.1, 0.2, 0.3, 0.4], labels: [0.0, 0, 1, 1]), 1)
        XCTAssertEqual(try Metrics.auc(scores: [0.1, 0.2, 0.3, 0.4], labels: [1.0, 1, 0, 0]), 0)
        XCTAssertEqual(try Metrics.auc(scores: [Float](repeating: 0.5, count: 5), labels: [Float]([1, 0, 0, 1, 0])), 0.5)
    }

    func testAUCMatchesPairCountOracleWithTies() throws {
        for (seed, count) in [(1, 2), (2, 25), (3, 200), (4, 777)] as [(UInt64, Int)] {
            let (scores, labels) = randomData(count: count, seed: seed)
            let expected = pairCountAUC(scores, labels)
            let value = try Metrics.auc(scores: scores, labels: labels)
            if expected.isNaN { XCTAssert(value.isNaN, "n=\(count)"); continue }
            XCTAssertEqual(value, expected, accuracy: 1e-12, "n=\(count)")
            // Float inputs (the grid is exact in Float) and slices give the same value.
            XCTAssertEqual(try Metrics.auc(scores: scores.map(Float.init), labels: labels.map(Float.init)), value)
            XCTAssertEqual(try Metrics.auc(scores: scores[...], labels: labels[...]), value)
        }
        // Continuous scores (hardly any ties).
        var rng = RandomGenerator(seed: 9)
        let scores = (0..<300).map { _ in rng.normal() }
        let labels = scores.map { s in rng.nextDouble() < 1 / (1 + exp(-2 * s)) ? 1.0 : 0.0 }
        XCTAssertEqual(try Metrics.auc(scores: scores, labels: labels), pairCountAUC(scores, labels), accuracy: 1e-12)
    }

    /// `-0.0` and `0.0` are equal, hence tied.
    func testSignedZerosTie() throws {
        XCTAssertEqual(try Metrics.auc(scores: [0.0, -0.0], labels: [1.0, 0]), 0.5)
        XCTAssertEqual(try Metrics.auc(scores: [-0.0, 0.0], labels: [1.0, 0]), 0.5)
    }

    func testAUCUndefinedWithOneClass() throws {
        XCTAssert(try Metrics.auc(scores: [0.2, 0.4, 0.1], labels: [1.0, 1, 1]).isNaN)
        XCTAssert(try Metrics.auc(scores: [0.2, 0.4], labels: [0.0, 0]).isNaN)
        XCTAssert(try Metrics.auc(scores: [Double](), labels: [Double]()).isNaN)
    }

    func testAUCRejectsNonFiniteScoresAndNonBinaryLabels() {
        XCTAssertThrowsError(try Metrics.auc(scores: [0.1, .nan, 0.3], labels: [1.0, 0, 1])) { error in
            guard case let .nonFiniteScore(index, value)? = error as? MetricError else { return XCTFail("\(error)") }
            XCTAssertEqual(index, 1)
            XCTAssert(value.isNaN)
        }
        XCTAssertThrowsError(try Metrics.auc(scores: [Float.infinity, 0], labels: [Float]([1, 0]))) { error in
            XCTAssertEqual(error as? MetricError, .nonFiniteScore(index: 0, value: .infinity))
        }
        XCTAssertThrowsError(try Metrics.auc(scores: [0.1, 0.2], labels: [1.0, 0.5])) { error in
            XCTAssertEqual(error as? MetricError, .nonBinaryLabel(index: 1, value: 0.5))
        }
    }

    // MARK: - GAUC

    func testGAUCWorkedExample() throws {
        // ALGORITHMS.md 2.2: users 2 (all positive) and 4 (one negative) skipped;
        // (3 · 0.75 + 4 · 0.875) / 7.
        let result = try Metrics.gauc(scores: [0.8, 0.3, 0.8, 0.5, 0.1, 0.2, 0.9, 0.4, 0.4, 0.7],
                                      labels: [1.0, 0, 0, 1, 1, 0, 1, 0, 1, 0],
                                      users: [1, 1, 1, 2, 2, 3, 3, 3, 3, 4])
        XCTAssertEqual(result.value, (3 * 0.75 + 4 * 0.875) / 7, accuracy: 1e-15)
        XCTAssertEqual(result.usersUsed, 2)
        XCTAssertEqual(result.impressionsUsed, 7)
    }

    func testGAUCMatchesPerUserOracle() throws {
        for (seed, count, userCount) in [(11, 40, 5), (12, 300, 25), (13, 1000, 120)] as [(UInt64, Int, Int)] {
            let (scores, labels) = randomData(count: count, seed: seed, levels: 5)
            var rng = RandomGenerator(seed: seed + 100)
            let users = (0..<count).map { _ in rng.nextInt(below: userCount) * 7919 - 50_000 }  // negative ids too
            let expected = pairCountGAUC(scores, labels, users)
            let result = try Metrics.gauc(scores: scores, labels: labels, users: users)
            XCTAssertEqual(result.value, expected.value, accuracy: 1e-12, "n=\(count)")
            XCTAssertEqual(result.usersUsed, expected.usersUsed)
            XCTAssertEqual(result.impressionsUsed, expected.impressionsUsed)
            XCTAssertLessThan(result.usersUsed, userCount + 1)
            // User ids as Int64 and scores as Float give the same result.
            let again = try Metrics.gauc(scores: scores.map(Float.init), labels: labels, users: users.map(Int64.init))
            XCTAssertEqual(again, result)
        }
    }

    func testGAUCWithNoQualifyingUserIsNaN() throws {
        let result = try Metrics.gauc(scores: [0.1, 0.2, 0.3], labels: [1.0, 1, 0], users: [1, 1, 2])
        XCTAssert(result.value.isNaN)
        XCTAssertEqual(result.usersUsed, 0)
        XCTAssertEqual(result.impressionsUsed, 0)
        XCTAssert(try Metrics.gauc(scores: [Double](), labels: [Double](), users: [Int]()).value.isNaN)
        XCTAssertThrowsError(try Metrics.gauc(scores: [0.1, -.infinity], labels: [1.0, 0], users: [1, 1]))
    }

    // MARK: - Log loss and RMSE

    func testLogLossOnLogits() {
        let logits: [Float] = [-2, 0.5, 3, -0.25]
        let labels: [Float] = [0, 1, 0, 1]
        var expected = 0.0
        for i in 0..<4 {
            let p = 1 / (1 + exp(-Double(logits[i])))
            expected -= Double(labels[i]) * log(p) + (1 - Double(labels[i])) * log(1 - p)
        }
        XCTAssertEqual(Metrics.logLoss(logits: logits, labels: labels), expected / 4, accuracy: 1e-14)
        // Confidently wrong: the true loss, not a clamped one.
        XCTAssertEqual(Metrics.logLoss(logits: [200.0, -200.0], labels: [0.0, 1.0]), 200, accuracy: 1e-12)
        XCTAssert(Metrics.logLoss(logits: [Double](), labels: [Double]()).isNaN)
        XCTAssert(Metrics.logLoss(logits: [0.0, .nan], labels: [0.0, 1.0]).isNaN)
    }

    func testRootMeanSquaredError() {
        XCTAssertEqual(Metrics.rootMeanSquaredError(predictions: [1.0, 2, 3], targets: [1.0, 1, 1]), (5.0 / 3).squareRoot(),
                       accuracy: 1e-15)
        XCTAssertEqual(Metrics.rootMeanSquaredError(predictions: [Float(2.5)], targets: [Float(-0.5)]), 3)
        XCTAssert(Metrics.rootMeanSquaredError(predictions: [Double](), targets: [Double]()).isNaN)
    }

    /// 100k impressions (the size of one evaluation) in a single sort: a smoke
    /// test that the O(n log n) path is used; the value against the
    /// closed form of well-separated classes.
    func testLargeEvaluation() throws {
        let n = 100_000
        var scores = [Float](repeating: 0, count: n), labels = [Float](repeating: 0, count: n)
        var users = [Int](repeating: 0, count: n)
        for i in 0..<n {
            labels[i] = i % 4 == 0 ? 1 : 0
            scores[i] = labels[i] == 1 ? Float(i % 1000) + 1000 : Float(i % 1000)  // every positive above every negative
            users[i] = i % 4999  // 4999 ≡ 3 (mod 4): every user sees both classes
        }
        XCTAssertEqual(try Metrics.auc(scores: scores, labels: labels), 1)
        let g = try Metrics.gauc(scores: scores, labels: labels, users: users)
        XCTAssertEqual(g.value, 1)
        XCTAssertEqual(g.usersUsed, 4999)
        XCTAssertEqual(g.impressionsUsed, n)
    }
}
