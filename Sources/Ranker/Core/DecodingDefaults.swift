extension KeyedDecodingContainer {
    /// The value at `key`, or `fallback` when the key is absent or `null`:
    /// how every optional configuration key takes its default.
    func decode<T: Decodable>(_ key: Key, default fallback: @autoclosure () -> T) throws -> T {
        try decodeIfPresent(T.self, forKey: key) ?? fallback()
    }
}
