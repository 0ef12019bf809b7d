import Foundation

/// Telemetry text for comparing two runs: every field that is a wall-clock
/// time is replaced by `"<field>":"<wall-clock>"`, everything else is left
/// byte for byte. The wall-clock fields (TELEMETRY.md) are `started` (run
/// line), `samples_per_s` (step lines) and `train_samples_per_s` (end line).
enum TelemetryText {
    static let wallClockFields = ["started", "samples_per_s", "train_samples_per_s"]

    static func withoutWallClock(_ text: String) -> String {
        var result = text
        for field in wallClockFields {
            // Keys are sorted and lines compact: the value runs to the next `,` or `}` (no string
            // value of these fields holds either).
            let pattern = "\"\(field)\":(\"[^\"]*\"|[^,}]*)"
            result = result.replacingOccurrences(of: pattern, with: "\"\(field)\":\"<wall-clock>\"",
                                                 options: .regularExpression)
        }
        return result
    }

    static func read(_ directory: URL) throws -> String {
        String(decoding: try Data(contentsOf: directory.appendingPathComponent("telemetry.jsonl")), as: UTF8.self)
    }
}
