/// A closed set of configuration values, written in JSON as `snake_case`
/// strings (the raw values). Decoding a value that is not one of them throws
/// a `DecodingError.dataCorrupted` at the value's path whose description is
/// `rejection(of:key:)`: by default it lists the allowed values, or — for an
/// old spelling such as `"sharedBottom"` or `"shared-bottom"` — names the new
/// one (`"shared_bottom"`).
public protocol ConfigurationEnum: RawRepresentable, CaseIterable, Codable, Sendable where RawValue == String {
    /// Why `text`, decoded under `key` (nil at the top level), is not a value.
    static func rejection(of text: String, key: CodingKey?) -> String
}

extension ConfigurationEnum {
    public init(from decoder: Decoder) throws {
        let container = try decoder.singleValueContainer()
        let text = try container.decode(String.self)
        if let value = Self(rawValue: text) {
            self = value
            return
        }
        throw DecodingError.dataCorruptedError(
            in: container, debugDescription: Self.rejection(of: text, key: decoder.codingPath.last))
    }

    /// The raw values, in declaration order.
    public static var allowedValues: [String] { allCases.map(\.rawValue) }

    /// The value `text` is an old spelling of (its `snake_case` form, when
    /// that differs from `text` and is a value), or nil.
    public static func renamedValue(of text: String) -> String? {
        let snake = StrictDecoding.snakeCase(text)
        return snake != text && allowedValues.contains(snake) ? snake : nil
    }

    /// `"x" is not one of a, b, c` or `"sharedBottom" is renamed to "shared_bottom"`.
    public static func rejection(of text: String, key: CodingKey?) -> String {
        if let renamed = renamedValue(of: text) { return "\"\(text)\" is renamed to \"\(renamed)\"" }
        return "\"\(text)\" is not one of \(allowedValues.joined(separator: ", "))"
    }
}
