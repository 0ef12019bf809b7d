extension TelemetryRecord {
    /// `{"type": "end", ...}`: the run finished or stopped. `best_step` and
    /// `best_mean_auc` are `null` when no evaluation improved.
    public struct End: Codable, Sendable, Equatable {
        static let type = "end"

        public var step: Int?
        public var bestStep: Int?
        public var bestMeanAUC: Double?
        /// `StopReason`: `completed`, `early_stopping`, `max_steps`, `interrupted`, `unstable`.
        public var stopped: String?
        public var trainSamplesPerSecond: Double?
        /// Stability events of the run by kind.
        public var events: [String: Int]?
        /// Output name → metric name → value on the test split (empty: not tested).
        public var test: [String: [String: Double]]

        public init(step: Int?, bestStep: Int?, bestMeanAUC: Double?, stopped: String?, trainSamplesPerSecond: Double?,
                    events: [String: Int]?, test: [String: [String: Double]]) {
            self.step = step
            self.bestStep = bestStep
            self.bestMeanAUC = bestMeanAUC
            self.stopped = stopped
            self.trainSamplesPerSecond = trainSamplesPerSecond
            self.events = events
            self.test = test
        }

        enum CodingKeys: String, CodingKey {
            case type, step
            case bestStep = "best_step"
            case bestMeanAUC = "best_mean_auc"
            case stopped
            case trainSamplesPerSecond = "train_samples_per_s"
            case events, test
        }

        public init(from decoder: Decoder) throws {
            let c = try decoder.container(keyedBy: CodingKeys.self)
            step = try c.decodeIntegerIfPresent(forKey: .step)
            bestStep = try c.decodeIntegerIfPresent(forKey: .bestStep)
            bestMeanAUC = try c.decodeNumberIfPresent(forKey: .bestMeanAUC)
            stopped = try c.decodeTextIfPresent(forKey: .stopped)
            trainSamplesPerSecond = try c.decodeNumberIfPresent(forKey: .trainSamplesPerSecond)
            events = try c.decodeNumberTableIfPresent(forKey: .events)?.mapValues { Int(exactly: $0) ?? 0 }
            test = try c.decodeMetricTable(forKey: .test)
        }

        public func encode(to encoder: Encoder) throws {
            var c = encoder.container(keyedBy: CodingKeys.self)
            try c.encode(Self.type, forKey: .type)
            try c.encodeIfPresent(step, forKey: .step)
            try c.encode(bestStep, forKey: .bestStep)
            try c.encodeNumber(bestMeanAUC, forKey: .bestMeanAUC)
            try c.encodeIfPresent(stopped, forKey: .stopped)
            if let trainSamplesPerSecond { try c.encodeNumber(trainSamplesPerSecond, forKey: .trainSamplesPerSecond) }
            try c.encodeIfPresent(events, forKey: .events)
            if !test.isEmpty { try c.encodeMetricTable(test, forKey: .test) }
        }
    }
}
