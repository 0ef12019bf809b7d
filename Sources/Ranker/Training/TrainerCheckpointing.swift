/// The trainer's checkpoints: the full resumable state written at the
/// configured steps and epochs, and restored by `--resume` (RunCheckpoint,
/// RELIABILITY.md "State, checkpoints and telemetry").
extension Trainer {
    /// The full resumable state (`RunCheckpoint`).
    func makeCheckpoint() throws -> Checkpoint {
        var current = state
        if modelConfiguration.dropout > 0 { current.dropoutGenerator = step.dropoutGenerator.generator }
        return try RunCheckpoint.make(configuration: configuration, step: step, optimizer: optimizer,
                                      balancer: balancer, state: current)
    }

    /// Syncs the telemetry and records its size first (its lines reach disk before the
    /// checkpoint does); refuses a checkpoint resume would reject (`requireResumable`).
    func writeCheckpoint() throws {
        if replicas.isWriter {
            try telemetry.synchronize()
            state.telemetryBytes = telemetry.fileSize
        }
        // Every replica holds the same optimizer state, so every replica refuses together.
        let checkpoint = try makeCheckpoint()
        try requireResumable(checkpoint)
        guard replicas.isWriter else { return }
        try checkpoint.write(to: checkpointURL)
    }

    func restoreCheckpoint() throws {
        if try restartWithoutCheckpoint() { return }
        state = try RunCheckpoint.restore(from: checkpointURL, configuration: configuration, step: step,
                                          optimizer: optimizer, balancer: balancer)
        if let generator = state.dropoutGenerator { step.dropoutGenerator.generator = generator }
        try best.load(from: bestURL, model: model)
        lastGood = try makeCheckpoint().deepCopy()
        telemetryStart = state.telemetryBytes
    }
}
