/// How a delimited text file is written: the `format` object of a schema.
///
/// JSON keys (all optional):
///
/// | key | default | meaning |
/// |---|---|---|
/// | `separator` | `","` | one ASCII character (`"\t"` for tab) |
/// | `header` | `true` | whether the first record names the columns |
/// | `quote` | `"\""` | quote character; `""` turns quoting off. Inside a quoted field a doubled quote (`""`) is one quote, and separators and newlines are data |
/// | `trim` | `"none"` | `"leading"` removes spaces (U+0020) before a field, `"both"` also after it (outside quotes) |
/// | `missing_markers` | `[""]` | field values (after trimming) that mean "missing" |
/// | `blank_lines` | `"error"` | `"skip"` skips (and counts) empty lines instead of reporting a wrong field count |
/// | `max_record_bytes` | 67108864 (64 MiB) | a record (line) reaching this size is an error, not an ever-growing buffer (at least 16) |
/// | `max_columns` | 100000 | a record with more fields is an error (at least 1) |
///
/// Records end at `\n` or `\r\n`; the last record may lack a final newline.
/// A UTF-8 byte-order mark at the start of a file is ignored.
public struct CSVFormat: Codable, Equatable, Sendable {
    /// Which spaces around a field are removed.
    public enum Trim: String, ConfigurationEnum {
        case none, leading, both
    }

    /// What happens to an empty line.
    public enum BlankLines: String, ConfigurationEnum {
        case error, skip
    }

    public var separator: String
    public var header: Bool
    public var quote: String
    public var trim: Trim
    public var missingMarkers: [String]
    public var blankLines: BlankLines
    /// The longest record read (`max_record_bytes`); nil: `defaultMaxRecordBytes`.
    /// Written only when set, so schemas without it encode as before.
    public var maxRecordBytes: Int?
    /// The most fields a record may have (`max_columns`); nil: `defaultMaxColumns`.
    public var maxColumns: Int?

    /// 64 MiB: far above any real record, far below the memory of the machine.
    public static let defaultMaxRecordBytes = 64 << 20
    /// 100,000 columns: far above any real schema, and a bound on the field
    /// table a header of separators alone would make.
    public static let defaultMaxColumns = 100_000

    public init(separator: String = ",", header: Bool = true, quote: String = "\"", trim: Trim = .none,
                missingMarkers: [String] = [""], blankLines: BlankLines = .error,
                maxRecordBytes: Int? = nil, maxColumns: Int? = nil) {
        self.maxRecordBytes = maxRecordBytes
        self.maxColumns = maxColumns
        self.separator = separator
        self.header = header
        self.quote = quote
        self.trim = trim
        self.missingMarkers = missingMarkers
        self.blankLines = blankLines
    }

    enum CodingKeys: String, CodingKey, CaseIterable {
        case separator, header, quote, trim
        case missingMarkers = "missing_markers"
        case blankLines = "blank_lines"
        case maxRecordBytes = "max_record_bytes"
        case maxColumns = "max_columns"
    }

    public init(from decoder: Decoder) throws {
        let c = try schemaContainer(decoder, CodingKeys.self)
        let defaults = CSVFormat()
        separator = try c.decode(.separator, default: defaults.separator)
        header = try c.decode(.header, default: defaults.header)
        quote = try c.decode(.quote, default: defaults.quote)
        trim = try c.decode(.trim, default: defaults.trim)
        missingMarkers = try c.decode(.missingMarkers, default: defaults.missingMarkers)
        blankLines = try c.decode(.blankLines, default: defaults.blankLines)
        maxRecordBytes = try c.decodeIfPresent(Int.self, forKey: .maxRecordBytes)
        maxColumns = try c.decodeIfPresent(Int.self, forKey: .maxColumns)
    }

    /// What is wrong with the limits, as a key (in `format`) and a message; nil when they are usable.
    func limitsProblem() -> (key: String, message: String)? {
        if let bytes = maxRecordBytes, bytes < 16 { return ("max_record_bytes", "must be at least 16, got \(bytes)") }
        if let columns = maxColumns, columns < 1 { return ("max_columns", "must be at least 1, got \(columns)") }
        return nil
    }

    /// The separator byte, the quote byte (nil: no quoting) — or a description
    /// of why they are unusable.
    func bytes() -> Result<(separator: UInt8, quote: UInt8?), SchemaError.Problem> {
        let sep = Array(separator.utf8)
        guard sep.count == 1, sep[0] < 0x80 else {
            return .failure(.invalidValue("separator must be one ASCII character, got \"\(separator)\""))
        }
        guard sep[0] != 0x0A && sep[0] != 0x0D else {
            return .failure(.invalidValue("separator cannot be a line break"))
        }
        if sep[0] == 0x20 && trim != .none {
            return .failure(.invalidValue("a space separator cannot be combined with trimming spaces"))
        }
        let q = Array(quote.utf8)
        if q.isEmpty { return .success((sep[0], nil)) }
        guard q.count == 1, q[0] < 0x80, q[0] != 0x0A, q[0] != 0x0D, q[0] != 0x20 else {
            return .failure(.invalidValue("quote must be one ASCII character other than a space or line break, or \"\", got \"\(quote)\""))
        }
        guard q[0] != sep[0] else { return .failure(.invalidValue("quote and separator must differ")) }
        return .success((sep[0], q[0]))
    }
}
