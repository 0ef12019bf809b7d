import Foundation
import XCTest
@testable import Ranker

/// The behaviour history of the synthetic click log (`SyntheticClickLogHistory.swift`),
/// checked through what the log writes — the lists, the item and category
/// columns, the labels — against the generative model's claims: each
/// history term moves the labels as far as `history_signal` says, the
/// interest is the user's when `history_session` is 0 and the impression's
/// when it is 1, and the log is a function of its seed.
final class SyntheticHistoryTests: XCTestCase {
    func config(signal: Double = 1, focus: Double = 0.3, preference: Double = 0.5, session: Double = 0.5,
                seed: UInt64 = 1) -> SyntheticClickLogConfig {
        var c = SyntheticClickLogConfig()
        c.seed = seed
        c.rows = 20_000
        c.users = 200
        c.items = 300
        c.categories = 20
        c.historyLength = 10
        c.historySignal = signal
        c.historyFocus = focus
        c.historyPreference = preference
        c.historySession = session
        return c
    }

    /// Per row: the shown item's category, and the categories of the history's
    /// items (looked up through the rows where each item was shown).
    struct Histories {
        var shown: [Int32] = []
        var lists: [[Int32]] = []
    }

    func histories(_ log: SyntheticClickLog) throws -> Histories {
        let d = log.dataset
        var categoryOfItem: [Int32: Int32] = [:]
        for r in 0..<d.count { categoryOfItem[d.ids[1][r]] = d.ids[2][r] }
        let history = try XCTUnwrap(d.sequences.first)
        var result = Histories()
        var unknown = 0, total = 0
        for r in 0..<d.count {
            result.shown.append(d.ids[2][r])
            result.lists.append(history.list(r).compactMap { item in
                total += 1
                if categoryOfItem[item] == nil { unknown += 1 }
                return categoryOfItem[item]
            })
        }
        XCTAssertLessThan(Double(unknown), 0.01 * Double(total), "almost every history item was also shown")
        return result
    }

    /// Term B: history items in the shown item's category; with
    /// `history_preference` 0 only B moves the scores, so the count predicts
    /// the labels with the history's signal and not without it.
    func testMatchesOfTheShownCategoryPredictTheLabels() throws {
        func aucOfMatches(signal: Double) throws -> Double {
            let generated = try SyntheticClickLog(config: config(signal: signal, preference: 0))
            let h = try histories(generated)
            let matches = h.lists.indices.map { r in Float(h.lists[r].filter { $0 == h.shown[r] }.count) }
            return SyntheticClickLogTests.auc(scores: matches, labels: generated.dataset.labels[0])
        }
        let with = try aucOfMatches(signal: 1), without = try aucOfMatches(signal: 0)
        XCTAssertGreaterThan(with, without + 0.05, "signal 1: \(with), signal 0: \(without)")
    }

    /// Term A: with `history_preference` 1, no focus and a fresh interest per
    /// impression (`history_session` 1), the labels follow the interest's
    /// affinity to the shown category, which only the history's category mix
    /// reveals: P(c | s) ∝ w_c exp(κ α(s, c)), so
    /// log(share of the shown category in the list) − log(its share over all
    /// lists) estimates κ·α(s, c*) up to a constant, and it predicts the labels
    /// with the signal and not without it.
    func testTheHistorysCategoryMixRevealsTheInterestThatMovesTheLabels() throws {
        func aucOfInterest(signal: Double) throws -> Double {
            let generated = try SyntheticClickLog(config: config(signal: signal, focus: 0, preference: 1, session: 1))
            let h = try histories(generated)
            var overall = [Int32: Double]()
            var count = 0.0
            for list in h.lists { for c in list { overall[c, default: 0] += 1; count += 1 } }
            var scores: [Float] = [], labels: [Float] = []
            for r in h.lists.indices where !h.lists[r].isEmpty {
                let share = (Double(h.lists[r].filter { $0 == h.shown[r] }.count) + 0.5) / Double(h.lists[r].count + 1)
                let base = ((overall[h.shown[r]] ?? 0) + 0.5) / (count + 1)
                scores.append(Float(log(share) - log(base)))
                labels.append(generated.dataset.labels[0][r])
            }
            return SyntheticClickLogTests.auc(scores: scores, labels: labels)
        }
        let with = try aucOfInterest(signal: 1), without = try aucOfInterest(signal: 0)
        XCTAssertGreaterThan(with, without + 0.04, "signal 1: \(with), signal 0: \(without)")
    }

    /// The interest is the user's taste at `history_session` 0: two histories of
    /// the same user share categories more than those of two different users;
    /// at 1 it is drawn per impression and the user makes no difference.
    func testSessionShareDecidesWhetherTheInterestIsTheUsers() throws {
        func overlap(session: Double) throws -> (same: Double, different: Double) {
            let generated = try SyntheticClickLog(config: config(focus: 0, session: session))
            let h = try histories(generated)
            let users = try XCTUnwrap(generated.dataset.users)
            /// The cosine of two lists' category histograms.
            func cosine(_ a: [Int32], _ b: [Int32]) -> Double {
                var x = [Int32: Double](), y = [Int32: Double]()
                for c in a { x[c, default: 0] += 1 }
                for c in b { y[c, default: 0] += 1 }
                let dot = x.reduce(0) { $0 + $1.value * (y[$1.key] ?? 0) }
                let norms = (x.values.reduce(0) { $0 + $1 * $1 } * y.values.reduce(0) { $0 + $1 * $1 }).squareRoot()
                return dot / norms
            }
            var previous = [Int64: Int]()         // the user's last row with a non-empty history
            var same = [Double](), different = [Double]()
            var last: Int?
            for r in h.lists.indices where !h.lists[r].isEmpty {
                if let p = previous[users[r]] { same.append(cosine(h.lists[p], h.lists[r])) }
                if let l = last, users[l] != users[r] { different.append(cosine(h.lists[l], h.lists[r])) }
                previous[users[r]] = r
                last = r
            }
            return (same.reduce(0, +) / Double(same.count), different.reduce(0, +) / Double(different.count))
        }
        let taste = try overlap(session: 0), session = try overlap(session: 1)
        XCTAssertGreaterThan(taste.same, taste.different + 0.1, "session 0: \(taste)")
        XCTAssertEqual(session.same, session.different, accuracy: 0.02, "session 1: \(session)")
    }

    func testTheHistoryIsAFunctionOfTheSeed() throws {
        let a = try SyntheticClickLog(config: config()).dataset
        let b = try SyntheticClickLog(config: config()).dataset
        XCTAssertEqual(a.sequences, b.sequences)
        XCTAssertEqual(a.labels, b.labels)
        let c = try SyntheticClickLog(config: config(seed: 2)).dataset
        XCTAssertNotEqual(a.sequences, c.sequences)
    }
}
