extension Decoder {
    /// Replaces `value`, a default already in place, with the value at `key`
    /// of this decoder's object when the key is present and not `null`: how
    /// an options type whose `init()` holds its defaults decodes its keys.
    ///
    /// ```swift
    /// public init(from decoder: Decoder) throws {
    ///     self.init()
    ///     try decoder.decode(CodingKeys.tau, over: &tau)
    /// }
    /// ```
    func decode<Key: CodingKey, Value: Decodable>(_ key: Key, over value: inout Value) throws {
        if let decoded = try container(keyedBy: Key.self).decodeIfPresent(Value.self, forKey: key) { value = decoded }
    }
}
