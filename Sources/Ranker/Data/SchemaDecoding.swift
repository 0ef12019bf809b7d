/// Strict JSON decoding for schemas and configurations: an unknown key (a
/// typo such as `"tranform"`) is an error, not silently ignored.

/// The placeholder source of errors thrown while decoding; `DataSchema.decode`
/// replaces it with the schema's file name.
let schemaSourcePlaceholder = "<schema>"

/// The keyed container of a schema object, after checking that `Keys` lists
/// every key of it; the first other key throws a `SchemaError`:
/// `.renamedKey` when it is an old spelling of a listed key (`columnNames`
/// for `column_names`), `.unknownKey` otherwise.
func schemaContainer<Keys: CodingKey & CaseIterable>(_ decoder: Decoder, _ keys: Keys.Type) throws
    -> KeyedDecodingContainer<Keys> {
    if let unknown = try StrictDecoding.firstUnknownKey(in: decoder, allowed: Keys.allCases.map(\.stringValue)) {
        throw SchemaError(source: schemaSourcePlaceholder, path: unknown.path,
                          problem: unknown.renamedTo.map { .renamedKey(unknown.key, to: $0) }
                              ?? .unknownKey(unknown.key, allowed: unknown.allowed))
    }
    return try decoder.container(keyedBy: Keys.self)
}

/// A `SchemaError.invalidValue` at the current coding path (plus `key`).
func invalidValue(_ decoder: Decoder, _ key: CodingKey?, _ message: String) -> SchemaError {
    SchemaError(source: schemaSourcePlaceholder, path: StrictDecoding.pathString(decoder.codingPath + (key.map { [$0] } ?? [])),
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
        return SchemaError(source: source, path: StrictDecoding.pathString(context.codingPath), problem: .missingKey(key.stringValue))
    case .typeMismatch(_, let context), .valueNotFound(_, let context), .dataCorrupted(let context):
        var message = context.debugDescription
        if let underlying = context.underlyingError { message += " (\(underlying))" }
        return SchemaError(source: source, path: StrictDecoding.pathString(context.codingPath), problem: .invalidJSON(message))
    @unknown default:
        return SchemaError(source: source, path: "", problem: .invalidJSON("\(decodingError)"))
    }
}
