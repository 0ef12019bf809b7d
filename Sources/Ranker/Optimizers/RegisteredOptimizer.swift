/// An update rule that the configuration layer can name, decode and build:
/// everything the registry needs to know about one optimizer. Conform, then
/// add one line to `OptimizerRegistry.builtIn` (library) or call
/// `OptimizerRegistry.register(MyRule.self)` (library user).
///
/// The JSON object of an optimizer is
/// `{"kind": configurationName, "learning_rate": lr, ...configuration keys}`;
/// `kind` and `learning_rate` belong to every optimizer, the other keys to
/// `Configuration`, which is decoded from the same object (with keys outside
/// `configurationKeys` rejected before it is decoded) and encoded back into
/// it. Checkpoints hold the driver's state tensors (`UpdateRule.stateNames`
/// for each parameter, named after it) and step counters.
public protocol RegisteredOptimizer: UpdateRule {
    /// The optimizer's keys as written in JSON (optional values stay unset,
    /// so a configuration encodes back to what was read).
    associatedtype Configuration: Codable & Equatable & Sendable

    /// The `kind` of the JSON object ("adagrad", "clippy").
    static var configurationName: String { get }
    /// The `optimizer` value of telemetry run lines ("adagrad", "clippy_adagrad").
    static var telemetryName: String { get }
    /// Every key `Configuration` reads (besides `kind` and `learning_rate`).
    /// Default for a `CodingKeysListing` configuration: its coding keys.
    static var configurationKeys: [String] { get }
    /// The configuration of a bare `{"kind": configurationName}`.
    static var defaultConfiguration: Configuration { get }

    /// The options a configuration stands for (defaults, presets and
    /// overrides applied), validated.
    ///
    /// - Throws: `OptimizerConfigurationError`.
    static func options(from configuration: Configuration) throws -> Options

    /// Whether per-tensor clipping factors are worth logging (telemetry's
    /// clipping lines). Default: `false`.
    static func reportsClippingFactors(_ options: Options) -> Bool

    /// The optimizer in a few words for tables and logs. Default: `telemetryName`.
    static func summary(of configuration: Configuration) -> String
}

extension RegisteredOptimizer {
    public static func reportsClippingFactors(_ options: Options) -> Bool { false }
    public static func summary(of configuration: Configuration) -> String { telemetryName }
}

extension RegisteredOptimizer where Configuration: CodingKeysListing {
    public static var configurationKeys: [String] { Configuration.codingKeyNames }
}

extension RegisteredOptimizer where Configuration == Options {
    /// Options that are their own JSON form: checked by building the rule.
    public static func options(from configuration: Configuration) throws -> Options {
        _ = try Self(options: configuration)
        return configuration
    }
}
