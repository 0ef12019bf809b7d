extension TelemetryRecord {
    /// `{"type": "eval", ...}`: the metrics of the model on a split at a step
    /// (`valid` during training, `test` at the end).
    public struct Evaluation: Codable, Sendable, Equatable {
        static let type = "eval"

        public var step: Int
        public var epoch: Int?
        /// Sequential mode: the day evaluated (absent in epoch mode).
        public var day: Int?
        public var split: String
        /// Output name → metric name → value (`Evaluation.metricTable`:
        /// counts such as `examples` and `users` included).
        public var metrics: [String: [String: Double]]
        public var meanAUC: Double?
        public var nonFinitePredictions: Int?

        public init(step: Int, epoch: Int?, day: Int?, split: String, metrics: [String: [String: Double]],
                    meanAUC: Double?, nonFinitePredictions: Int?) {
            self.step = step
            self.epoch = epoch
            self.day = day
            self.split = split
            self.metrics = metrics
            self.meanAUC = meanAUC
            self.nonFinitePredictions = nonFinitePredictions
        }

        enum CodingKeys: String, CodingKey {
            case type, step, epoch, day, split, metrics
            case meanAUC = "mean_auc"
            case nonFinitePredictions = "non_finite_predictions"
        }

        public init(from decoder: Decoder) throws {
            let c = try decoder.container(keyedBy: CodingKeys.self)
            step = try c.decodeInteger(forKey: .step)
            epoch = try c.decodeIntegerIfPresent(forKey: .epoch)
            day = try c.decodeIntegerIfPresent(forKey: .day)
            split = try c.decodeTextIfPresent(forKey: .split) ?? "valid"
            metrics = try c.decodeMetricTable(forKey: .metrics)
            meanAUC = try c.decodeNumberIfPresent(forKey: .meanAUC)
            nonFinitePredictions = try c.decodeIntegerIfPresent(forKey: .nonFinitePredictions)
        }

        public func encode(to encoder: Encoder) throws {
            var c = encoder.container(keyedBy: CodingKeys.self)
            try c.encode(Self.type, forKey: .type)
            try c.encode(step, forKey: .step)
            try c.encodeIfPresent(epoch, forKey: .epoch)
            try c.encodeIfPresent(day, forKey: .day)
            try c.encode(split, forKey: .split)
            try c.encodeMetricTable(metrics, forKey: .metrics)
            if let meanAUC { try c.encodeNumber(meanAUC, forKey: .meanAUC) }
            try c.encodeIfPresent(nonFinitePredictions, forKey: .nonFinitePredictions)
        }
    }
}
