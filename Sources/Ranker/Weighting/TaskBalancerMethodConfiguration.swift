/// One configured balancing method: its name and its options, as the JSON
/// object `{"method": "dwa", "window_steps": 100}`.
///
/// Decoded through `TaskBalancerRegistry` for the section it stands under
/// (`TaskBalancerConfiguration`): an unknown method, a method of the other
/// family, and an unknown key are errors naming what is known; the options are
/// then decoded by the method's `Options` type. Two configurations are equal
/// when they name the same method with equal options.
public struct TaskBalancerMethodConfiguration: Encodable, Equatable, Sendable {
    /// The configuration name of the method.
    public let methodName: String
    /// The family of the method.
    public let family: TaskBalancerFamily
    /// The method's options (`Method.Options`).
    public let options: any TaskBalancerOptions

    /// The method of `options` with those options.
    public init<Options: TaskBalancerOptions>(_ options: Options) {
        methodName = Options.Method.methodName
        family = Options.Method.family
        self.options = options
    }

    /// The registered method `name` with its default options.
    ///
    /// - Throws: `TaskBalancerConfigurationError` naming the registered methods
    ///   when `name` is not one of `family`.
    public init(defaultsOf name: String, family: TaskBalancerFamily) throws {
        guard let method = TaskBalancerRegistry.method(named: name) else {
            throw TaskBalancerConfigurationError(Self.unknownMethodMessage(name, family))
        }
        if method.family != family { throw TaskBalancerConfigurationError(Self.misplacedMessage(name, method.family)) }
        methodName = name
        self.family = family
        options = method.defaultOptions()
    }

    /// Decodes the method object found under `family`'s key.
    init(from decoder: Decoder, family expected: TaskBalancerFamily) throws {
        let name = try BalancerConfigurationKeys.method(in: decoder)
        guard let method = TaskBalancerRegistry.method(named: name) else {
            throw BalancerConfigurationKeys.error(in: decoder, Self.unknownMethodMessage(name, expected))
        }
        if method.family != expected {
            throw BalancerConfigurationKeys.error(in: decoder, Self.misplacedMessage(name, method.family))
        }
        try BalancerConfigurationKeys.rejectUnknown(in: decoder, allowed: ["method"] + method.optionKeys,
                                                    what: "method \"\(name)\"")
        methodName = name
        family = expected
        options = try method.decodeOptions(from: decoder)
    }

    public func encode(to encoder: Encoder) throws {
        var c = encoder.container(keyedBy: BalancerConfigurationKeys.Method.self)
        try c.encode(methodName, forKey: .method)
        try options.encode(to: encoder)
    }

    public static func == (lhs: TaskBalancerMethodConfiguration, rhs: TaskBalancerMethodConfiguration) -> Bool {
        lhs.methodName == rhs.methodName && lhs.options.isEqual(to: rhs.options)
    }

    /// Builds the method's balancer (the options are not validated here).
    func makeBalancer(context: TaskBalancerContext) throws -> TaskBalancer {
        func make<Options: TaskBalancerOptions>(_ options: Options) throws -> TaskBalancer {
            try Options.Method(options: options, context: context)
        }
        return try make(options)
    }

    /// "unknown loss weighting method "x"; known: fixed, dwa, gradnorm, uw".
    static func unknownMethodMessage(_ name: String, _ family: TaskBalancerFamily) -> String {
        "unknown \(family.title) method \"\(name)\"; known: "
            + TaskBalancerRegistry.methodNames(family).joined(separator: ", ")
    }

    /// ""gradcraft" is a gradient combination, not a loss weighting: configure it under "combination"".
    static func misplacedMessage(_ name: String, _ actual: TaskBalancerFamily) -> String {
        let other = TaskBalancerFamily.allCases.first { $0 != actual }!
        return "\"\(name)\" is a \(actual.title), not a \(other.title): configure it under \"\(actual.configurationKey)\""
    }
}
