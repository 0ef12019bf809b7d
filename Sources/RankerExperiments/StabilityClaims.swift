import Foundation

/// The Clippy paper's stability claims (Table 2 and §5, as ALGORITHMS.md
/// 4.2 summarises them) judged on one setting's results, each reproduced or
/// not with the numbers that decide it. Methods are found by their names in
/// the experiment file: `adagrad`, `adagrad_gc`, `adagrad_agc`, `clippy`
/// (the `project` preset), `clippy_paper`.
///
/// The rules ("edge" is `StabilityMethodResult.stabilityEdge`, nil counts as
/// 0; "best" the best mean final AUC over multipliers, "std" its standard
/// deviation over seeds):
/// 1. *Adagrad diverges as the learning rate grows*: at least half of
///    Adagrad's seeds diverge at some multiplier of the grid.
/// 2. *GC survives about 2× the base rate*: GC's edge ≥ 2.
/// 3. *AGC degrades at 2×*: at 2×, AGC has a diverged seed, or its mean
///    AUC is below Adagrad's best − std.
/// 4. *Clippy trains at 2× and beyond with equal or better AUC* (each Clippy
///    preset): its edge ≥ 2 and its best ≥ Adagrad's best − std.
/// 5. *The project's goal* (each Clippy preset): its edge ≥ 2 × Adagrad's
///    edge, and its best ≥ Adagrad's best − std. Not reproducible when
///    Adagrad never diverged in the grid (its edge is a lower bound).
public struct StabilityClaim: Codable, Equatable, Sendable {
    public var claim: String
    /// nil: cannot be judged (a method is missing from the sweep).
    public var reproduced: Bool?
    public var evidence: String

    public init(claim: String, reproduced: Bool?, evidence: String) {
        self.claim = claim
        self.reproduced = reproduced
        self.evidence = evidence
    }

    /// `setting: reproduced — claim (evidence)`.
    public func line(setting: String) -> String {
        let verdict = reproduced.map { $0 ? "reproduced" : "NOT reproduced" } ?? "not judged"
        return "\(setting): \(verdict) — \(claim): \(evidence)"
    }
}

public enum StabilityClaims {
    /// Multipliers equal up to rounding (√2 · √2 is 2 within 1e-9).
    static func same(_ a: Double, _ b: Double) -> Bool { abs(a - b) <= 1e-9 * max(abs(a), abs(b)) }
    static func atLeast(_ a: Double, _ b: Double) -> Bool { a >= b || same(a, b) }

    static func x(_ v: Double?) -> String { v.map { StabilityExperiment.format($0) + "x" } ?? "none" }
    static func edge(_ m: StabilityMethodResult) -> String {
        m.stabilityEdge.map { (m.edgeIsOpen ? "≥" : "") + StabilityExperiment.format($0) + "x" }
            ?? "<" + x(m.multipliers.first)
    }
    static func auc(_ v: Double?) -> String { v.map { String(format: "%.4f", $0) } ?? "—" }
    static func best(_ m: StabilityMethodResult) -> String {
        "best AUC \(auc(m.bestAUCMean)) ± \(auc(m.bestAUCStandardDeviation)) at \(x(m.bestMultiplier))"
    }

    /// The claims judged on `result`.
    public static func judge(_ result: StabilitySettingResult) -> [StabilityClaim] {
        var claims: [StabilityClaim] = []
        let adagrad = result.method("adagrad")
        func missing(_ claim: String, _ names: String) -> StabilityClaim {
            StabilityClaim(claim: claim, reproduced: nil, evidence: "needs \(names) in the sweep")
        }

        let c1 = "plain Adagrad diverges as the learning rate grows"
        if let a = adagrad {
            let per = zip(a.multipliers, zip(a.diverged, a.runs)).map { "\(x($0.0)) \($0.1.0)/\($0.1.1)" }
            claims.append(StabilityClaim(claim: c1, reproduced: a.halfDivergence != nil,
                evidence: "half of the seeds diverged from \(x(a.halfDivergence)); edge \(edge(a)); diverged "
                    + per.joined(separator: ", ")))
        } else { claims.append(missing(c1, "adagrad")) }

        let c2 = "Adagrad+GC survives about 2x the base rate"
        if let g = result.method("adagrad_gc") {
            claims.append(StabilityClaim(claim: c2, reproduced: atLeast(g.stabilityEdge ?? 0, 2),
                evidence: "GC edge \(edge(g)) (Adagrad \(adagrad.map(edge) ?? "—")), \(best(g))"))
        } else { claims.append(missing(c2, "adagrad_gc")) }

        let c3 = "Adagrad+AGC degrades at 2x"
        if let g = result.method("adagrad_agc"), let a = adagrad {
            let divergedAt2 = g.divergedSeeds(at: 2)
            let aucAt2 = g.aucMean(at: 2)
            let bar = (a.bestAUCMean ?? .nan) - (a.bestAUCStandardDeviation ?? 0)
            let degraded = (divergedAt2 ?? 0) > 0 || (aucAt2.map { $0 < bar } ?? false)
            claims.append(StabilityClaim(claim: c3, reproduced: divergedAt2 == nil ? nil : degraded,
                evidence: "AGC at 2x: \(divergedAt2.map(String.init) ?? "—")/\(g.runs.first ?? 0) diverged, mean AUC "
                    + "\(auc(aucAt2)) vs Adagrad's best − std \(auc(bar.isFinite ? bar : nil))"))
        } else { claims.append(missing(c3, "adagrad and adagrad_agc")) }

        for name in ["clippy", "clippy_paper"] {
            let c4 = "\(name) trains at 2x and beyond with equal or better AUC"
            let c5 = "\(name) stability edge >= 2x Adagrad's, best AUC >= Adagrad's best − 1 std (our goal)"
            guard let c = result.method(name), let a = adagrad else {
                claims.append(missing(c4, "adagrad and \(name)"))
                claims.append(missing(c5, "adagrad and \(name)"))
                continue
            }
            let bar = (a.bestAUCMean ?? .nan) - (a.bestAUCStandardDeviation ?? 0)
            let aucHolds = (c.bestAUCMean ?? -.infinity) >= bar
            let vsAdagrad = "\(best(c)) vs Adagrad's \(auc(a.bestAUCMean)) − \(auc(a.bestAUCStandardDeviation))"
            claims.append(StabilityClaim(claim: c4, reproduced: atLeast(c.stabilityEdge ?? 0, 2) && aucHolds,
                evidence: "edge \(edge(c)); " + vsAdagrad))
            let wide = !a.edgeIsOpen && c.stabilityEdge != nil && atLeast(c.stabilityEdge ?? 0, 2 * (a.stabilityEdge ?? 0))
            claims.append(StabilityClaim(claim: c5, reproduced: wide && aucHolds,
                evidence: "edge \(edge(c)) vs Adagrad \(edge(a))"
                    + (a.edgeIsOpen ? " (Adagrad never diverged in the grid: no ratio can be shown)" : "")
                    + "; " + vsAdagrad))
        }
        return claims
    }
}
