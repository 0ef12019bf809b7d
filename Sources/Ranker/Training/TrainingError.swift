/// A run stopped by its stability policy or an unusable configuration.
public struct TrainingError: Error, CustomStringConvertible {
    public let message: String
    public var description: String { message }

    public init(message: String) { self.message = message }
}
