extension TelemetryRecord {
    /// `{"type": "run", ...}`, the first line of every (resumed) run: what is
    /// trained and how. The per-task arrays of step lines follow `tasks`
    /// (`T` entries); `parameters` names the tensors in the model's stable order.
    public struct Run: Codable, Sendable, Equatable {
        static let type = "run"

        public var name: String
        public var model: String
        public var tasks: [String]
        /// The weighting or gradient-combination method.
        public var combiner: String
        /// `loss_weights` or `coefficients`: what a step's `weights` are.
        public var combinerKind: String
        public var optimizer: String
        public var learningRate: Double?
        public var batchSize: Int?
        /// `epochs` or `sequential`.
        public var mode: String?
        public var threads: Int?
        public var seed: Int?
        public var trainExamples: Int?
        public var totalSteps: Int?
        /// Parameter tensor names in the model's stable order.
        public var parameters: [String]
        public var parameterCount: Int?
        /// Set when the run continues a checkpoint: the step it resumed at.
        public var resumedFromStep: Int?
        /// ISO 8601 start time.
        public var started: String?

        public init(name: String, model: String, tasks: [String], combiner: String, combinerKind: String,
                    optimizer: String, learningRate: Double?, batchSize: Int?, mode: String?, threads: Int?,
                    seed: Int?, trainExamples: Int?, totalSteps: Int?, parameters: [String], parameterCount: Int?,
                    resumedFromStep: Int?, started: String?) {
            self.name = name
            self.model = model
            self.tasks = tasks
            self.combiner = combiner
            self.combinerKind = combinerKind
            self.optimizer = optimizer
            self.learningRate = learningRate
            self.batchSize = batchSize
            self.mode = mode
            self.threads = threads
            self.seed = seed
            self.trainExamples = trainExamples
            self.totalSteps = totalSteps
            self.parameters = parameters
            self.parameterCount = parameterCount
            self.resumedFromStep = resumedFromStep
            self.started = started
        }

        enum CodingKeys: String, CodingKey {
            case type, name, model, tasks, combiner
            case combinerKind = "combiner_kind"
            case optimizer
            case learningRate = "learning_rate"
            case batchSize = "batch_size"
            case mode, threads, seed
            case trainExamples = "train_examples"
            case totalSteps = "total_steps"
            case parameters
            case parameterCount = "parameter_count"
            case resumedFromStep = "resumed_from_step"
            case started
        }

        /// A line that lacks a field reads with a placeholder (`?`; no tasks
        /// or parameters; `loss_weights`) rather than failing.
        public init(from decoder: Decoder) throws {
            let c = try decoder.container(keyedBy: CodingKeys.self)
            name = try c.decodeTextIfPresent(forKey: .name) ?? "(unnamed run)"
            model = try c.decodeTextIfPresent(forKey: .model) ?? "?"
            tasks = try c.decodeTextsIfPresent(forKey: .tasks) ?? []
            combiner = try c.decodeTextIfPresent(forKey: .combiner) ?? "?"
            combinerKind = try c.decodeTextIfPresent(forKey: .combinerKind) ?? "loss_weights"
            optimizer = try c.decodeTextIfPresent(forKey: .optimizer) ?? "?"
            learningRate = try c.decodeNumberIfPresent(forKey: .learningRate)
            batchSize = try c.decodeIntegerIfPresent(forKey: .batchSize)
            mode = try c.decodeTextIfPresent(forKey: .mode)
            threads = try c.decodeIntegerIfPresent(forKey: .threads)
            seed = try c.decodeIntegerIfPresent(forKey: .seed)
            trainExamples = try c.decodeIntegerIfPresent(forKey: .trainExamples)
            totalSteps = try c.decodeIntegerIfPresent(forKey: .totalSteps)
            parameters = try c.decodeTextsIfPresent(forKey: .parameters) ?? []
            parameterCount = try c.decodeIntegerIfPresent(forKey: .parameterCount)
            resumedFromStep = try c.decodeIntegerIfPresent(forKey: .resumedFromStep)
            started = try c.decodeTextIfPresent(forKey: .started)
        }

        public func encode(to encoder: Encoder) throws {
            var c = encoder.container(keyedBy: CodingKeys.self)
            try c.encode(Self.type, forKey: .type)
            try c.encode(name, forKey: .name)
            try c.encode(model, forKey: .model)
            try c.encode(tasks, forKey: .tasks)
            try c.encode(combiner, forKey: .combiner)
            try c.encode(combinerKind, forKey: .combinerKind)
            try c.encode(optimizer, forKey: .optimizer)
            if let learningRate { try c.encodeNumber(learningRate, forKey: .learningRate) }
            try c.encodeIfPresent(batchSize, forKey: .batchSize)
            try c.encodeIfPresent(mode, forKey: .mode)
            try c.encodeIfPresent(threads, forKey: .threads)
            try c.encodeIfPresent(seed, forKey: .seed)
            try c.encodeIfPresent(trainExamples, forKey: .trainExamples)
            try c.encodeIfPresent(totalSteps, forKey: .totalSteps)
            try c.encode(parameters, forKey: .parameters)
            try c.encodeIfPresent(parameterCount, forKey: .parameterCount)
            try c.encodeIfPresent(resumedFromStep, forKey: .resumedFromStep)
            try c.encodeIfPresent(started, forKey: .started)
        }
    }
}
