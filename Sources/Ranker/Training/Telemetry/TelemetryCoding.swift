/// How one kind of telemetry field is read and written, by the field rules of
/// telemetry lines (TELEMETRY.md) that every record shares:
///
/// * a number that is NaN or ±infinity is written as `null`, and `null` in
///   a number field or a number array reads back as NaN;
/// * an integer field accepts an integral JSON number (`17` or `17.0`);
/// * an optional field that is absent (or `null` as a whole) is `nil`;
/// * a field of the wrong kind throws `TelemetryFieldError` naming it.
///
/// A record declares each field with a wrapper (`Field`, `OptionalField`,
/// `NullableField`) and one of the rules below, and gets its coding synthesized.
public protocol TelemetryFieldRule {
    associatedtype Value: Equatable & Sendable
    /// What a field of this kind holds, for errors (`an integer`).
    static var expected: String { get }
    /// What a non-optional field that is absent or `null` reads as (empty
    /// collections); nil when it has no such value.
    static var absent: Value? { get }
    /// The value of a field that is present (`decoder.codingPath.last` names
    /// it); nil when it is `null`, except for numbers (NaN).
    static func read(_ decoder: Decoder) throws -> Value?
    /// Writes a value (non-finite numbers as `null`).
    static func write(_ value: Value, to encoder: Encoder) throws
    /// True when a non-optional field with this value is left out of the line.
    static func isOmitted(_ value: Value) -> Bool
}

extension TelemetryFieldRule {
    public static var absent: Value? { nil }
    public static func isOmitted(_ value: Value) -> Bool { false }

    static func fail(_ decoder: Decoder, _ reason: String) -> TelemetryFieldError {
        TelemetryFieldError(field: decoder.codingPath.last?.stringValue, reason: reason)
    }

    /// The field's value of kind `T`, nil when it is `null`; throws `expected` when of another kind.
    static func single<T: Decodable>(_ type: T.Type, _ decoder: Decoder) throws -> T? {
        let c = try decoder.singleValueContainer()
        if c.decodeNil() { return nil }
        guard let value = try? c.decode(T.self) else { throw fail(decoder, "expected \(expected)") }
        return value
    }

    /// An entry of a table: a number, NaN for `null`, nil when of another kind.
    static func tableNumber(_ c: KeyedDecodingContainer<AnyCodingKey>, _ key: AnyCodingKey) -> Double? {
        if (try? c.decodeNil(forKey: key)) == true { return .nan }
        return try? c.decode(Double.self, forKey: key)
    }

    static func writeSingle<T: Encodable>(_ value: T, to encoder: Encoder) throws {
        var c = encoder.singleValueContainer()
        try c.encode(value)
    }
}

/// The coding keys of a record with text fields that read with a placeholder
/// (`?`) when a line lacks them, rather than failing.
protocol TelemetryPlaceholderKey: CodingKey {
    /// What the field reads as when it is absent or `null`; nil: it is required.
    var placeholder: String? { get }
}

/// The field rules, one per kind of value.
extension TelemetryRecord {
    /// An integer.
    public enum Integer: TelemetryFieldRule {
        public static let expected = "an integer"
        public static func read(_ decoder: Decoder) throws -> Int? { try single(Int.self, decoder) }
        public static func write(_ value: Int, to encoder: Encoder) throws { try writeSingle(value, to: encoder) }
    }

    /// A string.
    public enum Text: TelemetryFieldRule {
        public static let expected = "a string"
        public static func read(_ decoder: Decoder) throws -> String? { try single(String.self, decoder) }
        public static func write(_ value: String, to encoder: Encoder) throws { try writeSingle(value, to: encoder) }
    }

    /// An array of strings (absent: empty).
    public enum Texts: TelemetryFieldRule {
        public static let expected = "an array of strings"
        public static var absent: [String]? { [] }
        public static func read(_ decoder: Decoder) throws -> [String]? { try single([String].self, decoder) }
        public static func write(_ value: [String], to encoder: Encoder) throws { try writeSingle(value, to: encoder) }
    }

    /// A number: `null` is NaN, and a non-finite number is written as `null`.
    public enum Number: TelemetryFieldRule {
        public static let expected = "a number or null"
        public static func read(_ decoder: Decoder) throws -> Double? { try single(Double.self, decoder) ?? .nan }
        public static func write(_ value: Double, to encoder: Encoder) throws {
            try writeSingle(value.isFinite ? value : nil, to: encoder)
        }
    }

