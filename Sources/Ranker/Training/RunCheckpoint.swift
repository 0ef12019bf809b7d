import Foundation

/// The resumable state of a run as one `Checkpoint` (`checkpoint.safetensors`):
/// the model (and balancer) parameters, the optimizer and balancer state, the
/// trainer state (`TrainerState`) and the run configuration; and which
/// configuration changes a resume accepts.
enum RunCheckpoint {
    /// The full state of `step`'s parameters, `optimizer`, `balancer` and `state`.
    static func make(configuration: RunConfiguration, step: TrainingStep, optimizer: Optimizer,
                     balancer: TaskBalancer, state: TrainerState) throws -> Checkpoint {
        var checkpoint = try Checkpoint(parameters: step.parameters, modelState: step.model.stateTensors,
                                        optimizer: optimizer)
        checkpoint.metadata[Checkpoint.Key.configuration] = configuration.encodedJSON()
        try checkpoint.encode(state.step, forKey: Checkpoint.Key.step)
        try checkpoint.encode(state.epoch, forKey: Checkpoint.Key.epoch)
        try checkpoint.encode(state.epochGenerator, forKey: Checkpoint.Key.randomGenerator)
        try checkpoint.encode(balancer.state, forKey: Checkpoint.Key.weighting)
        try checkpoint.encode(state, forKey: Checkpoint.Key.trainer)
        return checkpoint
    }

    /// Restores the parameters, optimizer and balancer of the checkpoint at
    /// `url` and returns its trainer state.
    ///
    /// - Throws: `TrainingError` when the checkpoint was made with another
    ///   configuration (`requireResumable`); checkpoint and I/O errors.
    static func restore(from url: URL, configuration: RunConfiguration, step: TrainingStep, optimizer: Optimizer,
                        balancer: TaskBalancer) throws -> TrainerState {
        let checkpoint = try Checkpoint.read(from: url)
        // Every tensor is checked for name, dtype (`read`) and shape (`restore`) before
        // anything changes; errors name this file.
        return try StateFileError.naming(url.path) {
            let stored = try JSONDecoder().decode(RunConfiguration.self,
                                                  from: Data(try checkpoint.string(forKey: Checkpoint.Key.configuration).utf8))
            try requireResumable(stored: stored, current: configuration, path: url.path)
            let state = try checkpoint.decode(TrainerState.self, forKey: Checkpoint.Key.trainer)
            let balancerState = try checkpoint.decode(TaskBalancerState.self, forKey: Checkpoint.Key.weighting)
            try checkpoint.restore(into: step.parameters, modelState: step.model.stateTensors, optimizer: optimizer)
            try balancer.restore(balancerState)
            return state
        }
    }

    /// The training-defining configuration must be the same: only `epochs`,
    /// `max_steps`, `interrupt_after_steps` and `output` may change on resume.
    static func requireResumable(stored: RunConfiguration, current: RunConfiguration, path: String) throws {
        var stored = stored
        var current = current
        stored.training.interruptAfterSteps = 0
        current.training.interruptAfterSteps = 0
        stored.training.maxSteps = 0
        current.training.maxSteps = 0
        stored.training.epochs = current.training.epochs
        stored.output = current.output
        guard stored == current else {
            throw TrainingError(message: "cannot resume \(path): the run was made with another configuration "
                                + "(only epochs, max_steps, interrupt_after_steps and output may change)")
        }
    }
}
