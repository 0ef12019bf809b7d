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
}
