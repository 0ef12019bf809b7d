extension TelemetryRecord {
    /// `{"type": "eval", ...}`: the metrics of the model on a split at a step
    /// (`valid` during training, `test` at the end).
    public struct Evaluation: Codable, Sendable, Equatable {
        static let type = "eval"

        @Field<Integer> public var step: Int
        @OptionalField<Integer> public var epoch: Int?
        /// Sequential mode: the day evaluated (absent in epoch mode).
        @OptionalField<Integer> public var day: Int?
        /// `valid` or `test` (a line without it reads as `valid`).
        @Field<Text> public var split: String
        /// Output name → metric name → value (`Evaluation.metricTable`:
        /// counts such as `examples` and `users` included).
        @Field<MetricTable> public var metrics: [String: [String: Double]]
        @OptionalField<Number> public var meanAUC: Double?
        @OptionalField<Integer> public var nonFinitePredictions: Int?

        enum CodingKeys: String, TelemetryPlaceholderKey {
            case step, epoch, day, split, metrics
            case meanAUC = "mean_auc"
            case nonFinitePredictions = "non_finite_predictions"

            var placeholder: String? { self == .split ? "valid" : nil }
        }
    }
}
