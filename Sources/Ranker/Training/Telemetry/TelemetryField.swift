extension TelemetryRecord {
    /// A field every line of a record has (`step`, `losses`, `tasks`), read and
    /// written by `Rule`: when absent or `null` it reads as the rule's empty value
    /// or the key's placeholder, and otherwise is an error (`missing field "step"`).
    @propertyWrapper
    public struct Field<Rule: TelemetryFieldRule>: Codable, Equatable, Sendable {
        public var wrappedValue: Rule.Value

        public init(wrappedValue: Rule.Value) { self.wrappedValue = wrappedValue }

        /// The field's value as a line without it (or with `null`) reads, if any.
        static func fallback(_ key: CodingKey) -> Rule.Value? {
            Rule.absent ?? (key as? TelemetryPlaceholderKey)?.placeholder as? Rule.Value
        }

        public init(from decoder: Decoder) throws {
            let key = decoder.codingPath.last
            guard let value = try Rule.read(decoder) ?? key.flatMap(Self.fallback) else {
                throw TelemetryFieldError(field: key?.stringValue, reason: "expected \(Rule.expected), got null")
            }
            wrappedValue = value
        }

        public func encode(to encoder: Encoder) throws { try Rule.write(wrappedValue, to: encoder) }
    }

    /// A field that may be absent: `nil` when absent or `null` (a number's `null`
    /// is NaN); left out of the line when nil.
    @propertyWrapper
    public struct OptionalField<Rule: TelemetryFieldRule>: Codable, Equatable, Sendable {
        public var wrappedValue: Rule.Value?

        public init(wrappedValue: Rule.Value?) { self.wrappedValue = wrappedValue }

        public init(from decoder: Decoder) throws { wrappedValue = try Rule.read(decoder) }

        /// The value, or `null` when nil.
        public func encode(to encoder: Encoder) throws {
            if let wrappedValue { try Rule.write(wrappedValue, to: encoder) } else {
                var c = encoder.singleValueContainer()
                try c.encodeNil()
            }
        }
    }

    /// A field read like `OptionalField` but written as `null` when nil (`day`
    /// of a step line in epoch mode, `best_step` before any evaluation).
    @propertyWrapper
    public struct NullableField<Rule: TelemetryFieldRule>: Codable, Equatable, Sendable {
        public var wrappedValue: Rule.Value?

        public init(wrappedValue: Rule.Value?) { self.wrappedValue = wrappedValue }

        public init(from decoder: Decoder) throws { wrappedValue = try OptionalField<Rule>(from: decoder).wrappedValue }

        public func encode(to encoder: Encoder) throws { try OptionalField<Rule>(wrappedValue: wrappedValue).encode(to: encoder) }
    }
}

/// Absent fields in the records' synthesized decoding: the standard decoding
/// of a missing key would throw `keyNotFound`.
extension KeyedDecodingContainer {
    func decode<Rule>(_: TelemetryRecord.Field<Rule>.Type, forKey key: Key) throws -> TelemetryRecord.Field<Rule> {
        if contains(key) { return try TelemetryRecord.Field(from: superDecoder(forKey: key)) }
        guard let value = TelemetryRecord.Field<Rule>.fallback(key) else {
            throw TelemetryFieldError(field: nil, reason: "missing field \"\(key.stringValue)\"")
        }
        return TelemetryRecord.Field(wrappedValue: value)
    }

    func decode<Rule>(_: TelemetryRecord.OptionalField<Rule>.Type,
                      forKey key: Key) throws -> TelemetryRecord.OptionalField<Rule> {
        contains(key) ? try TelemetryRecord.OptionalField(from: superDecoder(forKey: key))
            : TelemetryRecord.OptionalField(wrappedValue: nil)
    }

    func decode<Rule>(_: TelemetryRecord.NullableField<Rule>.Type,
                      forKey key: Key) throws -> TelemetryRecord.NullableField<Rule> {
        TelemetryRecord.NullableField(wrappedValue: try decode(TelemetryRecord.OptionalField<Rule>.self, forKey: key).wrappedValue)
    }
}

/// Left-out fields in the records' synthesized encoding: a nil optional
/// field, or a field whose rule omits its value.
extension KeyedEncodingContainer {
    mutating func encode<Rule>(_ field: TelemetryRecord.Field<Rule>, forKey key: Key) throws {
        if !Rule.isOmitted(field.wrappedValue) { try field.encode(to: superEncoder(forKey: key)) }
    }

    mutating func encode<Rule>(_ field: TelemetryRecord.OptionalField<Rule>, forKey key: Key) throws {
        if field.wrappedValue != nil { try field.encode(to: superEncoder(forKey: key)) }
    }
}
