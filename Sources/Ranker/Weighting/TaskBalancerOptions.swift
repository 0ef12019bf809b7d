/// The options of one balancing method: the JSON object of its configuration
/// without `"method"` (ALGORITHMS.md 5, 6), decoded by the method's own `Decodable`
/// conformance after `TaskBalancerMethodConfiguration` has rejected every key
/// not in `keys`.
///
/// Keys and enum values are `snake_case`; a camelCase or kebab-case spelling of
/// a known key or value is rejected with the new spelling named (see
/// `BalancerConfigurationKeys.snakeCase` and `TaskBalancerOptionValue`).
public protocol TaskBalancerOptions: Codable, Equatable, Sendable, CodingKeysListing {
    /// The method these options configure.
    associatedtype Method: TaskBalancerMethod where Method.Options == Self

    /// Every JSON key the options read (`"method"` excluded). Default: the
    /// names of `CodingKeys`.
    static var keys: [String] { get }

    /// The method's defaults (what `--weighting NAME` / `--combination NAME` use).
    init()

    /// The first out-of-range value for a model with `taskCount` tasks, as a
    /// message naming the method and the key; `nil` when the options are usable.
    func problem(taskCount: Int) -> String?
}

extension TaskBalancerOptions {
    public static var keys: [String] { codingKeyNames }

    public func problem(taskCount: Int) -> String? { nil }

    /// Stops the program when a balancer is built directly (not from a
    /// configuration, which reports these as errors) for no task at all or
    /// with options that `problem(taskCount:)` rejects.
    func requireUsable(taskCount: Int) {
        precondition(taskCount >= 1, "\(Method.methodName) needs at least one task")
        if let problem = problem(taskCount: taskCount) { preconditionFailure(problem) }
    }

    /// `==` across the type-erased options of two configurations.
    func isEqual(to other: any TaskBalancerOptions) -> Bool {
        (other as? Self) == self
    }
}
