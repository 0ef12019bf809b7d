extension TelemetryRecord {
    /// `{"type": "event", ...}`: a stability monitor event (`StabilityEvent`).
    /// `task`, `parameter` and `value` are written as `null` when unknown.
    public struct Event: Codable, Sendable, Equatable {
        static let type = "event"

        public var step: Int
        /// `nan`, `spike`, `recovered`, `divergence`, `skip`, `rollback`, `stop`, or newer kinds.
        public var kind: String
        public var task: String?
        /// The parameter with the largest gradient at the event (or the non-finite one).
        public var parameter: String?
        /// The loss, the ratio, or the AUC that triggered the event.
        public var value: Double?
        public var message: String?

        public init(step: Int, kind: String, task: String?, parameter: String?, value: Double?, message: String?) {
            self.step = step
            self.kind = kind
            self.task = task
            self.parameter = parameter
            self.value = value
            self.message = message
        }

        /// The line of a monitor event.
        public init(_ event: StabilityEvent) {
            self.init(step: event.step, kind: event.kind.rawValue, task: event.task, parameter: event.parameter,
                      value: event.value, message: event.message)
        }

        enum CodingKeys: String, CodingKey {
            case type, step, kind, task, parameter, value, message
        }

        public init(from decoder: Decoder) throws {
            let c = try decoder.container(keyedBy: CodingKeys.self)
            step = try c.decodeInteger(forKey: .step)
            kind = try c.decodeTextIfPresent(forKey: .kind) ?? "event"
            task = try c.decodeTextIfPresent(forKey: .task)
            parameter = try c.decodeTextIfPresent(forKey: .parameter)
            value = try c.decodeNumberIfPresent(forKey: .value)
            message = try c.decodeTextIfPresent(forKey: .message)
        }

        public func encode(to encoder: Encoder) throws {
            var c = encoder.container(keyedBy: CodingKeys.self)
            try c.encode(Self.type, forKey: .type)
            try c.encode(step, forKey: .step)
            try c.encode(kind, forKey: .kind)
            try c.encode(task, forKey: .task)
            try c.encode(parameter, forKey: .parameter)
            try c.encodeNumber(value, forKey: .value)
            try c.encodeIfPresent(message, forKey: .message)
        }
    }
}
