/// A schema bound to the columns of one file: for every task, feature, user
/// and day, the 0-based field position to read and the parsed settings.
///
/// Binding resolves names against the header (or `column_names`), checks
/// indices against the record width, finds duplicates that only show once
/// names and indices meet, finds columns no entry mentions, gives every task
/// and feature its output name, and checks `default` texts by reading them
/// the way the column will be read.
struct SchemaBinding {
    struct Missing {
        var policy: MissingPolicy
        /// Marker byte strings; `onlyEmpty` short-cuts the usual `[""]`.
        var markers: [[UInt8]]
        var onlyEmpty: Bool
        /// The `default` text in storage that stays put (read on the hot path).
        var defaultText: ColumnBuffer<UInt8>
    }

    struct Label {
        var column: Int
        var name: String
        var kind: TaskKind
        var positives: [[UInt8]]?
        var negatives: [[UInt8]]?
        var missing: Missing
    }

    struct Dense {
        var column: Int
        var name: String
        var transform: DenseTransform
        var missing: Missing
    }

    struct Sparse {
        var column: Int
        var name: String
        var encoding: SparseEncoding
        var buckets: Int
        var dimension: Int
        var missing: Missing
    }

    struct Sequence {
        var column: Int
        var name: String
        /// Own encoding (ignored when shared: the shared field's applies).
        var encoding: SparseEncoding
        var buckets: Int
        var dimension: Int
        var separator: UInt8
        var maxLength: Int
        /// Index into `sparse` of the field whose ids and table the values use.
        var sharedField: Int?
        var pooling: SequencePooling
        /// Index into `sparse` of the attention query's field.
        var targetField: Int?
        var attentionHidden: [Int]
        var attentionSoftmax: Bool
    }

    struct User {
        var column: Int
        var format: UserFormat
        var missing: Missing
    }

    struct Day {
        var column: Int
        var format: DayFormat
        var missing: Missing
    }

    /// Number of fields of every record.
    let width: Int
    /// Name of each column, when known.
    let columnNames: [String?]
    let labels: [Label]
    let dense: [Dense]
    let sparse: [Sparse]
    let sequences: [Sequence]
    let user: User?
    let day: Day?
    /// `by_day` bounds converted to the day column's units.
    let dayBounds: (validFrom: Int64, testFrom: Int64)?

    /// The column's name, or `col<index>`.
    func displayName(_ column: Int) -> String { columnNames[column] ?? "col\(column)" }

    /// The 0-based position of `reference` in this file's records (for
    /// columns read besides the schema's, e.g. an id column copied through).
    ///
    /// - Throws: `DataError` (`unknownColumn`, `ambiguousColumnName`,
    ///   `columnIndexOutOfRange`) on the header line, if any.
    func position(of reference: ColumnReference, file: String, headerLine: Int?) throws -> Int {
        try SchemaBinding.position(of: reference, names: columnNames, width: width, file: file, headerLine: headerLine)
    }

    private static func position(of reference: ColumnReference, names: [String?], width: Int, file: String,
                                 headerLine: Int?) throws -> Int {
        switch reference {
        case .index(let index):
            guard index < width else {
                throw DataError(file: file, line: headerLine, problem: .columnIndexOutOfRange(index: index, fieldCount: width))
            }
            return index
        case .name(let name):
            let matches = names.indices.filter { names[$0] == name }
            guard let first = matches.first else {
                throw DataError(file: file, line: headerLine, problem: .unknownColumn(name: name))
            }
            guard matches.count == 1 else {
                throw DataError(file: file, line: headerLine, problem: .ambiguousColumnName(name: name))
            }
            return first
        }
    }

