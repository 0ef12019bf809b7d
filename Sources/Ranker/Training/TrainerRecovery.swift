import Foundation

/// What the trainer does so that a run survives being killed, a full disk
/// and an exploding loss without leaving a state it cannot continue from:
/// a resume that finds no checkpoint starts over, a checkpoint that resume
/// would reject is never written, and every stability event carries its
/// diagnosis (RELIABILITY.md, "State, checkpoints and telemetry").
extension Trainer {
    /// A resume of a run directory whose run was killed before its first
    /// checkpoint (there is `config.json`, perhaps telemetry, but no
    /// `checkpoint.safetensors`) starts the run from the beginning, saying so
    /// on stderr: its telemetry is cut to nothing and a `best.safetensors`
    /// left by it is removed (it is replaced at the first evaluation).
    ///
    /// - Returns: whether the run starts over (no checkpoint to restore).
    func restartWithoutCheckpoint() throws -> Bool {
        guard !FileManager.default.fileExists(atPath: checkpointURL.path) else { return false }
        FileHandle.standardError.write(Data(("ranker: \(runDirectory.path) has no checkpoint.safetensors (the run "
            + "stopped before its first checkpoint): starting the run from the beginning\n").utf8))
        if replicas.isWriter && FileManager.default.fileExists(atPath: bestURL.path) {
            do {
                try FileManager.default.removeItem(at: bestURL)
            } catch {
                throw FileIOError(path: bestURL.path, operation: "remove", message: FileIOError.systemMessage(of: error))
            }
        }
        resumed = false
        telemetryStart = 0
        return true
    }

    /// Refuses to write a checkpoint that `--resume` would reject: every
    /// optimizer state tensor must be finite (an exploded Adagrad
    /// accumulator is `inf`). The run then stops with a `stop` event naming
    /// the tensor, and the previous checkpoint stays.
    ///
    /// - Throws: `TrainingError` naming the step, the tensor and the value.
    func requireResumable(_ checkpoint: Checkpoint) throws {
        for name in checkpoint.tensors.keys.sorted() where name.hasPrefix(Checkpoint.Prefix.optimizer) {
            let m = checkpoint.tensors[name]!
            for i in 0..<m.count where !m.data[i].isFinite {
                throw TrainingError(message: "step \(state.step): optimizer state \(name) holds \(m.data[i]) at index "
                    + "\(i); a resume would reject it, so the checkpoint was not written (the last one stays)")
            }
        }
    }

    /// Per task, the absolute loss limit of the stability monitor: binary
    /// tasks `loss_limit_factor × log 2`, regression tasks none.
    var lossLimits: [Double?] {
        let factor = configuration.stability.lossLimitFactor
        return modelConfiguration.tasks.map { $0.kind == .binary && factor > 0 ? factor * log(2.0) : nil }
    }

    /// Gives every event of one judgement the diagnosis of the current step
    /// (the first event's, computed once before any rollback changes the
    /// weights) and, when it has none, the task of the event that triggered it.
    func diagnose(_ events: inout [StabilityEvent]) {
        guard !events.isEmpty else { return }
        let diagnosis = events.lazy.compactMap(\.diagnosis).first ?? updateRatios.diagnosis(step.parameters)
        let task = events.lazy.compactMap(\.task).first
        for i in events.indices {
            if events[i].diagnosis == nil { events[i].diagnosis = diagnosis }
            if events[i].task == nil { events[i].task = task }
        }
    }

    /// Restores the last good model, optimizer and balancer state and halves
    /// the learning rate; the data cursor keeps moving forward.
    func rollBack() throws {
        guard let good = lastGood else { throw TrainingError(message: "no good state to roll back to") }
        try good.restore(into: step.parameters, modelState: model.stateTensors, optimizer: optimizer)
        try balancer.restore(good.decode(TaskBalancerState.self, forKey: Checkpoint.Key.weighting))
        state.rollbacks += 1
        state.learningRateFactor *= 0.5
        state.monitor.resetSpikes()
    }
}