    /// `[v0, v1, …]`, `null` entries for non-finite numbers (absent: empty).
    public enum Numbers: TelemetryFieldRule {
        public static let expected = "an array of numbers or null"
        public static var absent: [Double]? { [] }
        public static func read(_ decoder: Decoder) throws -> [Double]? {
            try single([Double?].self, decoder).map { $0.map { $0 ?? .nan } }
        }
        public static func write(_ value: [Double], to encoder: Encoder) throws {
            try writeSingle(value.map { $0.isFinite ? $0 : nil }, to: encoder)
        }
    }

    /// A matrix as an array of rows, `null` entries for non-finite numbers.
    public enum NumberRows: TelemetryFieldRule {
        public static let expected = "an array of arrays of numbers"
        public static func read(_ decoder: Decoder) throws -> [[Double]]? {
            try single([[Double?]].self, decoder).map { $0.map { $0.map { $0 ?? .nan } } }
        }
        public static func write(_ value: [[Double]], to encoder: Encoder) throws {
            try writeSingle(value.map { $0.map { $0.isFinite ? $0 : nil } }, to: encoder)
        }
    }

    /// `{name: number}`, `null` for non-finite numbers.
    public enum NumberTable: TelemetryFieldRule {
        public static let expected = "an object of name → number"
        public static func read(_ decoder: Decoder) throws -> [String: Double]? {
            if try decoder.singleValueContainer().decodeNil() { return nil }
            guard let names = try? decoder.container(keyedBy: AnyCodingKey.self) else { throw fail(decoder, "expected \(expected)") }
            var table: [String: Double] = [:]
            table.reserveCapacity(names.allKeys.count)
            for name in names.allKeys {
                guard let value = tableNumber(names, name) else {
                    throw fail(decoder, "entry \"\(name.stringValue)\": expected a number or null")
                }
                table[name.stringValue] = value
            }
            return table
        }
        public static func write(_ value: [String: Double], to encoder: Encoder) throws {
            try writeSingle(value.mapValues { $0.isFinite ? $0 : nil }, to: encoder)
        }
    }

    /// `{kind: count}`, read like a number table (a non-integral count is 0).
    public enum Counts: TelemetryFieldRule {
        public static let expected = NumberTable.expected
        public static func read(_ decoder: Decoder) throws -> [String: Int]? {
            try NumberTable.read(decoder)?.mapValues { Int(exactly: $0) ?? 0 }
        }
        public static func write(_ value: [String: Int], to encoder: Encoder) throws { try writeSingle(value, to: encoder) }
    }

    /// `{task: {metric: number}}`, `null` for non-finite numbers (absent:
    /// empty; left out of the line when empty).
    public enum MetricTable: TelemetryFieldRule {
        public static let expected = "an object of task → metrics"
        public static var absent: [String: [String: Double]]? { [:] }
        public static func isOmitted(_ value: [String: [String: Double]]) -> Bool { value.isEmpty }
        public static func read(_ decoder: Decoder) throws -> [String: [String: Double]]? {
            if try decoder.singleValueContainer().decodeNil() { return nil }
            guard let tasks = try? decoder.container(keyedBy: AnyCodingKey.self) else { throw fail(decoder, "expected \(expected)") }
            var table: [String: [String: Double]] = [:]
            for task in tasks.allKeys {
                guard let metrics = try? tasks.nestedContainer(keyedBy: AnyCodingKey.self, forKey: task) else {
                    throw fail(decoder, "task \"\(task.stringValue)\": expected an object of metric → number")
                }
                var row: [String: Double] = [:]
                for metric in metrics.allKeys {
                    guard let value = tableNumber(metrics, metric) else {
                        throw fail(decoder, "task \"\(task.stringValue)\" metric \"\(metric.stringValue)\": expected a number or null")
                    }
                    row[metric.stringValue] = value
                }
                table[task.stringValue] = row
            }
            return table
        }
        public static func write(_ value: [String: [String: Double]], to encoder: Encoder) throws {
            try writeSingle(value.mapValues { $0.mapValues { $0.isFinite ? $0 : nil } }, to: encoder)
        }
    }
}
