import Foundation

/// A serialisable description of the update layer that builds an optimizer;
/// the trainer and the command-line tool read it from JSON.
///
/// The JSON object is `{"kind": name, "learning_rate": lr, ...}`: `kind` is
/// required and names a registered optimizer (`OptimizerRegistry`);
/// `learning_rate` is common to every optimizer (default 0.01, the library
/// default of ALGORITHMS.md 4.2.4); every other key belongs to the optimizer's own
/// `Configuration` (`AdagradConfiguration`, `ClippyAdagradConfiguration`).
/// Example: `{"kind": "clippy", "preset": "project", "learning_rate": 0.05,
/// "absolute_threshold": 0.001}`. A key that only another registered
/// optimizer reads is `optionNotApplicable`, any other unknown key
/// `unknownKey` (naming the known keys); values are checked by `validate()`.
///
/// Two configurations are equal when kind, learning rate and the optimizer's
/// configuration (as written) are equal.
public struct OptimizerConfiguration: Codable, Equatable, Sendable {
    /// Library default learning rate for Adagrad and Clippy (ALGORITHMS.md 4.2.4 **Decision**).
    public static let defaultLearningRate: Float = 0.01

    public private(set) var kind: OptimizerKind
    public var learningRate: Float
    private var body: OptimizerEntry.Body

    /// The optimizer `kind` with its default configuration.
    public init(kind: OptimizerKind, learningRate: Float = OptimizerConfiguration.defaultLearningRate) {
        self.kind = kind
        self.learningRate = learningRate
        body = kind.entry.defaultBody
    }

    /// Optimizer `R` (registered or not yet) with `configuration`.
    public init<R: RegisteredOptimizer>(_ rule: R.Type, learningRate: Float = OptimizerConfiguration.defaultLearningRate,
                                        configuration: R.Configuration) {
        OptimizerRegistry.register(rule)
        self.kind = OptimizerKind(rawValue: R.configurationName)!
        self.learningRate = learningRate
        body = configuration
    }

    /// The optimizer's own configuration, when it is a `C`.
    public func configuration<C>(as type: C.Type) -> C? { body as? C }

    /// The validated options of optimizer `R`.
    ///
    /// - Throws: `OptimizerConfigurationError.kindMismatch` when this
    ///   configuration is not `R`'s, or the errors of `R.options(from:)`.
    public func options<R: RegisteredOptimizer>(of rule: R.Type) throws -> R.Options {
        guard let c = body as? R.Configuration, kind.rawValue == R.configurationName else {
            throw OptimizerConfigurationError.kindMismatch(expected: R.configurationName, actual: kind.rawValue)
        }
        return try R.options(from: c)
    }

    /// Checks the learning rate (finite, `> 0`) and the optimizer's settings.
    ///
    /// - Throws: `OptimizerConfigurationError`.
    public func validate() throws {
        try OptimizerConfigurationError.requirePositive(learningRate, "learning_rate")
        try kind.entry.validate(body)
    }

    /// A new optimizer with these settings (validated first).
    ///
    /// - Throws: `OptimizerConfigurationError`.
    public func makeOptimizer() throws -> any Optimizer {
        try validate()
        return try kind.entry.makeOptimizer(body)
    }

    /// Whether telemetry logs this optimizer's per-tensor clipping factors.
    ///
    /// - Throws: `OptimizerConfigurationError` for invalid settings.
    public func reportsClippingFactors() throws -> Bool { try kind.entry.reportsClippingFactors(body) }

    /// The optimizer's name in telemetry run lines.
    public var telemetryName: String { kind.entry.telemetryName }

    /// The optimizer in a few words ("Clippy Adagrad, preset project").
    public var summary: String { kind.entry.summary(body) }

    /// This configuration with the keys of the JSON object `overrides` set
    /// (e.g. `{"preset": "paper"}` from a command-line flag), decoded again:
    /// a key the optimizer does not read is rejected as in `init(from:)`.
    ///
    /// - Throws: `OptimizerConfigurationError`, `DecodingError`.
    public func merging(jsonObject overrides: Data) throws -> OptimizerConfiguration {
        var object = try JSONSerialization.jsonObject(with: JSONEncoder().encode(self)) as! [String: Any]
        guard let extra = try JSONSerialization.jsonObject(with: overrides) as? [String: Any] else {
            throw DecodingError.dataCorrupted(.init(codingPath: [], debugDescription: "overrides must be a JSON object"))
        }
        object.merge(extra) { $1 }
        return try JSONDecoder().decode(OptimizerConfiguration.self, from: JSONSerialization.data(withJSONObject: object))
    }

    public static func == (a: OptimizerConfiguration, b: OptimizerConfiguration) -> Bool {
        a.kind == b.kind && a.learningRate == b.learningRate && equalBodies(a.body, b.body)
    }

    private static func equalBodies<T: Equatable>(_ a: T, _ b: Any) -> Bool { (b as? T) == a }

    private enum CommonKeys: String, CodingKey, CaseIterable {
        case kind
        case learningRate = "learning_rate"
    }

    /// Decodes and rejects keys the optimizer does not read
    /// (`OptimizerConfigurationError.optionNotApplicable`, `.unknownKey`)
    /// and unregistered kinds (`.unknownOptimizer`). Values are checked by
    /// `validate()` / `makeOptimizer()`.
    ///
    /// Decoded on its own, these are thrown as `OptimizerConfigurationError`;
    /// inside another object (a run configuration's `optimizer`) as a
    /// `DecodingError` at the key's path (`optimizer.absolut_threshold`,
    /// `optimizer.clipping.threshold`) carrying it.
    public init(from decoder: Decoder) throws {
        self = try StrictDecoding.typedAtTop(decoder, OptimizerConfigurationError.self) {
            try OptimizerConfiguration(located: decoder)
        }
    }

    /// `init(from:)` with its typed errors `StrictDecoding.located` at their keys.
    private init(located decoder: Decoder) throws {
        let c = try decoder.container(keyedBy: CommonKeys.self)
        let name = try c.decode(String.self, forKey: .kind)
        guard let kind = OptimizerKind(rawValue: name) else {
            throw StrictDecoding.located(OptimizerConfigurationError.unknownOptimizer(name, known: OptimizerRegistry.names),
                                         in: decoder, key: CommonKeys.kind.rawValue)
        }
        let entry = kind.entry
        let known = CommonKeys.allCases.map(\.rawValue) + entry.keys
        if let key = try StrictDecoding.unknownKeys(in: decoder, allowed: Set(known)).first {
            let error = OptimizerRegistry.names(readingKey: key).isEmpty
                ? OptimizerConfigurationError.unknownKey(key, known: known.sorted())
                : OptimizerConfigurationError.optionNotApplicable(key: key, kind: name)
            throw StrictDecoding.located(error, in: decoder, key: key)
        }
        self.kind = kind
        learningRate = try c.decodeChecked(Float.self, forKey: .learningRate) ?? Self.defaultLearningRate
        body = try entry.decode(decoder)
    }

    public func encode(to encoder: Encoder) throws {
        var c = encoder.container(keyedBy: CommonKeys.self)
        try c.encode(kind.rawValue, forKey: .kind)
        try c.encode(learningRate, forKey: .learningRate)
        try body.encode(to: encoder)
    }
}
