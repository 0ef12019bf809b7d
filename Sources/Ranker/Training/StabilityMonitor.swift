import Foundation

/// A stability event of a run (TELEMETRY.md `event` lines).
public struct StabilityEvent: Codable, Equatable, Sendable {
    public enum Kind: String, Codable, Sendable {
        /// A non-finite loss or gradient.
        case nan
        /// Micro-divergence: a task loss above `spike_factor ×` its moving average.
        case spike
        /// The spiking task's loss is back below the threshold.
        case recovered
        /// The loss stayed above the threshold for `divergence_steps`, or a
        /// valid AUC fell to about 0.5.
        case divergence
        /// The batch's update was not applied.
        case skip
        /// The last good state was restored and the learning rate halved.
        case rollback
        /// The run stopped because of the policy.
        case stop
    }

    public var step: Int
    public var kind: Kind
    /// Task name, when one task is concerned.
    public var task: String?
    /// The parameter with the largest gradient at the event (or the non-finite one).
    public var parameter: String?
    /// The loss, the ratio, or the AUC that triggered the event.
    public var value: Double?
    public var message: String
    /// The tensors that moved most (the trainer fills it in for every event it writes).
    public var diagnosis: StabilityDiagnosis? = nil
}

/// Watches per-task losses (every step) and valid AUCs (every evaluation)
/// for the failure modes of multitask ranking training (Clippy paper §3):
///
/// * `nan`: a non-finite loss or gradient;
/// * `spike` (micro-divergence): after `warmup_steps`, a task's loss exceeds
///   `spike_factor ×` its exponential moving average (decay
///   `moving_average_decay`); the average is frozen while the task is spiking,
///   so that it does not chase a diverging loss; `recovered` when it falls back;
/// * `divergence`: a spike that lasts `divergence_steps` steps, or a task's
///   valid AUC at or below `divergence_auc` after having been above it (not
///   judged when `divergence_auc <= 0`), or —
///   from step 0, warm-up or not — a task loss above its absolute limit
///   (`lossLimits`: the trainer gives binary tasks `loss_limit_factor × log 2`,
///   far above the loss of predicting the base rate, which is at most
///   `log 2`). The spike rule compares a loss with its own history and so
///   cannot see a run that explodes at its first steps; the limit can.
///
/// The monitor only judges; the trainer applies the policy. Its state is
/// Codable so that a resumed run judges exactly like an uninterrupted one.
public struct StabilityMonitor: Codable, Equatable, Sendable {
    public var settings: StabilitySettings
    public var taskNames: [String]
    /// Moving average of each task's loss (nil before its first finite loss).
    public private(set) var averages: [Double?]
    /// Steps observed per task (finite, non-spiking).
    public private(set) var observed: [Int]
    /// Length of the current spike per task (0 = not spiking).
    public private(set) var spikeLength: [Int]
    /// Whether each task's valid AUC has been above the divergence AUC.
    public private(set) var learned: [Bool]
    /// Counts per event kind, for the run summary.
    public private(set) var counts: [String: Int]

    public init(settings: StabilitySettings, taskNames: [String]) {
        self.settings = settings
        self.taskNames = taskNames
        averages = [Double?](repeating: nil, count: taskNames.count)
        observed = [Int](repeating: 0, count: taskNames.count)
        spikeLength = [Int](repeating: 0, count: taskNames.count)
        learned = [Bool](repeating: false, count: taskNames.count)
        counts = [:]
    }

    /// Records an event in the counts (the trainer also logs it).
    public mutating func count(_ kind: StabilityEvent.Kind) {
        counts[kind.rawValue, default: 0] += 1
    }

    /// Judges the losses of one step (before its update is applied).
    ///
    /// - Parameter lossLimits: per task, the absolute limit of its loss
    ///   (`nil` or absent: none). A loss above it is a `divergence` at any
    ///   step; it does not enter the moving average.
    /// - Returns: the events of this step: spikes that start, recoveries and
    ///   divergences (no `nan`: the trainer reports non-finite values itself).
    public mutating func observe(step: Int, losses: [Double], lossLimits: [Double?] = []) -> [StabilityEvent] {
        precondition(losses.count == taskNames.count)
        var events: [StabilityEvent] = []
        for (t, loss) in losses.enumerated() where loss.isFinite {
            if t < lossLimits.count, let limit = lossLimits[t], loss > limit {
                events.append(StabilityEvent(step: step, kind: .divergence, task: taskNames[t], parameter: nil, value: loss,
                    message: "loss \(format(loss)) above the absolute limit \(format(limit)) "
                        + "(\(format(settings.lossLimitFactor)) x log 2; predicting the base rate costs at most log 2)"))
                continue
            }
            guard let average = averages[t] else {
                averages[t] = loss
                observed[t] = 1
                continue
            }
            let threshold = settings.spikeFactor * average
            let judged = observed[t] >= settings.warmupSteps && average > 0
            if judged && loss > threshold {
                spikeLength[t] += 1
                if spikeLength[t] == 1 {
                    events.append(StabilityEvent(step: step, kind: .spike, task: taskNames[t], parameter: nil, value: loss,
                        message: "loss \(format(loss)) above \(format(settings.spikeFactor))x its moving average \(format(average))"))
                }
                if spikeLength[t] == settings.divergenceSteps {
                    events.append(StabilityEvent(step: step, kind: .divergence, task: taskNames[t], parameter: nil, value: loss,
                        message: "loss above \(format(settings.spikeFactor))x its moving average \(format(average)) for \(settings.divergenceSteps) steps"))
                }
                continue  // the average is frozen during a spike
            }
            if spikeLength[t] > 0 {
                events.append(StabilityEvent(step: step, kind: .recovered, task: taskNames[t], parameter: nil, value: loss,
                    message: "loss \(format(loss)) back below \(format(threshold)) after \(spikeLength[t]) steps"))
                spikeLength[t] = 0
            }
            let decay = settings.movingAverageDecay
            averages[t] = decay * average + (1 - decay) * loss
            observed[t] += 1
        }
        for e in events { count(e.kind) }
        return events
    }

    /// Judges the valid AUCs of an evaluation (`nil` for outputs without AUC).
    /// With `divergence_auc <= 0` the AUC is not judged (divergence is then
    /// a matter of the training loss alone, as in the stability experiment).
    public mutating func observe(step: Int, validAUC: [String: Double]) -> [StabilityEvent] {
        var events: [StabilityEvent] = []
        if settings.divergenceAUC <= 0 { return events }
        for (t, name) in taskNames.enumerated() {
            guard let auc = validAUC[name] else { continue }
            if auc > settings.divergenceAUC {
                learned[t] = true
            } else if learned[t] || auc.isNaN {
                events.append(StabilityEvent(step: step, kind: .divergence, task: name, parameter: nil, value: auc,
                    message: "valid AUC \(format(auc)) at or below \(format(settings.divergenceAUC))"
                        + (learned[t] ? " after having been above it" : "")))
                learned[t] = false
            }
        }
        for e in events { count(e.kind) }
        return events
    }

    /// Forgets spike state (after a rollback the losses are those of an older model).
    public mutating func resetSpikes() {
        for t in spikeLength.indices { spikeLength[t] = 0 }
    }

    /// Whether any task is spiking now.
    public var isSpiking: Bool { spikeLength.contains { $0 > 0 } }
}

private func format(_ v: Double) -> String {
    if v.isNaN { return "nan" }
    let magnitude = abs(v)
    if magnitude != 0 && (magnitude < 1e-3 || magnitude >= 1e4) { return String(format: "%.3e", v) }
    return String(format: "%.4g", v)
}