    /// Binds `schema` to a file whose records have `width` fields and whose
    /// header (if any) is `header`.
    ///
    /// With `readsTargets` false (prediction input) the label, user and day
    /// entries are not bound: their columns may be absent (not in the header,
    /// or an index beyond the record width); when present they count as
    /// mentioned but are not read. `labels` is then empty and `user`, `day` nil.
    init(schema: DataSchema, header: [String]?, width: Int, file: String, readsTargets: Bool = true) throws {
        self.width = width
        let names: [String?]
        if let header {
            names = header
        } else if let given = schema.columnNames {
            names = (0..<width).map { $0 < given.count ? given[$0] : nil }
        } else {
            names = [String?](repeating: nil, count: width)
        }
        columnNames = names
        let headerLine: Int? = schema.format.header ? 1 : nil

        func resolve(_ reference: ColumnReference) throws -> Int {
            try SchemaBinding.position(of: reference, names: names, width: width, file: file, headerLine: headerLine)
        }

        /// A column that need not be present: nil when the header lacks the
        /// name or the index is beyond the width.
        func resolveIfPresent(_ reference: ColumnReference) throws -> Int? {
            switch reference {
            case .index(let index): return index < width ? index : nil
            case .name(let name): return names.contains(name) ? try resolve(reference) : nil
            }
        }

        func schemaFailure(_ path: String, _ problem: SchemaError.Problem) -> SchemaError {
            SchemaError(source: schemaSourcePlaceholder, path: path, problem: problem)
        }

        var labels: [Label] = []
        var dense: [Dense] = []
        var sparse: [Sparse] = []
        var sequences: [Sequence] = []
        var sequencePaths: [(String, ColumnSpec)] = []
        var user: User?
        var day: Day?
        var primaryOwner = [Int?](repeating: nil, count: width)
        var mentioned = [Bool](repeating: false, count: width)
        var outputNames = Set<String>()
        var taskNames = Set<String>()

        for (entryIndex, entry) in schema.columns.enumerated() {
            let path = "columns[\(entryIndex)]"
            let markers = (entry.missingMarkers ?? schema.format.missingMarkers).map { Array($0.utf8) }
            let defaultText = ColumnBuffer<UInt8>(capacity: 16)
            for byte in (entry.defaultValue ?? "").utf8 { defaultText.append(byte) }
            let missing = Missing(policy: entry.missing ?? .error, markers: markers,
                                  onlyEmpty: markers == [[]], defaultText: defaultText)
            let isTarget = entry.role == .label || entry.role == .user || entry.role == .day
            for reference in entry.columns {
                if isTarget && !readsTargets {
                    if let column = try resolveIfPresent(reference) { mentioned[column] = true }
                    continue
                }
                let column = try resolve(reference)
                mentioned[column] = true
                let name = entry.name ?? names[column] ?? "col\(column)"
                let shown = names[column].map { "\"\($0)\" (index \(column))" } ?? "index \(column)"
                switch entry.role {
                case .user:
                    user = User(column: column, format: entry.userFormat ?? .integer, missing: missing)
                    continue
                case .day:
                    day = Day(column: column, format: entry.dayFormat ?? .integer, missing: missing)
                    continue
                default:
                    break
                }
                if primaryOwner[column] != nil { throw schemaFailure(path, .duplicateColumn(shown)) }
                primaryOwner[column] = entryIndex
                switch entry.role {
                case .label:
                    guard taskNames.insert(name).inserted else { throw schemaFailure(path, .duplicateName(name)) }
                    labels.append(Label(column: column, name: name, kind: entry.kind ?? .binary,
                                        positives: entry.positiveValues?.map { Array($0.utf8) },
                                        negatives: entry.negativeValues?.map { Array($0.utf8) }, missing: missing))
                case .dense:
                    guard outputNames.insert(name).inserted else { throw schemaFailure(path, .duplicateName(name)) }
                    dense.append(Dense(column: column, name: name, transform: entry.transform ?? .none, missing: missing))
                case .sparse:
                    guard outputNames.insert(name).inserted else { throw schemaFailure(path, .duplicateName(name)) }
                    sparse.append(Sparse(column: column, name: name, encoding: entry.encoding ?? .vocabulary,
                                         buckets: entry.buckets ?? 0, dimension: entry.dimension ?? schema.defaultDimension,
                                         missing: missing))
                case .sequence:
                    guard outputNames.insert(name).inserted else { throw schemaFailure(path, .duplicateName(name)) }
                    sequences.append(Sequence(column: column, name: name, encoding: entry.encoding ?? .vocabulary,
                                              buckets: entry.buckets ?? 0,
                                              dimension: entry.dimension ?? schema.defaultDimension,
                                              separator: entry.separatorByte, maxLength: entry.sequenceMaxLength,
                                              sharedField: nil, pooling: entry.sequencePooling, targetField: nil,
                                              attentionHidden: entry.attentionHidden ?? [36],
                                              attentionSoftmax: entry.attentionSoftmax ?? false))
                    sequencePaths.append((path, entry))
                case .ignore, .user, .day:
                    break
                }
            }
        }
        if schema.unlistedColumns == .error {
            let unlisted = (0..<width).filter { !mentioned[$0] }
            if !unlisted.isEmpty {
                throw DataError(file: file, line: headerLine,
                                problem: .unlistedColumns(names: unlisted.map { names[$0] ?? "col\($0)" }))
            }
        }
        self.labels = labels
        self.dense = dense
        // Shared tables and attention targets name sparse fields by their output name.
        for (s, (path, entry)) in sequencePaths.enumerated() {
            func field(_ key: String, _ name: String) throws -> Int {
                guard let f = sparse.firstIndex(where: { $0.name == name }) else {
                    throw schemaFailure(path + "." + key, .invalidValue(
                        "\"\(name)\" is not a sparse field; the sparse fields are \(sparse.map(\.name))"))
                }
                return f
            }
            if let shared = entry.sharesEmbeddingWith {
                let f = try field("shares_embedding_with", shared)
                sequences[s].sharedField = f
                sequences[s].dimension = sparse[f].dimension
            }
            if let target = entry.target {
                let f = try field("target", target)
                guard sparse[f].dimension == sequences[s].dimension else {
                    throw schemaFailure(path + ".target", .invalidValue(
                        "the target \(target) has dimension \(sparse[f].dimension), the sequence \(sequences[s].dimension)"))
                }
                sequences[s].targetField = f
            }
        }
        self.sparse = sparse
        self.sequences = sequences
        self.user = user
        self.day = day

        if case let .byDay(validFrom, testFrom) = schema.split, let day {
            if day.format == .yyyymmdd {
                guard let v = DayParsing.daysSinceEpoch(yyyymmdd: validFrom),
                      let t = DayParsing.daysSinceEpoch(yyyymmdd: testFrom) else {
                    throw schemaFailure("split", .invalidValue("valid_from and test_from must be dates YYYYMMDD"))
                }
                dayBounds = (Int64(v), Int64(t))
            } else {
                dayBounds = (validFrom, testFrom)
            }
        } else {
            dayBounds = nil
        }
        try checkDefaults(schema: schema)
    }

