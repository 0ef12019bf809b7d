/// A balancing method as a registrable type: the balancer class itself, which
/// declares its configuration name, its family, its options, its checkpointed
/// state and how it is built. `TaskBalancerRegistry` maps names to such types;
/// adding a method is one conforming type plus one registry line (a library
/// user calls `TaskBalancerRegistry.register(_:)` instead).
///
/// Supplied here from the declarations: `methodName`, `family`, and the
/// type-erased `state` / `restore(_:)` of `TaskBalancer` (restore rejects a
/// state of another method or task count with
/// `TaskBalancingError.stateMismatch`, then calls `restore(methodState:)`).
/// A method states its family by conforming to `LossWeightingMethod` or
/// `GradientCombinationMethod`.
public protocol TaskBalancerMethod: TaskBalancer {
    associatedtype Options: TaskBalancerOptions
    associatedtype State: TaskBalancerMethodState

    /// The configuration name (`"method"` in JSON, the key of checkpointed
    /// state); unique across both families.
    static var methodName: String { get }
    /// Where the method is configured and what its telemetry weights mean.
    static var family: TaskBalancerFamily { get }

    /// Builds the balancer for a model.
    ///
    /// - Throws: `TaskBalancerConfigurationError` when the options cannot serve
    ///   this model (GradNorm's last shared layer when the model names none).
    init(options: Options, context: TaskBalancerContext) throws

    /// Everything a resumed run needs to continue exactly.
    var methodState: State { get }

    /// Restores a state of this method with `taskCount` tasks (the task count
    /// is already checked).
    ///
    /// - Throws: `TaskBalancingError.stateMismatch` for inconsistent sizes.
    func restore(methodState: State) throws
}

/// The checkpointed state of one method (Codable, compared after a round trip).
public protocol TaskBalancerMethodState: Codable, Equatable, Sendable {
    /// `T` of the balancer the state was taken from.
    var taskCount: Int { get }
}

/// What a balancer is built for.
public struct TaskBalancerContext: Sendable {
    /// `T`.
    public var taskCount: Int
    /// Names of the model's last shared layer parameters (GradNorm's default
    /// scope; the model decides them).
    public var lastSharedLayer: [String]
    /// The run's seed (PCGrad's visiting orders).
    public var seed: UInt64

    public init(taskCount: Int, lastSharedLayer: [String] = [], seed: UInt64 = 0) {
        self.taskCount = taskCount
        self.lastSharedLayer = lastSharedLayer
        self.seed = seed
    }
}

/// A loss-weighting method (`family` `.lossWeighting`): by default it needs
/// no per-task gradients (GradNorm, which reads them, says so).
public protocol LossWeightingMethod: TaskBalancerMethod {}

extension LossWeightingMethod {
    public static var family: TaskBalancerFamily { .lossWeighting }

    public var requiresPerTaskGradients: Bool { false }
}

/// A gradient-combination method (`family` `.gradientCombination`): it always
/// works on the per-task gradients of the multi-gradient pass.
public protocol GradientCombinationMethod: TaskBalancerMethod {}

extension GradientCombinationMethod {
    public static var family: TaskBalancerFamily { .gradientCombination }

    public var requiresPerTaskGradients: Bool { true }
}

/// A method that needs nothing of the model but its task count: it is built
/// by `init(taskCount:options:)`, which also serves as its
/// `init(options:context:)`.
public protocol TaskCountBalancerMethod: TaskBalancerMethod {
    init(taskCount: Int, options: Options)
}

extension TaskCountBalancerMethod {
    public init(options: Options, context: TaskBalancerContext) {
        self.init(taskCount: context.taskCount, options: options)
    }
}

extension TaskBalancerMethod {
    public var methodName: String { Self.methodName }

    public var family: TaskBalancerFamily { Self.family }

    public var state: TaskBalancerState { TaskBalancerState(methodName: Self.methodName, value: methodState) }

    public func restore(_ state: TaskBalancerState) throws {
        guard state.methodName == Self.methodName, let saved = state.value as? State else {
            throw TaskBalancingError.stateMismatch("expected a \(Self.methodName) state, got \(state.methodName)")
        }
        guard saved.taskCount == taskCount else {
            throw TaskBalancingError.stateMismatch("state has \(saved.taskCount) tasks, balancer has \(taskCount)")
        }
        try restore(methodState: saved)
    }

    /// The JSON keys of the method's options.
    static var optionKeys: [String] { Options.keys }

    /// The method's options decoded from the configuration object.
    static func decodeOptions(from decoder: Decoder) throws -> any TaskBalancerOptions {
        try Options(from: decoder)
    }

    /// The method's defaults.
    static func defaultOptions() -> any TaskBalancerOptions { Options() }

    /// The method's state decoded from `key` of a checkpoint's balancer object.
    static func decodeState<Key: CodingKey>(from container: KeyedDecodingContainer<Key>,
                                            forKey key: Key) throws -> any TaskBalancerMethodState {
        try container.decode(State.self, forKey: key)
    }
}
