import Foundation
@testable import Ranker

/// `metrics.json`: AUC cases (ties, perfect, inverted, all tied, one class →
/// null) and GAUC cases (value, users and impressions used), ALGORITHMS.md 2.
/// Values at the float64 tolerance; the counts of users and impressions exactly.
enum GoldenMetrics {
    static func check(_ json: GoldenValue, _ checker: GoldenChecker) throws {
        let d = GoldenTolerance.double
        for c in json["auc"].array {
            let name = c["name"].string
            let value = try Metrics.auc(scores: c["score"].doubles, labels: c["y"].doubles)
            checker.close(value, c["auc"].double, rtol: d.rtol, atol: d.atol, "auc \(name)")
        }
        for c in json["gauc"].array {
            let name = c["name"].string
            let result = try Metrics.gauc(scores: c["score"].doubles, labels: c["y"].doubles, users: c["user"].ints)
            checker.close(result.value, c["gauc"].double, rtol: d.rtol, atol: d.atol, "gauc \(name)")
            checker.equal(result.usersUsed, c["users_used"].int, "gauc \(name) users_used")
            checker.equal(result.impressionsUsed, c["impressions_used"].int, "gauc \(name) impressions_used")
        }
    }
}
