import Foundation
import XCTest
@testable import Ranker

/// The synthetic click log: determinism, the correlation knob against its
/// closed form, positive rates, drift, and that the labels carry a signal a
/// model can learn.
final class SyntheticClickLogTests: XCTestCase {
    func small(seed: UInt64 = 1, rows: Int = 20_000, correlation: Double = 0.5) -> SyntheticClickLogConfig {
        var c = SyntheticClickLogConfig()
        c.seed = seed
        c.rows = rows
        c.users = 500
        c.items = 2_000
        c.taskCorrelation = correlation
        return c
    }

    /// Exact AUC with ties averaged (Mann–Whitney over sorted scores).
    static func auc(scores: [Float], labels: [Float]) -> Double {
        let order = scores.indices.sorted { scores[$0] < scores[$1] }
        var rankSum = 0.0
        var positives = 0.0
        var i = 0
        while i < order.count {
            var j = i
            while j + 1 < order.count && scores[order[j + 1]] == scores[order[i]] { j += 1 }
            let averageRank = Double(i + j) / 2 + 1
            for k in i...j where labels[order[k]] == 1 { rankSum += averageRank; positives += 1 }
            i = j + 1
        }
        let negatives = Double(scores.count) - positives
        return (rankSum - positives * (positives + 1) / 2) / (positives * negatives)
    }

    static func pearson(_ a: [Float], _ b: [Float]) -> Double {
        let n = Double(a.count)
        let ma = a.reduce(0) { $0 + Double($1) } / n, mb = b.reduce(0) { $0 + Double($1) } / n
        var sab = 0.0, saa = 0.0, sbb = 0.0
        for k in a.indices {
            let x = Double(a[k]) - ma, y = Double(b[k]) - mb
            sab += x * y; saa += x * x; sbb += y * y
        }
        return sab / (saa * sbb).squareRoot()
    }

    func testAucHelperOnAHandExample() {
        // Pairs (pos, neg): (0.8 > 0.1) (0.8 > 0.4) (0.4 = 0.4 → ½) (0.4 > 0.1): 3.5 / 4.
        XCTAssertEqual(Self.auc(scores: [0.1, 0.4, 0.8, 0.4], labels: [0, 0, 1, 1]), 0.875)
    }

    func testSameSeedGivesBitwiseTheSameData() throws {
        let a = try SyntheticClickLog(config: small(rows: 3_000)).dataset
        let b = try SyntheticClickLog(config: small(rows: 3_000)).dataset
        XCTAssertEqual(a.ids, b.ids)
        XCTAssertEqual(a.dense.map { $0.map(\.bitPattern) }, b.dense.map { $0.map(\.bitPattern) })
        XCTAssertEqual(a.labels, b.labels)
        XCTAssertEqual(a.users, b.users)
        XCTAssertEqual(a.days, b.days)
        XCTAssertEqual(a.splits, b.splits)
        let c = try SyntheticClickLog(config: small(seed: 2, rows: 3_000)).dataset
        XCTAssertNotEqual(a.ids, c.ids)
        XCTAssertNotEqual(a.labels, c.labels)
    }

    func testShapesAndDefaults() throws {
        let log = try SyntheticClickLog(config: small(rows: 5_000))
        let d = log.dataset
        XCTAssertEqual(d.count, 5_000)
        XCTAssertEqual(d.fields.map(\.name), ["user_id", "item_id", "category", "context_1", "context_2"])
        XCTAssertEqual(d.fields.map(\.vocabulary), [501, 2_001, 101, 25, 9])
        XCTAssertEqual(d.denseNames, ["dense_1", "dense_2", "dense_3", "dense_4"])
        XCTAssertEqual(d.tasks, [TaskSpec(name: "task_1", kind: .binary), TaskSpec(name: "task_2", kind: .binary)])
        XCTAssertEqual(d.splits.train.count + d.splits.valid.count + d.splits.test.count, 5_000)
        XCTAssertEqual(Double(d.splits.valid.count) / 5_000, 0.1, accuracy: 0.02)
        let batch = d.makeBatch(capacity: 8)
        d.fill(batch, rows: Array(d.splits.train.prefix(8)))
        XCTAssertEqual(batch.users.count, 8)
        XCTAssertEqual(batch.days, [Int32](repeating: 0, count: 8))
        // Zipf popularity: the most popular item (id 1) is far more frequent than the median one.
        let itemOne = d.ids[1].filter { $0 == 1 }.count
        let itemThousand = d.ids[1].filter { $0 == 1_000 }.count
        XCTAssertGreaterThan(itemOne, 20 * max(itemThousand, 1))
    }

