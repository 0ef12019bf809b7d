/// A state file of a run (`checkpoint.safetensors`, `best.safetensors`) that
/// does not fit the run resuming from it: a `CheckpointError` (missing,
/// unexpected or misshapen tensor, bad metadata) with the file's path, so the
/// message says which file to look at:
/// `runs/a/best.safetensors: checkpoint tensor embedding.user has shape [201, 8], expected [200, 8]`.
public struct StateFileError: FileError, Equatable {
    /// The file.
    public let path: String
    /// What does not fit.
    public let error: CheckpointError

    public init(path: String, error: CheckpointError) {
        self.path = path
        self.error = error
    }

    /// Runs `body`, attaching `path` to the `CheckpointError` it throws.
    @discardableResult
    public static func naming<T>(_ path: String, _ body: () throws -> T) throws -> T {
        do {
            return try body()
        } catch let error as CheckpointError {
            throw StateFileError(path: path, error: error)
        }
    }

    public var location: String { path }

    public var detail: String { error.description }
}
