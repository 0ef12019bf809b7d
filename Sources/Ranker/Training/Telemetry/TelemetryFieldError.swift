/// A telemetry line that is JSON but not a valid record: the field (a path
/// such as `metrics`, or nil for the line as a whole) and what was expected.
/// RankerReport's reader turns it into an error naming the file and line.
public struct TelemetryFieldError: Error, Equatable, CustomStringConvertible {
    public var field: String?
    public var reason: String

    public init(field: String?, reason: String) {
        self.field = field
        self.reason = reason
    }

    public var description: String { field.map { "field \"\($0)\": \(reason)" } ?? reason }
}
