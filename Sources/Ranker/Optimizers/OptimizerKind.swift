/// The configuration name of a registered optimizer (`"adagrad"`,
/// `"clippy"`, or a name added with `OptimizerRegistry.register`).
/// Only registered names can be made.
public struct OptimizerKind: RawRepresentable, Hashable, Sendable, CustomStringConvertible {
    public let rawValue: String

    /// `nil` when no optimizer is registered under `rawValue`.
    public init?(rawValue: String) {
        guard OptimizerRegistry.entry(named: rawValue) != nil else { return nil }
        self.rawValue = rawValue
    }

    public var description: String { rawValue }

    /// The registry's entry (registrations are never removed).
    var entry: OptimizerEntry { OptimizerRegistry.entry(named: rawValue)! }
}
