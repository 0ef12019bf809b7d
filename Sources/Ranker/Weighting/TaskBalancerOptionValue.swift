/// An enum-typed option of a balancing method (`"scope"`, `"variant"`, …): a
/// `ConfigurationEnum` whose rejection speaks the balancer options' dialect,
/// naming the key.
///
/// An unknown string fails with the key and the known values; an old
/// spelling whose `snake_case` form is a known value (`"last-shared-layer"`)
/// fails naming the new one: `unknown value "last-shared-layer" for "scope":
/// renamed to "last_shared_layer"`.
public protocol TaskBalancerOptionValue: ConfigurationEnum {}

extension TaskBalancerOptionValue {
    public static func rejection(of text: String, key: CodingKey?) -> String {
        let hint = renamedValue(of: text).map { ": renamed to \"\($0)\"" }
            ?? "; known: \(allowedValues.joined(separator: ", "))"
        let forKey = key.map { " for \"\($0.stringValue)\"" } ?? ""
        return "unknown value \"\(text)\"\(forKey)\(hint)"
    }
}
