extension TelemetryRecord {
    /// `{"type": "end", ...}`: the run finished or stopped. `best_step` and
    /// `best_mean_auc` are `null` when no evaluation improved.
    public struct End: Codable, Sendable, Equatable {
        static let type = "end"

        @OptionalField<Integer> public var step: Int?
        @NullableField<Integer> public var bestStep: Int?
        @NullableField<Number> public var bestMeanAUC: Double?
        /// `StopReason`: `completed`, `early_stopping`, `max_steps`, `interrupted`, `unstable`.
        @OptionalField<Text> public var stopped: String?
        @OptionalField<Number> public var trainSamplesPerSecond: Double?
        /// Stability events of the run by kind.
        @OptionalField<Counts> public var events: [String: Int]?
        /// Output name → metric name → value on the test split (empty: not
        /// tested; then left out of the line).
        @Field<MetricTable> public var test: [String: [String: Double]]

        enum CodingKeys: String, CodingKey {
            case step
            case bestStep = "best_step"
            case bestMeanAUC = "best_mean_auc"
            case stopped
            case trainSamplesPerSecond = "train_samples_per_s"
            case events, test
        }
    }
}
