import Foundation

/// Builds one JSON object as text, keys in insertion order, strings escaped,
/// non-finite numbers written as `null`: the JSON lines the commands and
/// experiments print, and the one JSON string escaper of the library
/// (`quote`, also used for the SafeTensors header).
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

    /// `s` as a JSON string literal: `"` and `\` escaped, newline, return and
    /// tab as `\n`, `\r`, `\t`, other control characters as `\u00xx`,
    /// everything else as UTF-8.
    public static func quote(_ s: String) -> String {
        "\"" + stringEscaper.escape(s) + "\""
    }

    private static let stringEscaper = TextEscaper(
        ["\"": "\\\"", "\\": "\\\\", "\n": "\\n", "\r": "\\r", "\t": "\\t"],
        other: { $0.value < 0x20 ? String(format: "\\u%04x", $0.value) : nil })
}
