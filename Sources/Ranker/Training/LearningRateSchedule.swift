/// The learning-rate schedule: the optimizer's rate times a factor of the step.
public enum LearningRateSchedule: Codable, Equatable, Sendable {
    /// Factor 1.
    case constant
    /// Factor `min(1, (step + 1) / warmupSteps)`: linear warm-up, then constant.
    case linearWarmup(steps: Int)

    /// The factor at `step` (0-based).
    public func factor(step: Int) -> Double {
        switch self {
        case .constant: return 1
        case .linearWarmup(let steps): return steps <= 0 ? 1 : min(1, Double(step + 1) / Double(steps))
        }
    }

    /// The JSON `kind`: `constant`, or `warmup` (also written `linear_warmup`)
    /// with `warmup_steps`.
    enum Kind: String, ConfigurationEnum {
        case constant, warmup
        case linearWarmup = "linear_warmup"
    }

    enum CodingKeys: String, CodingKey, CaseIterable { case kind, steps = "warmup_steps" }

    public init(from decoder: Decoder) throws {
        let c = try StrictDecoding.container(decoder, CodingKeys.self, section: "learning_rate_schedule")
        switch try c.decode(Kind.self, forKey: .kind) {
        case .constant: self = .constant
        case .warmup, .linearWarmup: self = .linearWarmup(steps: try c.decodeChecked(Int.self, forKey: .steps) ?? c.decode(Int.self, forKey: .steps))
        }
    }

    public func encode(to encoder: Encoder) throws {
        var c = encoder.container(keyedBy: CodingKeys.self)
        switch self {
        case .constant: try c.encode(Kind.constant, forKey: .kind)
        case .linearWarmup(let steps):
            try c.encode(Kind.warmup, forKey: .kind)
            try c.encode(steps, forKey: .steps)
        }
    }
}
