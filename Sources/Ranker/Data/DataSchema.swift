import Foundation

/// What each column of a CSV file means, and how to turn it into a `Dataset`.
///
/// Written as JSON (see `schemas/README.md` for examples). Top-level keys:
///
/// | key | default | meaning |
/// |---|---|---|
/// | `name` | – | a label for reports |
/// | `description` | – | free text (ignored) |
/// | `format` | see `CSVFormat` | separator, header, quoting, trimming, missing markers, blank lines |
/// | `column_names` | – | names for a file without a header (errors then name the column) |
/// | `default_dimension` | 8 | embedding dimension of sparse fields without `dimension` |
/// | `unlisted_columns` | `"error"` | `"ignore"` reads past columns no entry mentions |
/// | `columns` | required | entries of `ColumnSpec`: role and settings per column |
/// | `split` | `all_train` | a `SplitRule` for a single file |
///
/// Output order: tasks (label columns) in entry order, then sparse fields and
/// dense features in entry order (within a `columns` list, in list order).
///
/// `validate()` checks what can be checked without a file; everything that
/// needs the header (unknown column names, duplicates between a name and an
/// index of the same column, name clashes) is checked when a file is loaded.
public struct DataSchema: Codable, Equatable, Sendable {
    public enum UnlistedColumns: String, ConfigurationEnum {
        case error, ignore
    }

    public var name: String?
    public var description: String?
    public var format: CSVFormat
    public var columnNames: [String]?
    public var defaultDimension: Int
    public var unlistedColumns: UnlistedColumns
    public var columns: [ColumnSpec]
    public var split: SplitRule

    public init(name: String? = nil, description: String? = nil, format: CSVFormat = CSVFormat(),
                columnNames: [String]? = nil, defaultDimension: Int = 8, unlistedColumns: UnlistedColumns = .error,
                columns: [ColumnSpec], split: SplitRule = .allTrain) {
        self.name = name
        self.description = description
        self.format = format
        self.columnNames = columnNames
        self.defaultDimension = defaultDimension
        self.unlistedColumns = unlistedColumns
        self.columns = columns
        self.split = split
    }

    /// Also the keys `encode(to:)` (synthesized) writes, in this order, nil ones left out.
    enum CodingKeys: String, CodingKey, CaseIterable {
        case name, description, format
        case columnNames = "column_names"
        case defaultDimension = "default_dimension"
        case unlistedColumns = "unlisted_columns"
        case columns, split
    }

    public init(from decoder: Decoder) throws {
        let c = try schemaContainer(decoder, CodingKeys.self)
        name = try c.decodeIfPresent(String.self, forKey: .name)
        description = try c.decodeIfPresent(String.self, forKey: .description)
        format = try c.decode(.format, default: CSVFormat())
        columnNames = try c.decodeIfPresent([String].self, forKey: .columnNames)
        defaultDimension = try c.decode(.defaultDimension, default: 8)
        unlistedColumns = try c.decode(.unlistedColumns, default: .error)
        columns = try c.decode([ColumnSpec].self, forKey: .columns)
        split = try c.decode(.split, default: .allTrain)
    }

    /// Decodes and validates a schema; `source` names it in errors.
    public static func decode(_ data: Data, source: String = "<schema>") throws -> DataSchema {
        // Syntax errors with their line and column, and a key written twice
        // (which the decoder would resolve silently), before decoding.
        do {
            try JSONStructureCheck.check(Array(data))
        } catch let error as JSONStructureError {
            throw SchemaError(source: source, path: error.path,
                              problem: .invalidJSON("line \(error.line), column \(error.column): \(error.message)"))
        }
        let schema: DataSchema
        do {
            schema = try JSONDecoder().decode(DataSchema.self, from: data)
        } catch {
            throw schemaError(from: error, source: source)
        }
        do {
            try schema.validate()
        } catch var error as SchemaError {
            error.source = source
            throw error
        }
        return schema
    }

