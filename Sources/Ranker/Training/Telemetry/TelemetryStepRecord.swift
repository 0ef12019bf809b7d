extension TelemetryRecord {
    /// `{"type": "step", ...}`: one optimizer step (every
    /// `output.telemetry_every_steps` steps, and every step with an event).
    /// `T` is the number of tasks of the run line. `day` is written as `null`
    /// when nil; the per-task gradient fields and `clip_factors` are left out
    /// when nil.
    public struct Step: Codable, Sendable, Equatable {
        static let type = "step"

        @Field<Integer> public var step: Int
        @OptionalField<Integer> public var epoch: Int?
        /// Sequential mode: the day trained; `null` in epoch mode.
        @NullableField<Integer> public var day: Int?
        /// The learning rate of the step (schedule and rollback factor applied).
        @OptionalField<Number> public var learningRate: Double?
        /// `T` task losses (NaN where the loss was not finite).
        @Field<Numbers> public var losses: [Double]
        /// The weighted objective the step minimised.
        @OptionalField<Number> public var objective: Double?
        /// `T` loss weights or combination coefficients (`combiner_kind`).
        @OptionalField<Numbers> public var weights: [Double]?
        /// `T` per-task gradient norms over the shared parameters (methods
        /// that compute per-task gradients; absent otherwise).
        @OptionalField<Numbers> public var gradientNorms: [Double]? = nil
        /// `T × T` cosine similarities of the per-task gradients.
        @OptionalField<NumberRows> public var cosines: [[Double]]? = nil
        @OptionalField<Integer> public var conflictingPairs: Int? = nil
        @OptionalField<Integer> public var pseudoInverseFallbacks: Int? = nil
        /// Last clipping factor per parameter tensor (Clippy, GC, AGC; absent for plain Adagrad).
        @OptionalField<NumberTable> public var clipFactors: [String: Double]? = nil
        /// Training throughput of the run so far.
        @OptionalField<Number> public var samplesPerSecond: Double?

        enum CodingKeys: String, CodingKey {
            case step, epoch, day
            case learningRate = "lr"
            case losses, objective, weights
            case gradientNorms = "grad_norms"
            case cosines
            case conflictingPairs = "conflicting_pairs"
            case pseudoInverseFallbacks = "pinv_fallbacks"
            case clipFactors = "clip_factors"
            case samplesPerSecond = "samples_per_s"
        }
    }
}
