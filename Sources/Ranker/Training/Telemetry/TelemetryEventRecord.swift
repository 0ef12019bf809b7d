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
        /// The diagnosis (`StabilityDiagnosis`), absent in lines written before it
        /// existed: the tensor with the largest update-to-weight ratio
        /// `‖Δw‖/‖w‖`, that ratio, and the step of the update measured (the
        /// last applied before the event) …
        @OptionalField<Text> public var updateRatioTensor: String? = nil
        @OptionalField<Number> public var updateRatio: Double? = nil
        @OptionalField<Integer> public var updateStep: Int? = nil
        /// … and the tensor with the largest gradient-to-weight ratio `‖g‖/‖w‖` at the event's step, and that ratio.
        @OptionalField<Text> public var gradientRatioTensor: String? = nil
        @OptionalField<Number> public var gradientRatio: Double? = nil

        enum CodingKeys: String, TelemetryPlaceholderKey {
            case step, kind, task, parameter, value, message
            case updateRatioTensor = "update_ratio_tensor"
            case updateRatio = "update_ratio"
            case updateStep = "update_step"
            case gradientRatioTensor = "gradient_ratio_tensor"
            case gradientRatio = "gradient_ratio"

            var placeholder: String? { self == .kind ? "event" : nil }
        }
    }
}

extension TelemetryRecord.Event {
    /// The line of a monitor event.
    public init(_ event: StabilityEvent) {
        let d = event.diagnosis
        self.init(step: event.step, kind: event.kind.rawValue, task: event.task, parameter: event.parameter,
                  value: event.value, message: event.message,
                  updateRatioTensor: d?.largestUpdateRatio?.tensor, updateRatio: d?.largestUpdateRatio?.ratio,
                  updateStep: d?.largestUpdateRatio == nil ? nil : d?.updateStep,
                  gradientRatioTensor: d?.largestGradientRatio?.tensor, gradientRatio: d?.largestGradientRatio?.ratio)
    }
}