    func testPositiveRatesAreControlled() throws {
        var c = small()
        c.positiveRates = [0.3, 0.05]
        let d = try SyntheticClickLog(config: c).dataset
        let all = Array(0..<d.count)
        XCTAssertEqual(d.labelMean(task: 0, rows: all), 0.3, accuracy: 0.01)
        XCTAssertEqual(d.labelMean(task: 1, rows: all), 0.05, accuracy: 0.005)
    }

    func testTaskDirectionsHaveTheConfiguredCosine() throws {
        var c = small(rows: 100, correlation: 0.3)
        c.tasks = 3
        c.days = 4
        c.driftPerDay = 0.2
        let log = try SyntheticClickLog(config: c)
        func dot(_ a: [Double], _ b: [Double]) -> Double { zip(a, b).reduce(0) { $0 + $1.0 * $1.1 } }
        for day in 0..<4 {
            for s in 0..<3 {
                let ws = log.taskDirection(task: s, day: day)
                XCTAssertEqual(dot(ws, ws), 1, accuracy: 1e-12)
                for t in (s + 1)..<3 { XCTAssertEqual(dot(ws, log.taskDirection(task: t, day: day)), 0.3, accuracy: 1e-12) }
                // Drift: the direction turns by day · drift_per_day.
                XCTAssertEqual(dot(ws, log.taskDirection(task: s, day: 0)), cos(0.2 * Double(day)), accuracy: 1e-12)
            }
        }
    }

    /// With linear scores, corr(ℓ_1, ℓ_2) estimates cos(w_1, w_2) = ρ; the
    /// label correlation grows with ρ.
    func testCorrelationKnobMovesScoreAndLabelCorrelation() throws {
        var labelCorrelations: [Double] = []
        for rho in [0.0, 0.5, 0.9] {
            let c = small(rows: 30_000, correlation: rho)
            let log = try SyntheticClickLog(config: c)
            XCTAssertEqual(Self.pearson(log.logits[0], log.logits[1]), rho, accuracy: 0.03, "ρ = \(rho)")
            labelCorrelations.append(Self.pearson(log.dataset.labels[0], log.dataset.labels[1]))
        }
        XCTAssertLessThan(abs(labelCorrelations[0]), 0.05)
        XCTAssertGreaterThan(labelCorrelations[1], labelCorrelations[0] + 0.1)
        XCTAssertGreaterThan(labelCorrelations[2], labelCorrelations[1] + 0.1)
    }

    func testLabelsCarryALearnableSignal() throws {
        let log = try SyntheticClickLog(config: small(rows: 40_000))
        let d = log.dataset
        for t in 0..<2 {
            // The generating logit itself ranks the labels well.
            XCTAssertGreaterThan(Self.auc(scores: log.logits[t], labels: d.labels[t]), 0.8)
            // A model-free learner sees it too: per-user and per-item label means
            // (smoothed) from the train rows score the valid rows well above chance.
            let prior = d.labelMean(task: t, rows: d.splits.train)
            func means(field: Int) -> [Int32: Double] {
                var sum: [Int32: Double] = [:], count: [Int32: Double] = [:]
                for r in d.splits.train { sum[d.ids[field][r], default: 0] += Double(d.labels[t][r]); count[d.ids[field][r], default: 0] += 1 }
                return sum.mapValues { $0 }.merging(count) { s, n in (s + 10 * prior) / (n + 10) }
            }
            let users = means(field: 0), items = means(field: 1)
            let scores = d.splits.valid.map { r -> Float in
                Float((users[d.ids[0][r]] ?? prior) + (items[d.ids[1][r]] ?? prior))
            }
            let auc = Self.auc(scores: scores, labels: d.splits.valid.map { d.labels[t][$0] })
            XCTAssertGreaterThan(auc, 0.6, "task \(t)")
        }
    }

