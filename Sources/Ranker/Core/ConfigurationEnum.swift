/// A closed set of configuration values, written in JSON as `snake_case`
/// strings (the raw values). Decoding a value that is not one of them throws
/// a `DecodingError.dataCorrupted` at the value's path that lists the allowed
/// values, or — for an old spelling such as `"sharedBottom"` or
/// `"shared-bottom"` — names the new one (`"shared_bottom"`).
public protocol ConfigurationEnum: RawRepresentable, CaseIterable, Codable, Sendable where RawValue == String {}

extension ConfigurationEnum {
    public init(from decoder: Decoder) throws {
        let container = try decoder.singleValueContainer()
        let text = try container.decode(String.self)
        if let value = Self(rawValue: text) {
            self = value
            return
        }
        throw DecodingError.dataCorruptedError(in: container, debugDescription: Self.rejection(of: text))
    }

    /// Why `text` is not a value: `"x" is not one of a, b, c` or
    /// `"sharedBottom" is renamed to "shared_bottom"`.
    public static func rejection(of text: String) -> String {
        let allowed = allCases.map(\.rawValue)
        let snake = StrictDecoding.snakeCase(text)
        if snake != text && allowed.contains(snake) { return "\"\(text)\" is renamed to \"\(snake)\"" }
        return "\"\(text)\" is not one of \(allowed.joined(separator: ", "))"
    }
}
