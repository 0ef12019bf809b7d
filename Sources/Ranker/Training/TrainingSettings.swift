/// How training walks through the data.
public struct TrainingSettings: Codable, Equatable, Sendable {
    public enum Mode: String, ConfigurationEnum {
        /// Epochs over the train split with seeded shuffling; evaluation on the
        /// valid split; the best state (mean valid AUC) is kept and tested.
        case epochs
        /// Days in order (the Clippy paper's protocol): for each day `d` but the
        /// last, train on the window of days `d−W+1 … d` (shuffled), then
        /// evaluate on day `d+1`; the last day is the test set.
        case sequential
    }

    /// What a pass over `n` rows does with its last `n mod batch_size` rows.
    public enum LastBatch: String, ConfigurationEnum {
        /// Trained as a smaller batch (a one-row batch is left out for a
        /// model with BatchNorm, which cannot train on one row).
        case partial
        /// Left out and counted (`TrainingSummary.droppedRows`): every batch
        /// has exactly `batch_size` rows. The shuffle differs from pass to
        /// pass, so different rows are left out each time.
        case drop
    }

    public var mode: Mode = .epochs
    public var epochs: Int = 1
    public var batchSize: Int = 512
    public var seed: UInt64 = 1
    /// OpenBLAS threads (results are deterministic for a given count).
    public var threads: Int = 1
    public var learningRateSchedule: LearningRateSchedule = .constant
    /// Evaluate every N steps (0: at the end of every epoch / day).
    public var evalEverySteps: Int = 0
    /// Stop after this many evaluations without a better mean valid AUC (0: never).
    public var earlyStoppingPatience: Int = 0
    /// Sequential mode: days in the training window.
    public var windowDays: Int = 1
    /// Stop after this many steps (0: no limit).
    public var maxSteps: Int = 0
    /// Write `checkpoint.safetensors` every N steps (0: at every evaluation).
    public var checkpointEverySteps: Int = 0
    /// Simulate an interruption: write the checkpoint after this step and stop
    /// (0: off). A resumed run continues exactly where it stopped.
    public var interruptAfterSteps: Int = 0
    /// The pass's remainder rows: `partial` (the default) or `drop`.
    public var lastBatch: LastBatch = .partial

    enum CodingKeys: String, CodingKey, CaseIterable {
        case mode, epochs, seed, threads
        case batchSize = "batch_size"
        case learningRateSchedule = "learning_rate_schedule"
        case evalEverySteps = "eval_every_steps"
        case earlyStoppingPatience = "early_stopping_patience"
        case windowDays = "window_days"
        case maxSteps = "max_steps"
        case checkpointEverySteps = "checkpoint_every_steps"
        case interruptAfterSteps = "interrupt_after_steps"
        case lastBatch = "last_batch"
    }

    public init() {}

    public init(from decoder: Decoder) throws {
        let c = try StrictDecoding.container(decoder, CodingKeys.self, section: "training")
        var s = TrainingSettings()
        s.mode = try c.decode(.mode, default: s.mode)
        s.epochs = try c.decode(.epochs, default: s.epochs)
        s.batchSize = try c.decode(.batchSize, default: s.batchSize)
        s.seed = try c.decode(.seed, default: s.seed)
        s.threads = try c.decode(.threads, default: s.threads)
        s.learningRateSchedule = try c.decode(.learningRateSchedule, default: s.learningRateSchedule)
        s.evalEverySteps = try c.decode(.evalEverySteps, default: s.evalEverySteps)
        s.earlyStoppingPatience = try c.decode(.earlyStoppingPatience, default: s.earlyStoppingPatience)
        s.windowDays = try c.decode(.windowDays, default: s.windowDays)
        s.maxSteps = try c.decode(.maxSteps, default: s.maxSteps)
        s.checkpointEverySteps = try c.decode(.checkpointEverySteps, default: s.checkpointEverySteps)
        s.interruptAfterSteps = try c.decode(.interruptAfterSteps, default: s.interruptAfterSteps)
        s.lastBatch = try c.decode(.lastBatch, default: s.lastBatch)
        self = s
    }
}
