/// Strict JSON decoding for schemas and configurations: an unknown key (a
/// typo such as `"tranform"`) is an error, not silently ignored.

/// The placeholder source of errors thrown while decoding; `DataSchema.decode`
/// replaces it with the schema's file name.
let schemaSourcePlaceholder = "<schema>"

/// `columns[3].transform` for a coding path.
func codingPathString(_ path: [CodingKey]) -> String {
    var text = ""
    for key in path {
        if let index = key.intValue {
            text += "[\(index)]"
        } else {
            text += text.isEmpty ? key.stringValue : ".\(key.stringValue)"
        }
    }
    return text
}

/// Throws `SchemaError.unknownKey` for the first key of the object being
/// decoded that `Keys` does not list.
func rejectUnknownKeys<Keys: CodingKey & CaseIterable & RawRepresentable>(
    _ decoder: Decoder, _ keys: Keys.Type
) throws where Keys.RawValue == String {
    let allowed = Keys.allCases.map(\.rawValue)
    if let key = try StrictDecoding.unknownKeys(in: decoder, allowed: Set(allowed)).first {
        throw SchemaError(source: schemaSourcePlaceholder,
                          path: codingPathString(decoder.codingPath + [AnyCodingKey(stringValue: key)]),
                          problem: .unknownKey(key, allowed: allowed))
    }
}

/// A `SchemaError.invalidValue` at the current coding path (plus `key`).
func invalidValue(_ decoder: Decoder, _ key: CodingKey?, _ message: String) -> SchemaError {
    SchemaError(source: schemaSourcePlaceholder, path: codingPathString(decoder.codingPath + (key.map { [$0] } ?? [])),
                problem: .invalidValue(message))
}

/// Converts a `DecodingError` (wrong JSON type, missing key, bad syntax) into
/// a `SchemaError` that names `source` and the key path; leaves `SchemaError`s
/// thrown during decoding as they are, with their source filled in.
func schemaError(from error: Error, source: String) -> Error {
    if var schemaError = error as? SchemaError {
        if schemaError.source == schemaSourcePlaceholder { schemaError.source = source }
        return schemaError
    }
    guard let decodingError = error as? DecodingError else { return error }
    switch decodingError {
    case .keyNotFound(let key, let context):
        return SchemaError(source: source, path: codingPathString(context.codingPath), problem: .missingKey(key.stringValue))
    case .typeMismatch(_, let context), .valueNotFound(_, let context), .dataCorrupted(let context):
        var message = context.debugDescription
        if let underlying = context.underlyingError { message += " (\(underlying))" }
        return SchemaError(source: source, path: codingPathString(context.codingPath), problem: .invalidJSON(message))
    @unknown default:
        return SchemaError(source: source, path: "", problem: .invalidJSON("\(decodingError)"))
    }
}
