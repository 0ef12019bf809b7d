/// The synthetic click log as CSV text, the file `schemas/synthetic-history.json` reads.
///
/// Columns: `user_id, item_id, category, context_1…K, dense_1…m`, then
/// `history` (when the log has one: the `item_id` values of the list, oldest
/// first, joined by `|`; an empty field for an empty list), then `task_1…T`.
/// Ids are written as the integers the log uses (`1…n`); dense values in
/// `Float`'s shortest round-trip form; labels `0` / `1`.
extension SyntheticClickLog {
    /// The rows `rows` (default: all) as CSV with a header line.
    public func csvText(rows: [Int]? = nil) -> String {
        let d = dataset
        var header = d.fields.map(\.name) + d.denseNames
        let history = d.sequences.first
        if history != nil { header.append("history") }
        header += d.tasks.map(\.name)
        var text = header.joined(separator: ",") + "\n"
        for r in rows ?? Array(0..<d.count) {
            var cells = d.ids.map { String($0[r]) } + d.dense.map { "\($0[r])" }
            if let history { cells.append(history.list(r).map { String($0) }.joined(separator: "|")) }
            cells += d.labels.map { $0[r] == 1 ? "1" : "0" }
            text += cells.joined(separator: ",") + "\n"
        }
        return text
    }
}
