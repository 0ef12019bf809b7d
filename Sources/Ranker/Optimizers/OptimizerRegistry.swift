import Foundation

/// The optimizers a configuration can name: the built-in ones, one line
/// each, and those a library user registers with `register(_:)`. Thread-safe.
public enum OptimizerRegistry {
    /// The library's optimizers.
    static let builtIn: [any RegisteredOptimizer.Type] = [
        AdagradRule.self,
        ClippyAdagradRule.self,
        AdamRule.self,
    ]

    private static let lock = NSLock()
    nonisolated(unsafe) private static var entries: [String: OptimizerEntry] = {
        var table: [String: OptimizerEntry] = [:]
        for rule in builtIn {
            let entry = OptimizerEntry(rule)
            table[entry.name] = entry
        }
        return table
    }()

    /// Makes `rule` available under `R.configurationName` (in JSON
    /// configurations, `OptimizerKind` and the command line's `--optimizer`).
    /// Registering the same type again does nothing; another type under a
    /// taken name is a programmer error.
    public static func register<R: RegisteredOptimizer>(_ rule: R.Type) {
        let entry = OptimizerEntry(rule)
        lock.lock()
        defer { lock.unlock() }
        if let existing = entries[entry.name] {
            precondition(existing.typeName == entry.typeName,
                         "optimizer name \(entry.name) is taken by \(existing.typeName), cannot register \(entry.typeName)")
            return
        }
        entries[entry.name] = entry
    }

    /// The registered configuration names, sorted.
    public static var names: [String] {
        lock.lock()
        defer { lock.unlock() }
        return entries.keys.sorted()
    }

    static func entry(named name: String) -> OptimizerEntry? {
        lock.lock()
        defer { lock.unlock() }
        return entries[name]
    }

    /// Names of the optimizers whose configuration reads `key`, sorted.
    static func names(readingKey key: String) -> [String] {
        lock.lock()
        defer { lock.unlock() }
        return entries.values.filter { $0.keys.contains(key) }.map(\.name).sorted()
    }
}

/// What the registry keeps of one `RegisteredOptimizer`: its names and keys,
/// and its static functions with the configuration type erased.
struct OptimizerEntry: Sendable {
    typealias Body = any Codable & Equatable & Sendable

    let name: String
    let telemetryName: String
    let typeName: String
    let keys: [String]
    let defaultBody: Body
    let decode: @Sendable (Decoder) throws -> Body
    let validate: @Sendable (Body) throws -> Void
    let makeOptimizer: @Sendable (Body) throws -> any Optimizer
    let reportsClippingFactors: @Sendable (Body) throws -> Bool
    let summary: @Sendable (Body) -> String

    init<R: RegisteredOptimizer>(_ rule: R.Type) {
        name = R.configurationName
        telemetryName = R.telemetryName
        typeName = String(reflecting: R.self)
        keys = R.configurationKeys
        defaultBody = R.defaultConfiguration
        decode = { try R.Configuration(from: $0) }
        validate = { _ = try R(options: R.options(from: $0 as! R.Configuration)) }
        makeOptimizer = { try OptimizerDriver<R>(options: R.options(from: $0 as! R.Configuration)) }
        reportsClippingFactors = { R.reportsClippingFactors(try R.options(from: $0 as! R.Configuration)) }
        summary = { R.summary(of: $0 as! R.Configuration) }
    }
}
