import Foundation

/// Which tensors moved when a stability event fired: the answer to "what
/// blew up?" that a loss curve alone does not give. Attached to every
/// `StabilityEvent` the trainer writes (telemetry `event` lines, the console
/// line, the HTML report's event table).
///
/// * `largestUpdateRatio`: the tensor whose last applied update was largest
///   against its weights, `‖Δw‖ / ‖w‖` (`w` before the update), measured on
///   the update of step `updateStep` — the last update applied before the
///   event, i.e. the one that produced the weights whose loss moved. For an
///   embedding table both norms are over the rows the update touched.
/// * `largestGradientRatio`: the tensor whose gradient at the event's step is
///   largest against its weights, `‖g‖ / ‖w‖` (embedding tables: touched rows).
///
/// Tensors whose weights are all zero (a bias at its start) have no ratio and
/// are left out; a NaN ratio (non-finite gradient or update) counts as the largest.
///
/// Made by the trainer (`UpdateRatioTracker`, with the memberwise
/// initializers) and read back from telemetry; not built by users.
public struct StabilityDiagnosis: Codable, Equatable, Sendable {
    /// A tensor and its ratio.
    public struct TensorRatio: Codable, Equatable, Sendable {
        public var tensor: String
        public var ratio: Double
    }

    /// The step whose update `largestUpdateRatio` measures (`nil`: no update applied yet).
    public var updateStep: Int?
    public var largestUpdateRatio: TensorRatio?
    public var largestGradientRatio: TensorRatio?

    /// The largest of `ratios` (NaN first), by tensor name in `names`; nil ratios are skipped.
    static func largest(_ ratios: [Double?], names: [String]) -> TensorRatio? {
        var best: TensorRatio?
        for (i, r) in ratios.enumerated() {
            guard let r else { continue }
            if r.isNaN { return TensorRatio(tensor: names[i], ratio: r) }
            if best.map({ r > $0.ratio }) ?? true { best = TensorRatio(tensor: names[i], ratio: r) }
        }
        return best
    }

    /// The text of the console line: `largest update/weight experts.0.W 3.1e+02 (update of step 11);
    /// largest gradient/weight embedding.user 2.0e+20`.
    public var summary: String {
        var parts: [String] = []
        if let u = largestUpdateRatio {
            parts.append("largest update/weight \(u.tensor) \(Self.format(u.ratio))"
                         + (updateStep.map { " (update of step \($0))" } ?? ""))
        }
        if let g = largestGradientRatio { parts.append("largest gradient/weight \(g.tensor) \(Self.format(g.ratio))") }
        return parts.joined(separator: "; ")
    }

    static func format(_ v: Double) -> String {
        v.isFinite ? String(format: "%.3g", v) : "\(v)"
    }
}
