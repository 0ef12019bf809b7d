/// What loading read and what it dropped: rows are never skipped silently.
///
/// A row is skipped only when a column with `"missing": "skip_row"` has a
/// missing value (the first such column of the row, in file order, is
/// charged), or when it is a blank line and the format says
/// `"blank_lines": "skip"`. Both are counted here.
public struct LoadReport: Codable, Equatable, Sendable {
    /// Counts for one input file.
    public struct FileSummary: Codable, Equatable, Sendable {
        public var path: String
        /// Data records read (blank lines that were skipped are not records).
        public var dataRows = 0
        /// Records that became dataset rows.
        public var keptRows = 0
        /// Records dropped for a missing value (`skip_row`).
        public var skippedRows = 0
        /// Empty lines skipped (`blank_lines: skip`).
        public var skippedBlankLines = 0
    }

    /// Rows dropped because of one column, and where the first one was.
    public struct SkipCount: Codable, Equatable, Sendable {
        /// The column's name (or `col<index>`).
        public var column: String
        public var count: Int
        public var firstFile: String
        public var firstLine: Int
    }

    public var files: [FileSummary]
    /// One entry per column that caused skips, in order of the first skip.
    public var skips: [SkipCount]

    public init(files: [FileSummary] = [], skips: [SkipCount] = []) {
        self.files = files
        self.skips = skips
    }

    /// Rows dropped for missing values, over all files.
    public var skippedRows: Int { files.reduce(0) { $0 + $1.skippedRows } }
    /// Blank lines skipped, over all files.
    public var skippedBlankLines: Int { files.reduce(0) { $0 + $1.skippedBlankLines } }
    /// Rows kept, over all files.
    public var keptRows: Int { files.reduce(0) { $0 + $1.keptRows } }

    /// One line per file, then one per skipping column.
    public var summary: String {
        var lines = files.map {
            "\($0.path): \($0.dataRows) rows read, \($0.keptRows) kept, \($0.skippedRows) skipped (missing values)"
                + ($0.skippedBlankLines > 0 ? ", \($0.skippedBlankLines) blank lines skipped" : "")
        }
        for s in skips {
            lines.append("  \(s.count) rows skipped for a missing \(s.column) (first: \(s.firstFile):\(s.firstLine))")
        }
        return lines.joined(separator: "\n")
    }

    mutating func recordSkip(column: String, file: String, line: Int) {
        if let k = skips.firstIndex(where: { $0.column == column }) {
            skips[k].count += 1
        } else {
            skips.append(SkipCount(column: column, count: 1, firstFile: file, firstLine: line))
        }
    }
}
