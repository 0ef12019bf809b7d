/// A problem with an input data file: where it is and what was expected.
///
/// Every way a CSV file can be bad — an unparsable number, a label outside
/// {0, 1}, a ragged row, an empty file, a NaN in a dense feature, a missing
/// value where the schema does not allow one, a column the schema names but
/// the file lacks — surfaces as one of these, never as a crash and never as a
/// silently dropped row.
///
/// `line` is the 1-based physical line where the offending record starts (the
/// header is line 1 when there is one); `column` is the 1-based position of
/// the field in the record and `columnName` its name from the header or the
/// schema's `column_names`, when known.
public struct DataError: Error, Equatable, CustomStringConvertible {
    /// What is wrong.
    public enum Problem: Equatable, Sendable {
        /// The file could not be opened (`reason` is the system's message).
        case cannotOpen(reason: String)
        /// Reading failed midway (`reason` is the system's message).
        case readFailed(reason: String)
        /// The gzip stream is corrupt or truncated (`reason` from zlib).
        case corruptGzip(reason: String)
        /// The file holds no bytes at all.
        case emptyFile
        /// The file has a header but no data rows.
        case noDataRows
        /// No row of the data falls into the training split (vocabularies and
        /// standardization statistics are built from it).
        case noTrainingRows
        /// The schema names a column that the header does not have.
        case unknownColumn(name: String)
        /// The schema refers to a 0-based column index beyond the record width.
        case columnIndexOutOfRange(index: Int, fieldCount: Int)
        /// Columns of the file that the schema does not mention, while the
        /// schema's `unlisted_columns` is `error`.
        case unlistedColumns(names: [String])
        /// Two header columns have the same name and the schema refers to it.
        case ambiguousColumnName(name: String)
        /// A record has a different number of fields than the first record
        /// (or the header, or the schema's `column_names`).
        case wrongFieldCount(expected: Int, found: Int)
        /// A quoted field is not closed before the end of the file.
        case unterminatedQuote
        /// A closing quote is followed by something other than a separator or
        /// the end of the line.
        case unexpectedCharacterAfterQuote(found: String)
        /// Expected a decimal number (`[+-]digits[.digits][e[+-]digits]`).
        case unparsableNumber(found: String)
        /// Expected an integer (user or day column).
        case unparsableInteger(found: String)
        /// An integer (user or day column) beyond `Int64`.
        case integerOutOfRange(found: String)
        /// A record reaches `limit` bytes without ending (a file without line
        /// breaks, such as `/dev/zero`): the reader's buffer stops growing.
        case recordTooLarge(limit: Int)
        /// A record has more than `limit` fields.
        case tooManyFields(limit: Int)
        /// A column asked to be copied through (`ranker predict --keep`) is
        /// not in the header; `available` lists the header's columns.
        case unknownKeptColumn(name: String, available: [String])
        /// Expected a date written `YYYYMMDD`.
        case invalidDate(found: String)
        /// A binary task's label is neither 0 nor 1.
        case labelNotBinary(found: String)
        /// A label value is in neither `positive_values` nor `negative_values`.
        case unknownLabelValue(found: String, expected: [String])
        /// A dense feature or regression label is NaN or infinite.
        case notFinite(found: String)
        /// `log1p` needs a value greater than -1.
        case outsideLog1pDomain(found: String)
        /// A value is missing (empty or a missing marker) and the column's
        /// missing-value policy is `error`.
        case missingValue(found: String)
        /// A sequence field (`a|b|c`) has an empty value between separators
        /// (or before the first or after the last one).
        case emptySequenceValue(found: String, separator: String)

        /// What was expected, in words.
        public var message: String {
            switch self {
            case .cannotOpen(let reason): return "cannot open the file: \(reason)"
            case .readFailed(let reason): return "reading failed: \(reason)"
            case .corruptGzip(let reason): return "corrupt gzip data: \(reason)"
            case .emptyFile: return "the file is empty; expected at least one data row"
            case .noDataRows: return "the file has a header but no data rows"
            case .noTrainingRows:
                return "no row falls into the training split; vocabularies and statistics are built from it"
            case .unknownColumn(let name): return "the schema names column \"\(name)\", which the header does not have"
            case .columnIndexOutOfRange(let index, let count):
                return "the schema refers to 0-based column index \(index), but records have \(count) fields"
            case .unlistedColumns(let names):
                return "columns not mentioned in the schema: \(names.joined(separator: ", ")) "
                    + "(list them with role \"ignore\" or set \"unlisted_columns\": \"ignore\")"
            case .ambiguousColumnName(let name): return "the header has more than one column named \"\(name)\""
            case .wrongFieldCount(let expected, let found): return "expected \(expected) fields, found \(found)"
            case .unterminatedQuote: return "a quoted field is not closed before the end of the file"
            case .unexpectedCharacterAfterQuote(let found):
                return "expected a separator or the end of the line after a closing quote, found \"\(found)\""
            case .unparsableNumber(let found): return "expected a number, found \"\(found)\""
            case .unparsableInteger(let found): return "expected an integer, found \"\(found)\""
            case .integerOutOfRange(let found):
                return "the integer \(found) is out of range; expected \(Int64.min) to \(Int64.max)"
            case .recordTooLarge(let limit):
                return "a record reaches \(limit) bytes without ending (the limit: the schema's format.max_record_bytes, "
                    + "default \(CSVFormat.defaultMaxRecordBytes)); expected a CSV file with one record per line"
            case .tooManyFields(let limit):
                return "a record has more than \(limit) fields (the limit: the schema's format.max_columns, "
                    + "default \(CSVFormat.defaultMaxColumns))"
            case .unknownKeptColumn(let name, let available):
                return "no column \"\(name)\" to keep; the columns are: \(available.joined(separator: ", "))"
            case .invalidDate(let found): return "expected a date YYYYMMDD, found \"\(found)\""
            case .labelNotBinary(let found): return "expected a binary label 0 or 1, found \"\(found)\""
            case .unknownLabelValue(let found, let expected):
                return "expected one of \(expected.map { "\"\($0)\"" }.joined(separator: ", ")), found \"\(found)\""
            case .notFinite(let found): return "expected a finite number, found \"\(found)\""
            case .outsideLog1pDomain(let found): return "log1p needs a value greater than -1, found \"\(found)\""
            case .missingValue(let found):
                return "missing value \"\(found)\" where the schema allows none (set \"missing\" to \"default\" or \"skip_row\")"
            case .emptySequenceValue(let found, let separator):
                return "expected a list of non-empty values separated by \"\(separator)\" (or an empty field), found \"\(found)\""
            }
        }
    }

    /// Path of the file as given to the reader.
    public var file: String
    /// 1-based line where the record starts, when the problem is in a record.
    public var line: Int?
    /// 1-based field position, when the problem is in one field.
    public var column: Int?
    /// The column's name (header or schema `column_names`), when known.
    public var columnName: String?
    public var problem: Problem

    public init(file: String, line: Int? = nil, column: Int? = nil, columnName: String? = nil, problem: Problem) {
        self.file = file
        self.line = line
        self.column = column
        self.columnName = columnName
        self.problem = problem
    }

    /// `file:line: column c (name): message`, with control characters of
    /// the file's values escaped (`DiagnosticText`).
    public var description: String { DiagnosticText.visible(rawDescription) }

    private var rawDescription: String {
        var text = file
        if let line { text += ":\(line)" }
        text += ": "
        if let column {
            text += "column \(column)"
            if let columnName { text += " (\(columnName))" }
            text += ": "
        }
        return text + problem.message
    }
}
