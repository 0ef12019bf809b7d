/// Colours of the report: a ten-colour qualitative palette for series
/// (Tableau 10, distinguishable for the common colour-vision deficiencies in
/// its first six) and one colour and dash pattern per stability event kind.
enum ReportPalette {
    static let series = [
        "#4e79a7", "#f28e2b", "#e15759", "#76b7b2", "#59a14f",
        "#edc948", "#b07aa1", "#ff9da7", "#9c755f", "#bab0ac",
    ]

    /// Series colour `index`, cycling.
    static func color(_ index: Int) -> String { series[index % series.count] }

    /// Neutral colours for aggregate series (minimum, median, mean).
    static let dark = "#333333"
    static let gray = "#8c8c8c"

    /// Colour and dash of an event kind's marker (TELEMETRY.md `event.kind`).
    static func event(_ kind: String) -> (color: String, dash: String?) {
        switch kind {
        case "nan": return ("#c0392b", nil)
        case "spike": return ("#e67e22", "4 3")
        case "recovered": return ("#27ae60", "1 3")
        case "divergence": return ("#8e44ad", nil)
        case "skip": return ("#7f8c8d", "2 2")
        case "rollback": return ("#111111", "6 3")
        case "stop": return ("#111111", nil)
        default: return ("#16a2b8", "3 3")
        }
    }

    /// Display order of event kinds in legends and counts.
    static let eventKinds = ["nan", "spike", "recovered", "divergence", "skip", "rollback", "stop"]
}
