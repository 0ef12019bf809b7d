/// An error about one file, or one line of it, described as
/// `location: detail` (`runs/a/checkpoint.safetensors: header is not valid
/// UTF-8`, `runs/a/telemetry.jsonl:12: expected a number …`): the file first,
/// so that every message says which file to look at.
public protocol FileError: Error, CustomStringConvertible {
    /// The file's path, or `path:line` for a line of it (1-based).
    var location: String { get }
    /// What is wrong there.
    var detail: String { get }
}

extension FileError {
    public var description: String { "\(location): \(detail)" }
}
