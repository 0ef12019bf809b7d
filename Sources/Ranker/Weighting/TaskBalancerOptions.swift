/// The options of one balancing method: the JSON object of its configuration
/// without `"method"` (ALGORITHMS.md 5, 6), decoded by the method's own `Decodable`
/// conformance after `TaskBalancerMethodConfiguration` has rejected every key
/// not in `keys`.
///
/// Keys and enum values are `snake_case`; a camelCase or kebab-case spelling of
/// a known key or value is rejected with the new spelling named (see
/// `BalancerConfigurationKeys.snakeCase` and `TaskBalancerOptionValue`).
public protocol TaskBalancerOptions: Codable, Equatable, Sendable {
    /// The method these options configure.
    associatedtype Method: TaskBalancerMethod where Method.Options == Self

    /// Every JSON key the options read (`"method"` excluded).
    static var keys: [String] { get }

    /// The method's defaults (what `--weighting NAME` / `--combination NAME` use).
    init()

    /// The first out-of-range value for a model with `taskCount` tasks, as a
    /// message naming the method and the key; `nil` when the options are usable.
    func problem(taskCount: Int) -> String?
}

extension TaskBalancerOptions {
    public func problem(taskCount: Int) -> String? { nil }

    /// `==` across the type-erased options of two configurations.
    func isEqual(to other: any TaskBalancerOptions) -> Bool {
        (other as? Self) == self
    }
}
