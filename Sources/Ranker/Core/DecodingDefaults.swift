extension KeyedDecodingContainer {
    /// The value at `key`, or `fallback` when the key is absent or `null`:
    /// how every optional configuration key takes its default.
    func decode<T: Decodable>(_ key: Key, default fallback: @autoclosure () -> T) throws -> T {
        try decodeChecked(T.self, forKey: key) ?? fallback()
    }

    /// The value at `key`, nil when the key is absent or `null`; a value of
    /// the wrong JSON type or out of range for a number, a Boolean or a string
    /// (`"epochs": 1.5`, `"seed": -5`, `"batch_size": 1e20`) throws a
    /// `DecodingError.typeMismatch` at the key's path that says what was
    /// expected and what was found (see `ExpectedValue`), instead of the
    /// decoder's own text (which can read "not valid JSON" for valid JSON).
    func decodeChecked<T: Decodable>(_ type: T.Type, forKey key: Key) throws -> T? {
        do {
            return try decodeIfPresent(T.self, forKey: key)
        } catch {
            // Foundation throws its own (internal) error type for a number
            // that does not fit, and turns it into "not valid JSON" at the top.
            guard let expected = ExpectedValue.description(of: T.self),
                  (error as? DecodingError)?.isAbout(codingPath + [key]) ?? true else { throw error }
            throw DecodingError.typeMismatch(T.self, DecodingError.Context(
                codingPath: codingPath + [key],
                debugDescription: "expected \(expected), found \(foundValue(forKey: key))"))
        }
    }

    /// The JSON value at `key` as a message shows it: a number or Boolean as
    /// written (as read back), a string in quotes, else its kind.
    func foundValue(forKey key: Key) -> String {
        if let value = try? decode(Int64.self, forKey: key) { return "\(value)" }
        if let value = try? decode(UInt64.self, forKey: key) { return "\(value)" }
        if let value = try? decode(Double.self, forKey: key) { return "\(value)" }
        if let value = try? decode(Bool.self, forKey: key) { return "\(value)" }
        if let value = try? decode(String.self, forKey: key) { return "\"\(DiagnosticText.visible(value))\"" }
        if let values = try? decode([Int64].self, forKey: key) { return "\(values)" }
        if let values = try? decode([Double].self, forKey: key) { return "\(values)" }
        if (try? nestedUnkeyedContainer(forKey: key)) != nil { return "an array" }
        if (try? nestedContainer(keyedBy: AnyCodingKey.self, forKey: key)) != nil { return "an object" }
        return "null"
    }
}

extension DecodingError {
    /// Whether the error is a wrong type or unreadable value at `path` (not
    /// a missing key). Foundation's decoder reports a number that does not
    /// fit the type (`1.5` or `1e20` for an `Int`, `-5` for a `UInt64`) with
    /// an empty coding path, so an empty path counts as `path`.
    func isAbout(_ path: [CodingKey]) -> Bool {
        let context: Context
        switch self {
        case .typeMismatch(_, let c), .dataCorrupted(let c), .valueNotFound(_, let c): context = c
        default: return false
        }
        return context.codingPath.isEmpty || StrictDecoding.pathString(context.codingPath) == StrictDecoding.pathString(path)
    }
}

/// What a configuration value of a Swift type must be, in words, for errors.
enum ExpectedValue {
    /// `an integer from 0 to 18446744073709551615` for `UInt64`, `a number`
    /// for `Float`, …; arrays of these too. Nil for other types: they decode
    /// themselves and say what they expect.
    static func description(of type: Any.Type) -> String? {
        switch type {
        case is Int.Type, is Int64.Type: return "an integer from \(Int64.min) to \(Int64.max)"
        case is Int32.Type: return "an integer from \(Int32.min) to \(Int32.max)"
        case is UInt64.Type, is UInt.Type: return "an integer from 0 to \(UInt64.max)"
        case is UInt32.Type: return "an integer from 0 to \(UInt32.max)"
        case is Float.Type: return "a number within ±\(Float.greatestFiniteMagnitude)"
        case is Double.Type: return "a number"
        case is Bool.Type: return "true or false"
        case is String.Type: return "a string"
        case is [Int].Type: return "an array of integers (each from \(Int64.min) to \(Int64.max))"
        case is [Float].Type, is [Double].Type: return "an array of numbers"
        case is [String].Type: return "an array of strings"
        default: return nil
        }
    }
}
