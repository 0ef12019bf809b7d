import Foundation

/// A run configuration that cannot be used, with the file when known.
public struct RunConfigurationError: Error, CustomStringConvertible, Equatable {
    public let file: String?
    public let message: String
    public var description: String { (file.map { "\($0): " } ?? "") + message }

    public init(file: String?, message: String) {
        self.file = file
        self.message = message
    }
}

/// Reads and decodes a JSON configuration file (a run configuration, a model
/// comparison, an experiment), then runs `validate` on the result. Every
/// failure — unreadable file, decoding error, a `RunConfigurationError` from
/// decoding or `validate` — is thrown as a `RunConfigurationError` naming
/// the file and, for decoding errors, the key (see `decodeConfiguration`).
public func decodeConfigurationFile<T: Decodable>(_ type: T.Type, path: String,
                                           validate: (T) throws -> Void = { _ in }) throws -> T {
    let data: Data
    do {
        data = try Data(contentsOf: URL(fileURLWithPath: path))
    } catch {
        throw RunConfigurationError(file: path, message: "cannot read the file (\(error.localizedDescription))")
    }
    return try decodeConfiguration(type, data: data, file: path, validate: validate)
}

/// Decodes the JSON configuration `data` read from `file`, then runs
/// `validate`. Before decoding, the text is checked by `JSONStructureCheck`:
/// a syntax error is reported with its line and column, and a key written
/// twice in one object is an error naming its path (the decoder would keep
/// one value silently). A wrong value names its key path and what was
/// expected (`training.epochs: expected an integer …, found 1.5`); every
/// failure is a `RunConfigurationError` naming `file`, with control
/// characters escaped (`DiagnosticText`).
public func decodeConfiguration<T: Decodable>(_ type: T.Type, data: Data, file: String,
                                              validate: (T) throws -> Void = { _ in }) throws -> T {
    do {
        try JSONStructureCheck.check(Array(data))
    } catch let error as JSONStructureError {
        throw RunConfigurationError(file: file, message: error.description)
    }
    do {
        let value = try JSONDecoder().decode(T.self, from: data)
        try validate(value)
        return value
    } catch let error as DecodingError {
        throw RunConfigurationError(file: file, message: describe(error))
    } catch let error as RunConfigurationError {
        throw RunConfigurationError(file: file, message: error.message)
    } catch let error as SchemaError where error.source == schemaSourcePlaceholder {
        // An object decoded with the schema's strict keys inside a
        // configuration (`data.synthetic`): the path is the configuration's.
        throw RunConfigurationError(file: file, message: DiagnosticText.visible(
            (error.path.isEmpty ? "" : "\(error.path): ") + error.problem.message))
    } catch {
        throw RunConfigurationError(file: file, message: DiagnosticText.visible("\(error)"))
    }
}

/// `key.path: message` for a decoding error, control characters escaped.
func describe(_ error: DecodingError) -> String {
    let path = StrictDecoding.pathString
    let text: String
    switch error {
    case let .keyNotFound(key, context):
        text = "missing key \"\(key.stringValue)\"" + (context.codingPath.isEmpty ? "" : " in \(path(context.codingPath))")
    case let .typeMismatch(type, context):
        // `decodeChecked` already says what was expected and what was found.
        let expected = context.debugDescription.hasPrefix("expected ") ? "" : "expected \(type) ("
        text = "\(path(context.codingPath)): \(expected)\(context.debugDescription)\(expected.isEmpty ? "" : ")")"
    case let .valueNotFound(type, context):
        text = "\(path(context.codingPath)): expected a \(type) value"
    case let .dataCorrupted(context):
        text = (context.codingPath.isEmpty ? "" : "\(path(context.codingPath)): ") + context.debugDescription
    @unknown default:
        text = "\(error)"
    }
    return DiagnosticText.visible(text)
}
