import Ranker

/// A `telemetry.jsonl` that cannot be turned into a report. Every case names
/// the file; a bad line also names its 1-based line number and what was wrong.
public enum TelemetryLogError: FileError, Equatable {
    /// The file does not exist.
    case missingFile(path: String)
    /// The file exists but could not be read (permissions, I/O error).
    case unreadable(path: String, reason: String)
    /// The file holds no telemetry line at all (zero bytes, only blank lines,
    /// or only a truncated first line).
    case empty(path: String)
    /// A complete line (or a last line that is valid JSON) that is not a
    /// telemetry record: not JSON, not an object, no `"type"`, or a field of
    /// the wrong type. `excerpt` is the start of the line.
    case malformedLine(path: String, line: Int, reason: String, excerpt: String)
    /// Telemetry lines before the `run` line, or no `run` line at all.
    case missingRunLine(path: String, line: Int)

    public var location: String {
        switch self {
        case .missingFile(let path), .unreadable(let path, _), .empty(let path):
            return path
        case .malformedLine(let path, let line, _, _), .missingRunLine(let path, let line):
            return "\(path):\(line)"
        }
    }

    public var detail: String {
        switch self {
        case .missingFile:
            return "no such file (a run directory holds telemetry.jsonl; was the run started with --out there?)"
        case .unreadable(_, let reason):
            return "cannot be read: \(reason)"
        case .empty:
            return "empty telemetry (no line to report on; did the run crash before its first step?)"
        case .malformedLine(_, _, let reason, let excerpt):
            return "\(reason) (line starts: \(excerpt))"
        case .missingRunLine:
            return "telemetry before the \"run\" line (the first record must be {\"type\": \"run\", ...})"
        }
    }
}