    func testDriftChangesTheLabelRelationshipOverDays() throws {
        var c = small(rows: 40_000)
        c.days = 8
        c.driftPerDay = .pi / 8   // half a turn by day 8
        let log = try SyntheticClickLog(config: c)
        let d = log.dataset
        XCTAssertEqual(d.days?.first, 0)
        XCTAssertEqual(d.days?.last, 7)
        XCTAssertEqual(d.rowsByDay(Array(0..<d.count)).map { $0.rows.count }, [Int](repeating: 5_000, count: 8))
        // Day-0 and day-7 logits come from directions at cos(7π/8) < 0: a day-0 user/item
        // ranking would be inverted. Check it on the generating logits through the user means.
        let first = d.rowsByDay(Array(0..<d.count)).first!.rows
        let last = d.rowsByDay(Array(0..<d.count)).last!.rows
        var userLogitFirst: [Int32: (Double, Double)] = [:], userLogitLast: [Int32: (Double, Double)] = [:]
        for r in first { let u = d.ids[0][r]; let v = userLogitFirst[u] ?? (0, 0); userLogitFirst[u] = (v.0 + Double(log.logits[0][r]), v.1 + 1) }
        for r in last { let u = d.ids[0][r]; let v = userLogitLast[u] ?? (0, 0); userLogitLast[u] = (v.0 + Double(log.logits[0][r]), v.1 + 1) }
        let common = userLogitFirst.keys.filter { (userLogitFirst[$0]!.1 >= 20) && (userLogitLast[$0]?.1 ?? 0) >= 20 }
        XCTAssertGreaterThan(common.count, 5)
        let a = common.map { Float(userLogitFirst[$0]!.0 / userLogitFirst[$0]!.1) }
        let b = common.map { Float(userLogitLast[$0]!.0 / userLogitLast[$0]!.1) }
        XCTAssertLessThan(Self.pearson(a, b), 0)
    }

    func testConfigDecodingAndValidation() throws {
        let c = try JSONDecoder().decode(SyntheticClickLogConfig.self, from: Data(#"{"rows": 10, "task_correlation": 0.9}"#.utf8))
        var expected = SyntheticClickLogConfig()
        expected.rows = 10
        expected.taskCorrelation = 0.9
        XCTAssertEqual(c, expected)
        XCTAssertThrowsError(try JSONDecoder().decode(SyntheticClickLogConfig.self, from: Data(#"{"row": 10}"#.utf8)))
        var bad = SyntheticClickLogConfig()
        bad.taskCorrelation = 1.5
        XCTAssertThrowsError(try SyntheticClickLog(config: bad)) { error in
            XCTAssertEqual(error as? SchemaError, SchemaError(source: "synthetic", path: "task_correlation",
                                                              problem: .invalidValue("task_correlation must be in [0, 1], got 1.5")))
        }
        bad = SyntheticClickLogConfig()
        bad.positiveRates = [0.1, 0.2, 0.3]
        XCTAssertThrowsError(try SyntheticClickLog(config: bad))
    }

    func testOneMillionRowsTiming() throws {
        var c = SyntheticClickLogConfig()
        c.rows = 1_000_000
        let clock = ContinuousClock()
        var count = 0
        let elapsed = try clock.measure { count = try SyntheticClickLog(config: c).dataset.count }
        XCTAssertEqual(count, 1_000_000)
        print("synthetic click log: 1,000,000 rows generated in \(elapsed)")
    }
}
