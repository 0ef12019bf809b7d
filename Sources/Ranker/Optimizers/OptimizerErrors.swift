/// An optimizer setting that cannot be used (bad configuration input).
public enum OptimizerConfigurationError: Error, Equatable, CustomStringConvertible {
    /// A threshold or factor that must be `>= 0` (and finite) is not.
    case negativeValue(name: String, value: Float)
    /// A value that must be `> 0` (and finite) is not.
    case nonPositiveValue(name: String, value: Float)
    /// A value that must be finite is not.
    case nonFiniteValue(name: String, value: Float)
    /// A value outside its interval (`range` as written, e.g. `[0, 1)`).
    case outOfRange(name: String, value: Float, range: String)
    /// `initial_accumulator_value + epsilon` must be positive, otherwise the
    /// first preconditioner `1/sqrt(acc + eps)` is infinite.
    case zeroAccumulatorAndEpsilon
    /// Clippy: `clip_accumulator_update` and `use_standard_accumulator_update`
    /// are mutually exclusive (TFRS raises the same error).
    case clipAccumulatorUpdateWithStandardUpdate
    /// `shrinkByReferences`: the number of references and of relative factors differ,
    /// or a reference has neither one element nor as many as the tensor.
    case referenceMismatch(String)
    /// A configuration key that does not apply to the chosen optimizer kind.
    case optionNotApplicable(key: String, kind: String)
    /// A configuration key that no registered optimizer reads (likely a
    /// typo), with the keys the chosen optimizer knows.
    case unknownKey(String, known: [String])
    /// A `kind` no optimizer is registered under, with the registered names.
    case unknownOptimizer(String, known: [String])
    /// Options of one optimizer asked of another's configuration.
    case kindMismatch(expected: String, actual: String)

    public var description: String {
        switch self {
        case .negativeValue(let name, let value):
            return "optimizer option \(name) must be a finite value >= 0, got \(value)"
        case .nonPositiveValue(let name, let value):
            return "optimizer option \(name) must be a finite value > 0, got \(value)"
        case .nonFiniteValue(let name, let value):
            return "optimizer option \(name) must be finite, got \(value)"
        case .outOfRange(let name, let value, let range):
            return "optimizer option \(name) must be in \(range), got \(value)"
        case .zeroAccumulatorAndEpsilon:
            return "initial_accumulator_value + epsilon must be > 0 (otherwise 1/sqrt(acc + eps) is infinite on the first step)"
        case .clipAccumulatorUpdateWithStandardUpdate:
            return "clip_accumulator_update and use_standard_accumulator_update are mutually exclusive"
        case .referenceMismatch(let detail):
            return "shrink_by_references: \(detail)"
        case .optionNotApplicable(let key, let kind):
            return "optimizer option \(key) does not apply to optimizer kind \(kind)"
        case .unknownKey(let key, let known):
            return "unknown optimizer configuration key \(key) (known keys: \(known.joined(separator: ", ")))"
        case .unknownOptimizer(let name, let known):
            return "no optimizer named \(name) (registered: \(known.joined(separator: ", ")))"
        case .kindMismatch(let expected, let actual):
            return "asked for \(expected) options of a \(actual) optimizer configuration"
        }
    }

    /// Checks `value >= 0` and finite.
    static func requireNonNegative(_ value: Float, _ name: String) throws {
        guard value.isFinite, value >= 0 else { throw OptimizerConfigurationError.negativeValue(name: name, value: value) }
    }

    /// Checks `value > 0` and finite.
    static func requirePositive(_ value: Float, _ name: String) throws {
        guard value.isFinite, value > 0 else { throw OptimizerConfigurationError.nonPositiveValue(name: name, value: value) }
    }
}

/// Optimizer state that cannot be restored (a checkpoint that does not fit
/// the model). Nothing is changed when one of these is thrown.
public enum OptimizerStateError: Error, Equatable, CustomStringConvertible {
    /// A state tensor the optimizer expects is absent (named as in
    /// `Optimizer.stateTensorNames(forParameter:)`: the parameter's name, or
    /// `<parameter>/<state>` for a rule with several state tensors).
    case missingTensor(parameter: String)
    /// A state tensor whose name is no parameter's name.
    case unknownTensor(name: String)
    /// Two state tensors with the same name.
    case duplicateTensor(name: String)
    /// A state tensor whose shape differs from its parameter's.
    case shapeMismatch(name: String, expectedRows: Int, expectedCols: Int, rows: Int, cols: Int)
    /// A state value that is not finite or that the update rule rejects
    /// (`UpdateRule.isValidStateValue`; accumulators must be `>= 0`).
    case invalidValue(name: String, index: Int, value: Float)
    /// Negative step counters.
    case invalidScalars(OptimizerScalarState)

    public var description: String {
        switch self {
        case .missingTensor(let parameter):
            return "optimizer state tensor \(parameter) is missing (every parameter needs each of the optimizer's state tensors)"
        case .unknownTensor(let name):
            return "optimizer state tensor \(name) matches no parameter of the model"
        case .duplicateTensor(let name):
            return "optimizer state tensor \(name) appears more than once"
        case .shapeMismatch(let name, let er, let ec, let r, let c):
            return "optimizer state tensor \(name) is \(r) × \(c), the parameter is \(er) × \(ec)"
        case .invalidValue(let name, let index, let value):
            return "optimizer state tensor \(name) holds \(value) at flat index \(index) (state values are finite and valid for the optimizer; accumulators are >= 0)"
        case .invalidScalars(let s):
            return "optimizer step counters must be >= 0, got step_count \(s.stepCount), skipped_step_count \(s.skippedStepCount)"
        }
    }
}
