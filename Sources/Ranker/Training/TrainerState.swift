/// Trainer state stored in checkpoints next to the model, optimizer and
/// balancer, so that a resumed run continues exactly.
struct TrainerState: Codable, Equatable {
    var step: Int
    var epoch: Int
    /// Sequential mode: the day being trained.
    var day: Int
    /// Batches of the current epoch (or day) already done.
    var batchInEpoch: Int
    /// The shuffling generator as it was at the start of the current epoch/day.
    var epochGenerator: RandomGenerator
    var learningRateFactor: Double
    var bestMeanAUC: Double?
    var bestStep: Int?
    var evaluationsWithoutImprovement: Int
    var rollbacks: Int
    var monitor: StabilityMonitor
    var trainSeconds: Double
    var trainSamples: Int
    /// The dropout generator (`TrainingStep.dropoutGenerator`) at the
    /// checkpoint; `nil` for a model without dropout (and then not written).
    var dropoutGenerator: RandomGenerator?
    /// Pass remainders left out so far (`last_batch: drop`, or a one-row
    /// remainder because the model has BatchNorm, ALGORITHMS.md 3.2.1);
    /// `nil` until the first.
    var droppedBatches: Int?
    /// The rows of those remainders; `nil` until the first (and in older checkpoints).
    var droppedRows: Int?
    /// Bytes of `telemetry.jsonl` when the checkpoint was written (flushed
    /// just before): a resume cuts the file back to it, so the replayed steps
    /// are written once. `nil` in checkpoints older than this field.
    var telemetryBytes: Int?
}
