/// Why a run ended.
public enum StopReason: String, Codable, Sendable {
    case completed
    case earlyStopping = "early_stopping"
    case maxSteps = "max_steps"
    /// `interrupt_after_steps` or Ctrl-C: the checkpoint was written; resume continues it.
    case interrupted
    /// The stability policy stopped the run.
    case unstable
}

/// What a finished run reports.
public struct TrainingSummary: Codable, Sendable {
    public var name: String
    public var runDirectory: String
    public var steps: Int
    public var epochs: Int
    public var stopReason: StopReason
    public var bestStep: Int?
    public var bestValid: Evaluation?
    /// Evaluation of the kept state (best valid state in epoch mode, final
    /// state in sequential mode) on the test split (last day).
    public var test: Evaluation?
    public var events: [String: Int]
    /// Training throughput over the whole run (steps only, no evaluation).
    public var trainSamplesPerSecond: Double
    /// Pass remainders left out (`training.last_batch: drop`, or a one-row
    /// remainder of a model with BatchNorm) and their rows.
    public var droppedBatches: Int = 0
    public var droppedRows: Int = 0
}
