import Foundation

/// The balancing methods a configuration or a checkpoint can name: the
/// built-in ones below, one line each, plus those a library user registers.
///
/// ```swift
/// TaskBalancerRegistry.register(MyWeighting.self)   // then {"weighting": {"method": "mine"}}
/// ```
///
/// Names are unique across both families (a checkpoint's state is keyed by
/// name). Thread-safe: every access holds one lock.
public enum TaskBalancerRegistry {
    /// The built-in methods, in the order messages and `--help` list them.
    static let builtIn: [any TaskBalancerMethod.Type] = [
        FixedWeighting.self,
        DynamicWeightAverage.self,
        GradNorm.self,
        UncertaintyWeighting.self,
        GradCraft.self,
        PCGrad.self,
    ]

    /// Makes `method` available by its `methodName`. Registering the same type
    /// again does nothing; another type under a taken name is a programmer
    /// error.
    public static func register<Method: TaskBalancerMethod>(_ method: Method.Type) {
        store.lock.lock()
        defer { store.lock.unlock() }
        if let existing = store.methods.first(where: { $0.methodName == Method.methodName }) {
            precondition(ObjectIdentifier(existing) == ObjectIdentifier(method), "a balancing method named \"\(Method.methodName)\" is already registered")
            return
        }
        store.methods.append(method)
    }

    /// The registered names of `family` (both families for `nil`), built-in first,
    /// then in registration order.
    public static func methodNames(_ family: TaskBalancerFamily? = nil) -> [String] {
        store.lock.lock()
        defer { store.lock.unlock() }
        return store.methods.filter { family == nil || $0.family == family }.map { $0.methodName }
    }

    /// The method registered as `name`, if any.
    static func method(named name: String) -> (any TaskBalancerMethod.Type)? {
        store.lock.lock()
        defer { store.lock.unlock() }
        return store.methods.first { $0.methodName == name }
    }

    /// The registered methods behind one lock.
    private final class Store: @unchecked Sendable {
        let lock = NSLock()
        var methods: [any TaskBalancerMethod.Type] = TaskBalancerRegistry.builtIn
    }

    private static let store = Store()
}
