/// A mistake in a data schema (see `DataSchema`): which schema, where in it
/// (a key path such as `columns[3].transform`) and what is wrong.
public struct SchemaError: Error, Equatable, CustomStringConvertible {
    public enum Problem: Error, Equatable, Sendable {
        /// The text is not valid JSON, or a value has the wrong JSON type.
        case invalidJSON(String)
        /// A key the schema format does not define (a typo is never ignored).
        case unknownKey(String, allowed: [String])
        /// An old spelling of a key that is now written in `snake_case`.
        case renamedKey(String, to: String)
        /// A required key is absent.
        case missingKey(String)
        /// A value is outside what the key accepts.
        case invalidValue(String)
        /// A key that only applies to other roles or settings.
        case keyNotApplicable(key: String, reason: String)
        /// No column has role `label`.
        case noLabel
        /// No column has role `dense` or `sparse`.
        case noFeatures
        /// The same column is given two roles that exclude each other (two
        /// of label/dense/sparse/ignore, two user or two day entries).
        case duplicateColumn(String)
        /// Two tasks, two sparse fields or two dense features share a name.
        case duplicateName(String)
        /// More than one column has role `user` (or `day`).
        case duplicateRole(String)

        public var message: String {
            switch self {
            case .invalidJSON(let text): return "invalid JSON: \(text)"
            case .unknownKey(let key, let allowed):
                return "unknown key \"\(key)\" (known keys: \(allowed.joined(separator: ", ")))"
            case .renamedKey(let key, let newKey): return "unknown key \"\(key)\": renamed to \"\(newKey)\""
            case .missingKey(let key): return "missing required key \"\(key)\""
            case .invalidValue(let text): return text
            case .keyNotApplicable(let key, let reason): return "key \"\(key)\" does not apply: \(reason)"
            case .noLabel: return "no column has role \"label\"; a dataset needs at least one task"
            case .noFeatures: return "no column has role \"dense\" or \"sparse\"; the model would have no input"
            case .duplicateColumn(let column): return "column \(column) is listed with more than one role"
            case .duplicateName(let name): return "the name \"\(name)\" is used twice"
            case .duplicateRole(let role): return "more than one column has role \"\(role)\""
            }
        }
    }

    /// The schema file (or `<schema>` for one built in code).
    public var source: String
    /// Key path inside the schema, e.g. `columns[3].transform` (empty for the whole schema).
    public var path: String
    public var problem: Problem

    public var description: String {
        path.isEmpty ? "\(source): \(problem.message)" : "\(source): \(path): \(problem.message)"
    }
}
