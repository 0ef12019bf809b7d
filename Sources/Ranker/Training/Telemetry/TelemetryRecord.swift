/// One line of a run's `telemetry.jsonl` (format: TELEMETRY.md), as the
/// trainer writes it (`TelemetryWriter`) and the report reads it back
/// (RankerReport's `TelemetryLogReader`): one type per line `"type"`.
///
/// Numbers JSON cannot hold (NaN, ±infinity) are written as `null` and read
/// back as `Double.nan`; an optional field that is absent or `null` as a
/// whole is `nil`. Unknown keys are ignored, so that newer writers stay
/// readable; a line of an unknown `"type"` reads as `.unknown`.
public enum TelemetryRecord: Codable, Sendable {
    case run(Run)
    case step(Step)
    case evaluation(Evaluation)
    case event(Event)
    case end(End)
    /// A line whose `"type"` this reader does not know (kept for counting only).
    case unknown(type: String)

    enum TypeKey: String, CodingKey { case type }

    public init(from decoder: Decoder) throws {
        let c = try decoder.container(keyedBy: TypeKey.self)
        guard c.contains(.type) else { throw TelemetryFieldError(field: nil, reason: "no \"type\" field") }
        guard let type = try Text.read(c.superDecoder(forKey: .type)) else {
            throw TelemetryFieldError(field: TypeKey.type.stringValue, reason: "expected \(Text.expected)")
        }
        switch type {
        case Run.type: self = .run(try Run(from: decoder))
        case Step.type: self = .step(try Step(from: decoder))
        case Evaluation.type: self = .evaluation(try Evaluation(from: decoder))
        case Event.type: self = .event(try Event(from: decoder))
        case End.type: self = .end(try End(from: decoder))
        default: self = .unknown(type: type)
        }
    }

    public func encode(to encoder: Encoder) throws {
        switch self {
        case .run(let record): try record.encode(to: encoder)
        case .step(let record): try record.encode(to: encoder)
        case .evaluation(let record): try record.encode(to: encoder)
        case .event(let record): try record.encode(to: encoder)
        case .end(let record): try record.encode(to: encoder)
        case .unknown: break
        }
        var c = encoder.container(keyedBy: TypeKey.self)
        try c.encode(type, forKey: .type)
    }

    /// The line's `"type"`.
    public var type: String {
        switch self {
        case .run: return Run.type
        case .step: return Step.type
        case .evaluation: return Evaluation.type
        case .event: return Event.type
        case .end: return End.type
        case .unknown(let type): return type
        }
    }
}
