/// An enum-typed option of a balancing method (`"scope"`, `"variant"`, …),
/// written in JSON as its `snake_case` raw value.
///
/// Decoding an unknown string fails with the key and the known values; an old
/// spelling whose `snake_case` form is a known value (`"last-shared-layer"`)
/// fails naming the new one: `unknown value "last-shared-layer" for "scope":
/// renamed to "last_shared_layer"`.
public protocol TaskBalancerOptionValue: RawRepresentable, CaseIterable, Codable, Sendable where RawValue == String {}

extension TaskBalancerOptionValue {
    public init(from decoder: Decoder) throws {
        let container = try decoder.singleValueContainer()
        let text = try container.decode(String.self)
        if let value = Self(rawValue: text) {
            self = value
            return
        }
        let known = Self.allCases.map(\.rawValue)
        let renamed = BalancerConfigurationKeys.snakeCase(text)
        let hint = renamed != text && known.contains(renamed)
            ? ": renamed to \"\(renamed)\"" : "; known: \(known.joined(separator: ", "))"
        let key = decoder.codingPath.last.map { " for \"\($0.stringValue)\"" } ?? ""
        throw DecodingError.dataCorruptedError(in: container, debugDescription: "unknown value \"\(text)\"\(key)\(hint)")
    }
}