    /// Reads every `default` text as its column would be read.
    private func checkDefaults(schema: DataSchema) throws {
        for (entryIndex, entry) in schema.columns.enumerated() where entry.missing == .default {
            let text = entry.defaultValue ?? ""
            let bytes = Array(text.utf8)
            let ok: Bool = bytes.withUnsafeBufferPointer { b in
                let p = b.baseAddress ?? UnsafePointer(bitPattern: 1)!
                switch entry.role {
                case .label:
                    if (entry.kind ?? .binary) == .binary {
                        if let positives = entry.positiveValues {
                            return positives.contains(text) || (entry.negativeValues?.contains(text) ?? true)
                        }
                        let v = ByteNumberParsing.parseDouble(p, count: b.count)
                        return v == 0 || v == 1
                    }
                    return ByteNumberParsing.parseDouble(p, count: b.count)?.isFinite ?? false
                case .dense:
                    guard let v = ByteNumberParsing.parseDouble(p, count: b.count), v.isFinite else { return false }
                    return !(entry.transform ?? .none).usesLog1p || v > -1
                case .user:
                    return (entry.userFormat ?? .integer) == .hash || ByteNumberParsing.parseInt64(p, count: b.count) != nil
                case .day:
                    return DayParsing.parse(p, count: b.count, format: entry.dayFormat ?? .integer) != nil
                case .sparse, .ignore, .sequence:
                    return true
                }
            }
            if !ok {
                throw SchemaError(source: schemaSourcePlaceholder, path: "columns[\(entryIndex)].default",
                                  problem: .invalidValue("\"\(text)\" is not a valid value for this \(entry.role.rawValue) column"))
            }
        }
    }
}

/// Day values: plain integers or `YYYYMMDD` dates as days since 1970-01-01.
enum DayParsing {
    /// The day number of a field, or nil when it does not read as `format`.
    static func parse(_ bytes: UnsafePointer<UInt8>, count: Int, format: DayFormat) -> Int32? {
        guard let value = ByteNumberParsing.parseInt64(bytes, count: count) else { return nil }
        switch format {
        case .integer:
            return Int32(exactly: value)
        case .yyyymmdd:
            guard count == 8 else { return nil }
            return daysSinceEpoch(yyyymmdd: value)
        }
    }

    /// Days from 1970-01-01 to the proleptic Gregorian date `yyyymmdd`, or nil
    /// for an invalid date (Hinnant's `days_from_civil`).
    static func daysSinceEpoch(yyyymmdd: Int64) -> Int32? {
        guard yyyymmdd >= 0 else { return nil }
        let year = Int(yyyymmdd / 10000)
        let month = Int(yyyymmdd / 100 % 100)
        let day = Int(yyyymmdd % 100)
        guard year >= 1, year <= 9999, month >= 1, month <= 12 else { return nil }
        let leap = (year % 4 == 0 && year % 100 != 0) || year % 400 == 0
        let monthDays = [31, leap ? 29 : 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31]
        guard day >= 1, day <= monthDays[month - 1] else { return nil }
        let y = month <= 2 ? year - 1 : year
        let era = (y >= 0 ? y : y - 399) / 400
        let yearOfEra = y - era * 400
        let dayOfYear = (153 * (month + (month > 2 ? -3 : 9)) + 2) / 5 + day - 1
        let dayOfEra = yearOfEra * 365 + yearOfEra / 4 - yearOfEra / 100 + dayOfYear
        return Int32(era * 146_097 + dayOfEra - 719_468)
    }
}
