/// Key handling shared by the balancing configuration decoders: the method
/// name, strict keys with the new spelling of a renamed key, errors at the
/// decoder's coding path.
enum BalancerConfigurationKeys {
    enum Method: String, CodingKey { case method }

    static func method(in decoder: Decoder) throws -> String {
        try decoder.container(keyedBy: Method.self).decode(String.self, forKey: .method)
    }

    /// Throws for the first key of the decoder's object not in `allowed`: with
    /// its new spelling when `snakeCase(key)` is allowed (`unknown key
    /// "windowSteps" for method "dwa": renamed to "window_steps"`), else with
    /// the known keys.
    static func rejectUnknown(in decoder: Decoder, allowed: [String], what: String) throws {
        guard let key = try StrictDecoding.unknownKeys(in: decoder, allowed: Set(allowed)).first else { return }
        let renamed = snakeCase(key)
        let hint = renamed != key && allowed.contains(renamed)
            ? ": renamed to \"\(renamed)\"" : "; known keys: \(allowed.joined(separator: ", "))"
        throw DecodingError.dataCorrupted(DecodingError.Context(
            codingPath: decoder.codingPath + [AnyCodingKey(stringValue: key)],
            debugDescription: "unknown key \"\(key)\" for \(what)\(hint)"))
    }

    static func error(in decoder: Decoder, _ message: String) -> DecodingError {
        DecodingError.dataCorrupted(DecodingError.Context(codingPath: decoder.codingPath, debugDescription: message))
    }

    /// The `snake_case` form of a camelCase or kebab-case name: `-` becomes
    /// `_`, and `_` goes before an upper-case letter that follows a lower-case
    /// letter or digit, or that ends a run of capitals before a lower-case one
    /// (`lossEMADecay` → `loss_ema_decay`, `nextrec-clamp` → `nextrec_clamp`).
    static func snakeCase(_ name: String) -> String {
        let characters = Array(name)
        var result = ""
        for (i, c) in characters.enumerated() {
            if c == "-" {
                result.append("_")
                continue
            }
            guard c.isUppercase else {
                result.append(c)
                continue
            }
            if i > 0 {
                let previous = characters[i - 1]
                let nextIsLower = i + 1 < characters.count && characters[i + 1].isLowercase
                if previous.isLowercase || previous.isNumber || (previous.isUppercase && nextIsLower) {
                    result.append("_")
                }
            }
            result.append(contentsOf: c.lowercased())
        }
        return result
    }
}
