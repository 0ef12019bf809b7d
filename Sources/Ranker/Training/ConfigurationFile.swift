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
/// the file and, for decoding errors, the key.
public func decodeConfigurationFile<T: Decodable>(_ type: T.Type, path: String,
                                           validate: (T) throws -> Void = { _ in }) throws -> T {
    let data: Data
    do {
        data = try Data(contentsOf: URL(fileURLWithPath: path))
    } catch {
        throw RunConfigurationError(file: path, message: "cannot read the file (\(error.localizedDescription))")
    }
    do {
        let value = try JSONDecoder().decode(T.self, from: data)
        try validate(value)
        return value
    } catch let error as DecodingError {
        throw RunConfigurationError(file: path, message: describe(error))
    } catch let error as RunConfigurationError {
        throw RunConfigurationError(file: path, message: error.message)
    } catch {
        throw RunConfigurationError(file: path, message: "\(error)")
    }
}

/// `key.path: message` for a decoding error.
func describe(_ error: DecodingError) -> String {
    let path = StrictDecoding.pathString
    switch error {
    case let .keyNotFound(key, context):
        return "missing key \"\(key.stringValue)\"" + (context.codingPath.isEmpty ? "" : " in \(path(context.codingPath))")
    case let .typeMismatch(type, context):
        return "\(path(context.codingPath)): expected \(type) (\(context.debugDescription))"
    case let .valueNotFound(type, context):
        return "\(path(context.codingPath)): expected a \(type) value"
    case let .dataCorrupted(context):
        return (context.codingPath.isEmpty ? "" : "\(path(context.codingPath)): ") + context.debugDescription
    @unknown default:
        return "\(error)"
    }
}
