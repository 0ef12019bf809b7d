extension TelemetryRecord {
    /// `{"type": "step", ...}`: one optimizer step (every
    /// `output.telemetry_every_steps` steps, and every step with an event).
    /// `T` is the number of tasks of the run line.
    public struct Step: Codable, Sendable, Equatable {
        static let type = "step"

        public var step: Int
        public var epoch: Int?
        /// Sequential mode: the day trained; `null` in epoch mode.
        public var day: Int?
        /// The learning rate of the step (schedule and rollback factor applied).
        public var learningRate: Double?
        /// `T` task losses (NaN where the loss was not finite).
        public var losses: [Double]
        /// The weighted objective the step minimised.
        public var objective: Double?
        /// `T` loss weights or combination coefficients (`combiner_kind`).
        public var weights: [Double]?
        /// `T` per-task gradient norms over the shared parameters (methods
        /// that compute per-task gradients; absent otherwise).
        public var gradientNorms: [Double]?
        /// `T × T` cosine similarities of the per-task gradients.
        public var cosines: [[Double]]?
        public var conflictingPairs: Int?
        public var pseudoInverseFallbacks: Int?
        /// Last clipping factor per parameter tensor (Clippy, GC, AGC; absent for plain Adagrad).
        public var clipFactors: [String: Double]?
        /// Training throughput of the run so far.
        public var samplesPerSecond: Double?

        public init(step: Int, epoch: Int?, day: Int?, learningRate: Double?, losses: [Double], objective: Double?,
                    weights: [Double]?, gradientNorms: [Double]? = nil, cosines: [[Double]]? = nil,
                    conflictingPairs: Int? = nil, pseudoInverseFallbacks: Int? = nil,
                    clipFactors: [String: Double]? = nil, samplesPerSecond: Double?) {
            self.step = step
            self.epoch = epoch
            self.day = day
            self.learningRate = learningRate
            self.losses = losses
            self.objective = objective
            self.weights = weights
            self.gradientNorms = gradientNorms
            self.cosines = cosines
            self.conflictingPairs = conflictingPairs
            self.pseudoInverseFallbacks = pseudoInverseFallbacks
            self.clipFactors = clipFactors
            self.samplesPerSecond = samplesPerSecond
        }

        enum CodingKeys: String, CodingKey {
            case type, step, epoch, day
            case learningRate = "lr"
            case losses, objective, weights
            case gradientNorms = "grad_norms"
            case cosines
            case conflictingPairs = "conflicting_pairs"
            case pseudoInverseFallbacks = "pinv_fallbacks"
            case clipFactors = "clip_factors"
            case samplesPerSecond = "samples_per_s"
        }

        public init(from decoder: Decoder) throws {
            let c = try decoder.container(keyedBy: CodingKeys.self)
            step = try c.decodeInteger(forKey: .step)
            epoch = try c.decodeIntegerIfPresent(forKey: .epoch)
            day = try c.decodeIntegerIfPresent(forKey: .day)
            learningRate = try c.decodeNumberIfPresent(forKey: .learningRate)
            losses = try c.decodeNumbersIfPresent(forKey: .losses) ?? []
            objective = try c.decodeNumberIfPresent(forKey: .objective)
            weights = try c.decodeNumbersIfPresent(forKey: .weights)
            gradientNorms = try c.decodeNumbersIfPresent(forKey: .gradientNorms)
            cosines = try c.decodeNumberRowsIfPresent(forKey: .cosines)
            conflictingPairs = try c.decodeIntegerIfPresent(forKey: .conflictingPairs)
            pseudoInverseFallbacks = try c.decodeIntegerIfPresent(forKey: .pseudoInverseFallbacks)
            clipFactors = try c.decodeNumberTableIfPresent(forKey: .clipFactors)
            samplesPerSecond = try c.decodeNumberIfPresent(forKey: .samplesPerSecond)
        }

        /// `day` is written as `null` when nil; the per-task gradient fields
        /// and `clip_factors` are left out when nil.
        public func encode(to encoder: Encoder) throws {
            var c = encoder.container(keyedBy: CodingKeys.self)
            try c.encode(Self.type, forKey: .type)
            try c.encode(step, forKey: .step)
            try c.encodeIfPresent(epoch, forKey: .epoch)
            try c.encode(day, forKey: .day)
            if let learningRate { try c.encodeNumber(learningRate, forKey: .learningRate) }
            try c.encodeNumbers(losses, forKey: .losses)
            if let objective { try c.encodeNumber(objective, forKey: .objective) }
            if let weights { try c.encodeNumbers(weights, forKey: .weights) }
            if let gradientNorms { try c.encodeNumbers(gradientNorms, forKey: .gradientNorms) }
            if let cosines { try c.encodeNumberRows(cosines, forKey: .cosines) }
            try c.encodeIfPresent(conflictingPairs, forKey: .conflictingPairs)
            try c.encodeIfPresent(pseudoInverseFallbacks, forKey: .pseudoInverseFallbacks)
            if let clipFactors { try c.encodeNumberTable(clipFactors, forKey: .clipFactors) }
            if let samplesPerSecond { try c.encodeNumber(samplesPerSecond, forKey: .samplesPerSecond) }
        }
    }
}
