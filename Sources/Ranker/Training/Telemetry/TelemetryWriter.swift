import Foundation

/// Builds one JSON object as text, for JSONL telemetry: keys in insertion
/// order, strings escaped, non-finite numbers written as `null` (TELEMETRY.md).
public struct JSONLine {
    private var text = "{"
    private var first = true

    public init() {}

    private mutating func key(_ k: String) {
        if !first { text += "," }
        first = false
        text += JSONLine.quote(k) + ":"
    }

    public mutating func add(_ k: String, _ value: String) { key(k); text += JSONLine.quote(value) }
    public mutating func add(_ k: String, _ value: Int) { key(k); text += String(value) }
    public mutating func add(_ k: String, _ value: Bool) { key(k); text += value ? "true" : "false" }
    public mutating func add(_ k: String, _ value: Double) { key(k); text += JSONLine.number(value) }
    public mutating func add(_ k: String, _ value: Double?) { key(k); text += value.map(JSONLine.number) ?? "null" }
    public mutating func add(_ k: String, _ value: [Double]) { key(k); text += "[" + value.map(JSONLine.number).joined(separator: ",") + "]" }
    public mutating func add(_ k: String, _ value: [[Double]]) {
        key(k)
        text += "[" + value.map { "[" + $0.map(JSONLine.number).joined(separator: ",") + "]" }.joined(separator: ",") + "]"
    }
    public mutating func add(_ k: String, _ value: [String]) { key(k); text += "[" + value.map(JSONLine.quote).joined(separator: ",") + "]" }
    public mutating func addNull(_ k: String) { key(k); text += "null" }
    /// A nested object or any pre-encoded JSON value.
    public mutating func addRaw(_ k: String, _ json: String) { key(k); text += json }
    /// `{name: number}` in the given order.
    public mutating func add(_ k: String, pairs: [(String, Double)]) {
        key(k)
        text += "{" + pairs.map { JSONLine.quote($0.0) + ":" + JSONLine.number($0.1) }.joined(separator: ",") + "}"
    }

    /// The finished object.
    public var json: String { text + "}" }

    /// Shortest round-tripping decimal, `null` for NaN and infinities.
    public static func number(_ v: Double) -> String {
        guard v.isFinite else { return "null" }
        if v == v.rounded() && abs(v) < 1e15 { return String(Int64(v)) }
        return "\(v)"
    }

    public static func quote(_ s: String) -> String {
        var out = "\""
        for scalar in s.unicodeScalars {
            switch scalar {
            case "\"": out += "\\\""
            case "\\": out += "\\\\"
            case "\n": out += "\\n"
            case "\r": out += "\\r"
            case "\t": out += "\\t"
            case _ where scalar.value < 0x20: out += String(format: "\\u%04x", scalar.value)
            default: out.unicodeScalars.append(scalar)
            }
        }
        return out + "\""
    }
}

/// Appends JSONL lines to a run's `telemetry.jsonl` (buffered; `flush()` at
/// evaluations, events and the end of the run).
public final class TelemetryWriter {
    public let url: URL
    private let handle: FileHandle
    private var buffer = Data()

    /// Opens `url` for appending (creates it when absent).
    public init(url: URL) throws {
        self.url = url
        if !FileManager.default.fileExists(atPath: url.path) {
            guard FileManager.default.createFile(atPath: url.path, contents: nil) else {
                throw FileIOError(path: url.path, operation: "create", message: "cannot create the telemetry file")
            }
        }
        do {
            handle = try FileHandle(forUpdating: url)
            // A crash can leave a half-written last line; cut it off before appending.
            let contents = try handle.readToEnd() ?? Data()
            if let last = contents.last, last != 0x0A {
                let keep = contents.lastIndex(of: 0x0A).map { $0 + 1 } ?? 0
                try handle.truncate(atOffset: UInt64(keep))
            }
            try handle.seekToEnd()
        } catch {
            throw FileIOError(path: url.path, operation: "open", message: "\(error.localizedDescription)")
        }
    }

    deinit { try? flush() }

    public func write(_ line: JSONLine) {
        buffer.append(contentsOf: line.json.utf8)
        buffer.append(0x0A)
        if buffer.count > 1 << 20 { try? flush() }
    }

    public func flush() throws {
        if buffer.isEmpty { return }
        do {
            try handle.write(contentsOf: buffer)
        } catch {
            throw FileIOError(path: url.path, operation: "write", message: "\(error.localizedDescription)")
        }
        buffer.removeAll(keepingCapacity: true)
    }
}
