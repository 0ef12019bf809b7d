/// Wall-clock time a `TrainingStep` spent in each phase, summed over the steps
/// taken while it was recording (`TrainingStep.phaseTimes` not `nil`).
/// Nanoseconds (`CLOCK_MONOTONIC`); one clock read per phase boundary.
public struct TrainingStepPhaseTimes: Codable, Equatable, Sendable {
    /// The phases of one step, in order.
    public enum Phase: String, Codable, CaseIterable, Sendable {
        /// Embedding lookup and model forward, up to the `B × T` logits.
        case forward
        /// Per-task losses and logit gradients, the balancer's weights and, for
        /// loss weighting, the weighted logit gradient.
        case losses
        /// The backward pass: one weighted pass, or the multi-gradient pass over
        /// `T·B` stacked rows (per-task gradients of every shared parameter).
        case backward
        /// The balancer's `combine` (Gram matrix, small solves, writing the
        /// combined shared gradient); zero for loss weighting.
        case combination
        /// The optimizer step and the balancer's `finishStep`.
        case update
    }

    public var forward: UInt64 = 0
    public var losses: UInt64 = 0
    public var backward: UInt64 = 0
    public var combination: UInt64 = 0
    public var update: UInt64 = 0
    /// Number of `computeGradients` calls recorded.
    public var steps: Int = 0

    public init() {}

    /// Adds `nanoseconds` to `phase`.
    public mutating func add(_ nanoseconds: UInt64, to phase: Phase) {
        switch phase {
        case .forward: forward += nanoseconds
        case .losses: losses += nanoseconds
        case .backward: backward += nanoseconds
        case .combination: combination += nanoseconds
        case .update: update += nanoseconds
        }
    }

    /// The total of `phase`, in nanoseconds.
    public subscript(phase: Phase) -> UInt64 {
        switch phase {
        case .forward: return forward
        case .losses: return losses
        case .backward: return backward
        case .combination: return combination
        case .update: return update
        }
    }

    /// Mean milliseconds per recorded step of `phase` (0 before any step).
    public func millisecondsPerStep(_ phase: Phase) -> Double {
        steps == 0 ? 0 : Double(self[phase]) / 1e6 / Double(steps)
    }
}
