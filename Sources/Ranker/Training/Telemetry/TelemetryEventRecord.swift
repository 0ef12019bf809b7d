extension TelemetryRecord {
    /// `{"type": "event", ...}`: a stability monitor event (`StabilityEvent`).
    /// `task`, `parameter` and `value` are written as `null` when unknown.
    public struct Event: Codable, Sendable, Equatable {
        static let type = "event"

        @Field<Integer> public var step: Int
        /// `nan`, `spike`, `recovered`, `divergence`, `skip`, `rollback`, `stop`, or newer kinds
        /// (a line without it reads as `event`).
        @Field<Text> public var kind: String
        @NullableField<Text> public var task: String?
        /// The parameter with the largest gradient at the event (or the non-finite one).
        @NullableField<Text> public var parameter: String?
        /// The loss, the ratio, or the AUC that triggered the event.
        @NullableField<Number> public var value: Double?
        @OptionalField<Text> public var message: String?

        enum CodingKeys: String, TelemetryPlaceholderKey {
            case step, kind, task, parameter, value, message

            var placeholder: String? { self == .kind ? "event" : nil }
        }
    }
}

extension TelemetryRecord.Event {
    /// The line of a monitor event.
    public init(_ event: StabilityEvent) {
        self.init(step: event.step, kind: event.kind.rawValue, task: event.task, parameter: event.parameter,
                  value: event.value, message: event.message)
    }
}
