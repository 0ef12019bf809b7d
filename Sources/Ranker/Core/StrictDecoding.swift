/// A coding key for any string: reads every key of a JSON object.
struct AnyCodingKey: CodingKey {
    let stringValue: String
    var intValue: Int? { nil }
    init(stringValue: String) { self.stringValue = stringValue }
    init?(intValue: Int) { nil }
}

/// A key of a JSON object that the decoded type does not define: where it is
/// (`training.batchSize`), the keys that are allowed there, and — when the key
/// is an old spelling of an allowed one (`batchSize`, `batch-size` for
/// `batch_size`) — its new name.
struct UnknownKey: Equatable {
    /// The key as written.
    let key: String
    /// The JSON path of the key, the key included (`columns[3].tranform`).
    let path: String
    /// The keys defined there, in declaration order.
    let allowed: [String]
    /// The allowed key this one is an old spelling of, if any.
    let renamedTo: String?

    /// `unknown key "k" in <section>: renamed to "new"` or
    /// `unknown key "k" in <section>; known: a, b, c` (sorted).
    func message(section: String) -> String {
        let shown = DiagnosticText.visible(key)
        if let renamedTo { return "unknown key \"\(shown)\" in \(section): renamed to \"\(renamedTo)\"" }
        return "unknown key \"\(shown)\" in \(section); known: \(allowed.sorted().joined(separator: ", "))"
    }
}

/// Strict configuration decoding: a misspelt key is an error, not a silently
/// ignored option, and every key and enum value is written in `snake_case`.
/// Run configurations, data schemas, model configurations and experiment files
/// all reject unknown keys with these helpers; so can a library user's own
/// registered method decoding its options.
public enum StrictDecoding {
    /// The keys of the decoder's JSON object that are not in `allowed`, sorted.
    static func unknownKeys(in decoder: Decoder, allowed: Set<String>) throws -> [String] {
        let container = try decoder.container(keyedBy: AnyCodingKey.self)
        return container.allKeys.map(\.stringValue).filter { !allowed.contains($0) }.sorted()
    }

    /// The first (in sorted order) key of the decoder's JSON object that is
    /// not in `allowed`, with its path and its new name when it is an old
    /// spelling; nil when every key is allowed.
    static func firstUnknownKey(in decoder: Decoder, allowed: [String]) throws -> UnknownKey? {
        guard let key = try unknownKeys(in: decoder, allowed: Set(allowed)).first else { return nil }
        let snake = snakeCase(key)
        return UnknownKey(key: key, path: pathString(decoder.codingPath + [AnyCodingKey(stringValue: key)]),
                          allowed: allowed, renamedTo: snake != key && allowed.contains(snake) ? snake : nil)
    }

    /// The keyed container of the decoder's JSON object, after checking that
    /// `Keys` (and `extra`: the keys of an object that adds its own to a
    /// type's) lists every key of it: an unknown key throws a
    /// `DecodingError.dataCorrupted` at the key's path whose description is
    /// `UnknownKey.message(section:)`.
    public static func container<Keys: CodingKey & CaseIterable>(
        _ decoder: Decoder, _: Keys.Type, section: String, alsoAllowing extra: [String] = []
    ) throws -> KeyedDecodingContainer<Keys> {
        if let unknown = try firstUnknownKey(in: decoder, allowed: extra + Keys.allCases.map(\.stringValue)) {
            throw DecodingError.dataCorrupted(DecodingError.Context(
                codingPath: decoder.codingPath + [AnyCodingKey(stringValue: unknown.key)],
                debugDescription: unknown.message(section: section)))
        }
        return try decoder.container(keyedBy: Keys.self)
    }

    /// Reads the string at `key` and checks that it is `expected` (the
    /// `format` line of a file Ranker writes): anything else throws a
    /// `DecodingError.dataCorrupted` at the key, `expected "…", found "…"`.
    public static func expectFormat<Keys: CodingKey>(_ expected: String, at key: Keys,
                                                     in container: KeyedDecodingContainer<Keys>) throws {
        let format = try container.decode(String.self, forKey: key)
        guard format == expected else {
            throw DecodingError.dataCorruptedError(forKey: key, in: container, debugDescription:
                "expected \"\(expected)\", found \"\(DiagnosticText.visible(format))\"")
        }
    }

    /// `batchSize` → `batch_size`, `last-shared-layer` → `last_shared_layer`,
    /// `AUC` → `auc`: an upper-case letter after a lower-case letter or digit
    /// starts a new word, a hyphen or space becomes an underscore, and
    /// everything is lower-cased. A `snake_case` text is returned unchanged.
    public static func snakeCase(_ text: String) -> String {
        var result = ""
        var previous: Character?
        for character in text {
            if character == "-" || character == " " {
                result.append("_")
            } else if character.isUppercase {
                if let p = previous, p.isLowercase || p.isNumber { result.append("_") }
                result += character.lowercased()
            } else {
                result.append(character)
            }
            previous = character
        }
        return result
    }

    /// `error`, a typed error of an options type (an optimizer's unknown key)
    /// found at `key` of the decoder's object (or at the object itself), as a
    /// `DecodingError` at that JSON path whose description is the error's and
    /// whose `underlyingError` is the error: inside a run configuration the
    /// message then names the path (`optimizer.clipping.threshold`).
    static func located(_ error: Error, in decoder: Decoder, key: String?) -> DecodingError {
        DecodingError.dataCorrupted(DecodingError.Context(
            codingPath: decoder.codingPath + (key.map { [AnyCodingKey(stringValue: $0)] } ?? []),
            debugDescription: "\(error)", underlyingError: error))
    }

    /// Runs `body`, which decodes a type that documents a typed error
    /// (`OptimizerConfigurationError`): when the decoder is at the top of
    /// its document (the type decoded on its own, as callers that match on
    /// the typed error do), a `located` error is thrown as the typed error
    /// it carries; below the top it stays a `DecodingError` with its path.
    static func typedAtTop<T, E: Error>(_ decoder: Decoder, _: E.Type, _ body: () throws -> T) throws -> T {
        do {
            return try body()
        } catch DecodingError.dataCorrupted(let context) where decoder.codingPath.isEmpty && context.underlyingError is E {
            throw context.underlyingError!
        }
    }

    /// `columns[3].transform` for a coding path.
    static func pathString(_ path: [CodingKey]) -> String {
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
}
