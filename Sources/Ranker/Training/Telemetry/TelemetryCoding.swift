/// The field rules of telemetry lines (TELEMETRY.md), shared by every record:
///
/// * a number that is NaN or ±infinity is written as `null`, and `null` in
///   a number field or a number array reads back as NaN;
/// * an integer field accepts an integral JSON number (`17` or `17.0`);
/// * an optional field that is absent (or `null` as a whole) is `nil`;
/// * a field of the wrong kind throws `TelemetryFieldError` naming it.
extension KeyedEncodingContainer {
    /// `value`, or `null` when it is not finite.
    mutating func encodeNumber(_ value: Double, forKey key: Key) throws {
        if value.isFinite { try encode(value, forKey: key) } else { try encodeNil(forKey: key) }
    }

    /// `value`, `null` when it is nil or not finite.
    mutating func encodeNumber(_ value: Double?, forKey key: Key) throws {
        try encodeNumber(value ?? .nan, forKey: key)
    }

    /// `[v0, v1, …]` with `null` for non-finite entries.
    mutating func encodeNumbers(_ values: [Double], forKey key: Key) throws {
        try encode(values.map { $0.isFinite ? $0 : nil }, forKey: key)
    }

    /// A matrix as an array of rows, `null` for non-finite entries.
    mutating func encodeNumberRows(_ rows: [[Double]], forKey key: Key) throws {
        try encode(rows.map { $0.map { $0.isFinite ? $0 : nil } }, forKey: key)
    }

    /// `{name: number}`, `null` for non-finite numbers.
    mutating func encodeNumberTable(_ table: [String: Double], forKey key: Key) throws {
        var nested = nestedContainer(keyedBy: AnyCodingKey.self, forKey: key)
        for (name, value) in table { try nested.encodeNumber(value, forKey: AnyCodingKey(stringValue: name)) }
    }

    /// `{task: {metric: number}}`, `null` for non-finite numbers.
    mutating func encodeMetricTable(_ table: [String: [String: Double]], forKey key: Key) throws {
        var nested = nestedContainer(keyedBy: AnyCodingKey.self, forKey: key)
        for (task, metrics) in table { try nested.encodeNumberTable(metrics, forKey: AnyCodingKey(stringValue: task)) }
    }
}

extension KeyedDecodingContainer {
    private func fail(_ key: Key, _ reason: String) -> TelemetryFieldError {
        TelemetryFieldError(field: key.stringValue, reason: reason)
    }

    /// True when the field is absent or `null`.
    private func isMissing(_ key: Key) throws -> Bool {
        try !contains(key) || decodeNil(forKey: key)
    }

    /// A required string.
    func decodeText(forKey key: Key) throws -> String {
        guard let text = try decodeTextIfPresent(forKey: key) else { throw fail(key, "expected a string") }
        return text
    }

    func decodeTextIfPresent(forKey key: Key) throws -> String? {
        if try isMissing(key) { return nil }
        guard let text = try? decode(String.self, forKey: key) else { throw fail(key, "expected a string") }
        return text
    }

    func decodeTextsIfPresent(forKey key: Key) throws -> [String]? {
        if try isMissing(key) { return nil }
        guard let texts = try? decode([String].self, forKey: key) else { throw fail(key, "expected an array of strings") }
        return texts
    }

    /// A required integer: absent and `null` are errors.
    func decodeInteger(forKey key: Key) throws -> Int {
        guard contains(key) else { throw TelemetryFieldError(field: nil, reason: "missing field \"\(key.stringValue)\"") }
        guard let value = try decodeIntegerIfPresent(forKey: key) else { throw fail(key, "expected an integer, got null") }
        return value
    }

    func decodeIntegerIfPresent(forKey key: Key) throws -> Int? {
        if try isMissing(key) { return nil }
        guard let value = try? decode(Int.self, forKey: key) else { throw fail(key, "expected an integer") }
        return value
    }

    /// A number field: absent is nil, `null` is NaN.
    func decodeNumberIfPresent(forKey key: Key) throws -> Double? {
        guard contains(key) else { return nil }
        if try decodeNil(forKey: key) { return .nan }
        guard let value = try? decode(Double.self, forKey: key) else { throw fail(key, "expected a number or null") }
        return value
    }

    /// An array of numbers (`null` entries are NaN).
    func decodeNumbersIfPresent(forKey key: Key) throws -> [Double]? {
        if try isMissing(key) { return nil }
        guard let values = try? decode([Double?].self, forKey: key) else {
            throw fail(key, "expected an array of numbers or null")
        }
        return values.map { $0 ?? .nan }
    }

    /// An array of arrays of numbers (`null` entries are NaN).
    func decodeNumberRowsIfPresent(forKey key: Key) throws -> [[Double]]? {
        if try isMissing(key) { return nil }
        guard let rows = try? decode([[Double?]].self, forKey: key) else {
            throw fail(key, "expected an array of arrays of numbers")
        }
        return rows.map { $0.map { $0 ?? .nan } }
    }

    /// `{name: number}` (`null` numbers are NaN).
    func decodeNumberTableIfPresent(forKey key: Key) throws -> [String: Double]? {
        if try isMissing(key) { return nil }
        guard let nested = try? nestedContainer(keyedBy: AnyCodingKey.self, forKey: key) else {
            throw fail(key, "expected an object of name → number")
        }
        var table: [String: Double] = [:]
        table.reserveCapacity(nested.allKeys.count)
        for name in nested.allKeys {
            guard let value = try? nested.decodeNumberIfPresent(forKey: name) else {
                throw fail(key, "entry \"\(name.stringValue)\": expected a number or null")
            }
            table[name.stringValue] = value
        }
        return table
    }

    /// `{task: {metric: number}}` (`null` metrics are NaN); absent is empty.
    func decodeMetricTable(forKey key: Key) throws -> [String: [String: Double]] {
        if try isMissing(key) { return [:] }
        guard let tasks = try? nestedContainer(keyedBy: AnyCodingKey.self, forKey: key) else {
            throw fail(key, "expected an object of task → metrics")
        }
        var table: [String: [String: Double]] = [:]
        for task in tasks.allKeys {
            guard let metrics = try? tasks.nestedContainer(keyedBy: AnyCodingKey.self, forKey: task) else {
                throw fail(key, "task \"\(task.stringValue)\": expected an object of metric → number")
            }
            var row: [String: Double] = [:]
            for metric in metrics.allKeys {
                guard let value = try? metrics.decodeNumberIfPresent(forKey: metric) else {
                    throw fail(key, "task \"\(task.stringValue)\" metric \"\(metric.stringValue)\": expected a number or null")
                }
                row[metric.stringValue] = value
            }
            table[task.stringValue] = row
        }
        return table
    }
}
