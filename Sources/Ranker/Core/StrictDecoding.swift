/// A coding key for any string: reads every key of a JSON object.
struct AnyCodingKey: CodingKey {
    let stringValue: String
    var intValue: Int? { nil }
    init(stringValue: String) { self.stringValue = stringValue }
    init?(intValue: Int) { nil }
}

/// Strict configuration decoding: a misspelt key is an error, not a silently
/// ignored option.
enum StrictDecoding {
    /// The keys of the decoder's JSON object that are not in `allowed`, sorted.
    static func unknownKeys(in decoder: Decoder, allowed: Set<String>) throws -> [String] {
        let container = try decoder.container(keyedBy: AnyCodingKey.self)
        return container.allKeys.map(\.stringValue).filter { !allowed.contains($0) }.sorted()
    }
}
