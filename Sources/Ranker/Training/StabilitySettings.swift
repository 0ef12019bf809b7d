/// What the run does when the stability monitor sees trouble.
public enum StabilityPolicy: String, ConfigurationEnum {
    /// Stop the run at a non-finite loss/gradient or a divergence.
    case stop
    /// Skip the update of a batch with a non-finite value or a loss spike;
    /// stop at a divergence.
    case skip
    /// Restore the last good checkpoint (in memory) with the learning rate
    /// halved at a non-finite value or a divergence.
    case rollback
}

/// The stability monitor's thresholds (see `StabilityMonitor`).
public struct StabilitySettings: Codable, Equatable, Sendable {
    public var policy: StabilityPolicy = .stop
    /// A loss above `spikeFactor ×` its moving average is a spike.
    public var spikeFactor: Double = 3
    /// Decay of the per-task exponential moving average of the loss.
    public var movingAverageDecay: Double = 0.98
    /// Steps before spikes are judged (the average needs history).
    public var warmupSteps: Int = 50
    /// A spike that lasts this many steps is a divergence.
    public var divergenceSteps: Int = 100
    /// A valid AUC at or below this (after having been above it) is a
    /// divergence; `0` (or less) turns the AUC judgement off.
    public var divergenceAUC: Double = 0.52
    /// Give up after this many rollbacks.
    public var maxRollbacks: Int = 5
    /// A binary task's loss above `lossLimitFactor × log 2` is a divergence
    /// from step 0 (warm-up or not): predicting the base rate costs at most
    /// `log 2` per example, so a loss 100 times that is an explosion, not
    /// learning. `0` turns the limit off. Regression (MSE) tasks have no
    /// limit (their scale is the label's).
    public var lossLimitFactor: Double = 100

    enum CodingKeys: String, CodingKey, CaseIterable {
        case policy
        case spikeFactor = "spike_factor"
        case movingAverageDecay = "moving_average_decay"
        case warmupSteps = "warmup_steps"
        case divergenceSteps = "divergence_steps"
        case divergenceAUC = "divergence_auc"
        case maxRollbacks = "max_rollbacks"
        case lossLimitFactor = "loss_limit_factor"
    }

    public init() {}

    public init(from decoder: Decoder) throws {
        let c = try StrictDecoding.container(decoder, CodingKeys.self, section: "stability")
        var s = StabilitySettings()
        s.policy = try c.decode(.policy, default: s.policy)
        s.spikeFactor = try c.decode(.spikeFactor, default: s.spikeFactor)
        s.movingAverageDecay = try c.decode(.movingAverageDecay, default: s.movingAverageDecay)
        s.warmupSteps = try c.decode(.warmupSteps, default: s.warmupSteps)
        s.divergenceSteps = try c.decode(.divergenceSteps, default: s.divergenceSteps)
        s.divergenceAUC = try c.decode(.divergenceAUC, default: s.divergenceAUC)
        s.maxRollbacks = try c.decode(.maxRollbacks, default: s.maxRollbacks)
        s.lossLimitFactor = try c.decode(.lossLimitFactor, default: s.lossLimitFactor)
        self = s
    }
}