    /// Reads, decodes and validates the schema file at `path`.
    public static func load(path: String) throws -> DataSchema {
        let data: Data
        do {
            data = try Data(contentsOf: URL(fileURLWithPath: path))
        } catch {
            throw SchemaError(source: path, path: "", problem: .invalidJSON("cannot read the file: \(error.localizedDescription)"))
        }
        return try decode(data, source: path)
    }

    /// Checks everything that does not need a file. Throws the first `SchemaError` found.
    public func validate() throws {
        func fail(_ path: String, _ problem: SchemaError.Problem) -> SchemaError {
            SchemaError(source: schemaSourcePlaceholder, path: path, problem: problem)
        }
        if case .failure(let problem) = format.bytes() { throw fail("format", problem) }
        if let (key, message) = format.limitsProblem() { throw fail("format.\(key)", .invalidValue(message)) }
        if let names = columnNames {
            if format.header {
                throw fail("column_names", .keyNotApplicable(key: "column_names",
                                                             reason: "the file has a header; names come from it"))
            }
            var seen = Set<String>()
            for name in names where !seen.insert(name).inserted { throw fail("column_names", .duplicateName(name)) }
        }
        guard defaultDimension >= 1 else {
            throw fail("default_dimension", .invalidValue("default_dimension must be at least 1, got \(defaultDimension)"))
        }
        guard !columns.isEmpty else { throw fail("columns", .invalidValue("\"columns\" is empty")) }

        var userEntries = 0
        var dayEntries = 0
        var primary: [ColumnReference: String] = [:]
        for (i, entry) in columns.enumerated() {
            let path = "columns[\(i)]"
            if let (key, reason) = entry.inapplicableKeys().first {
                throw fail(path, .keyNotApplicable(key: key, reason: reason))
            }
            if entry.role == .user || entry.role == .day {
                guard entry.columns.count == 1 else {
                    throw fail(path, .invalidValue("the \(entry.role.rawValue) role takes a single \"column\""))
                }
                if entry.role == .user { userEntries += 1 } else { dayEntries += 1 }
            } else {
                for column in entry.columns {
                    if primary[column] != nil { throw fail(path, .duplicateColumn(column.description)) }
                    primary[column] = path
                }
            }
            if let buckets = entry.buckets, buckets < 1 {
                throw fail(path + ".buckets", .invalidValue("buckets must be at least 1, got \(buckets)"))
            }
            if entry.role == .sequence, let (key, problem) = entry.sequenceProblem() {
                throw fail(path + key, .invalidValue(problem))
            }
            if entry.encoding == .hash && entry.buckets == nil {
                throw fail(path, .missingKey("buckets"))
            }
            if let dimension = entry.dimension, dimension < 1 {
                throw fail(path + ".dimension", .invalidValue("dimension must be at least 1, got \(dimension)"))
            }
            if entry.missing == .default && entry.defaultValue == nil { throw fail(path, .missingKey("default")) }
            if let positives = entry.positiveValues {
                guard !positives.isEmpty else {
                    throw fail(path + ".positive_values", .invalidValue("positive_values is empty"))
                }
                if let negatives = entry.negativeValues, let both = negatives.first(where: positives.contains) {
                    throw fail(path, .invalidValue("\"\(both)\" is both a positive and a negative value"))
                }
            }
        }
        if userEntries > 1 { throw fail("columns", .duplicateRole("user")) }
        if dayEntries > 1 { throw fail("columns", .duplicateRole("day")) }
        if !columns.contains(where: { $0.role == .label }) { throw fail("columns", .noLabel) }
        if !columns.contains(where: { $0.role == .dense || $0.role == .sparse || $0.role == .sequence }) {
            throw fail("columns", .noFeatures)
        }
        if let problem = split.problem() { throw fail("split", .invalidValue(problem)) }
        if case .byDay = split, dayEntries == 0 {
            throw fail("split", .invalidValue("rule \"by_day\" needs a column with role \"day\""))
        }
    }
}
