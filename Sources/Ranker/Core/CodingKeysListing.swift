/// A type read from a JSON object whose keys are the cases of its
/// `CodingKeys`, so that the keys it reads can be listed: strict decoding
/// rejects every other key, and its messages name the known ones.
public protocol CodingKeysListing {
    associatedtype CodingKeys: CodingKey & CaseIterable
}

extension CodingKeysListing {
    /// Every key the type reads, in declaration order.
    public static var codingKeyNames: [String] { CodingKeys.allCases.map(\.stringValue) }
}
