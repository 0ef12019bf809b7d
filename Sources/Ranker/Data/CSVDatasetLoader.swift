import Foundation

/// One input file and the part its rows go to (nil: the schema's split rule
/// decides row by row).
public struct CSVSource: Sendable {
    public var path: String
    public var part: DatasetPart?

    public init(path: String, part: DatasetPart? = nil) {
        self.path = path
        self.part = part
    }
}

/// Reads CSV files (plain or gzip) with a `DataSchema` into a `Dataset`, in
/// one streaming pass per file.
///
/// Per record: the field count is checked, each task, feature, user and day
/// field is read (a missing value is an error, the default, or a counted
/// skip of the whole row), then the row is committed to its part. Encoding
/// that depends on the training split is finished after the last file:
///
/// * vocabulary fields: every value is interned as it is read; a value gets
///   its id (1, 2, …) by its first appearance among *train* rows, in file
///   order (files in the order given); after the pass every stored value is
///   mapped to its train id, or 0 if no train row had it;
/// * standardized dense features: values are kept in double precision during
///   the pass; at the end the train mean, then the population variance around
///   it, are computed and every row is standardized with them.
public enum CSVDatasetLoader {
    /// Loads one file; rows are divided by the schema's `split` rule.
    public static func load(schema: DataSchema, path: String, name: String? = nil) throws -> Dataset {
        try load(schema: schema, sources: [CSVSource(path: path)], name: name)
    }

    /// Loads several files into one dataset (for example separate train,
    /// valid and test files). The train rows of all files build the
    /// vocabularies and statistics.
    public static func load(schema: DataSchema, sources: [CSVSource], name: String? = nil,
                            chunkSize: Int = 4 << 20) throws -> Dataset {
        precondition(!sources.isEmpty, "CSVDatasetLoader.load needs at least one file")
        do {
            try schema.validate()
        } catch var error as SchemaError {
            error.source = schema.name ?? error.source
            throw error
        }
        return try read(schema: schema, sources: sources, frozen: nil, name: name, chunkSize: chunkSize).dataset
    }

    /// Reads every source into one builder and finishes it (both ways of loading).
    static func read(schema: DataSchema, sources: [CSVSource], frozen: FrozenLoad?, name: String?,
                     chunkSize: Int) throws -> (dataset: Dataset, kept: [[String]]) {
        var builder: DatasetBuilder?
        for source in sources {
            do {
                try readFile(source, schema: schema, frozen: frozen, builder: &builder, chunkSize: chunkSize)
            } catch var error as SchemaError {
                if error.source == schemaSourcePlaceholder { error.source = schema.name ?? schemaSourcePlaceholder }
                throw error
            }
        }
        let dataset = try builder!.finish(name: name ?? schema.name ?? "dataset", firstFile: sources[0].path)
        return (dataset, builder!.keptValues)
    }

    private static func readFile(_ source: CSVSource, schema: DataSchema, frozen: FrozenLoad?,
                                 builder: inout DatasetBuilder?, chunkSize: Int) throws {
        guard case let .success((separator, quote)) = schema.format.bytes() else { preconditionFailure("validated") }
        let path = source.path
        let reader = try CSVReader(path: path, separator: separator, quote: quote, trim: schema.format.trim,
                                   chunkSize: chunkSize,
                                   maxRecordBytes: schema.format.maxRecordBytes ?? CSVFormat.defaultMaxRecordBytes,
                                   maxFields: schema.format.maxColumns ?? CSVFormat.defaultMaxColumns)
        var summary = LoadReport.FileSummary(path: path)
        let skipBlank = schema.format.blankLines == .skip

        // The first record: the header, or the first data row (its width binds the schema).
        func nextRecord() throws -> Bool {
            while try reader.next() {
                if skipBlank && reader.isBlankLine { summary.skippedBlankLines += 1; continue }
                return true
            }
            return false
        }
        guard try nextRecord() else {
            throw DataError(file: path, problem: reader.sawAnyByte ? .noDataRows : .emptyFile)
        }
        let readsTargets = frozen?.labels != .ignored
        var header: [String]?
        var width: Int
        var pendingRecord: Bool
        if schema.format.header {
            header = (0..<reader.fieldCount).map(reader.fieldString)
            width = reader.fieldCount
            pendingRecord = false
        } else if let names = schema.columnNames {
            // Prediction input may lack trailing (label) columns the names list.
            width = readsTargets ? names.count : min(names.count, reader.fieldCount)
            pendingRecord = true
        } else {
            width = reader.fieldCount
            pendingRecord = true
        }
        let binding = try SchemaBinding(schema: schema, header: header, width: width, file: path,
                                        readsTargets: readsTargets)
        if builder == nil { builder = try DatasetBuilder(binding: binding, schema: schema, frozen: frozen) }
        let b = builder!
        b.active = binding
        let keptPositions = try (frozen?.keep ?? []).map { reference in
            do {
                return try binding.position(of: reference, file: path, headerLine: schema.format.header ? 1 : nil)
            } catch var error as DataError {
                // The column was asked for (`--keep`), not named by the schema.
                if case .unknownColumn(let name) = error.problem {
                    error.problem = .unknownKeptColumn(name: name, available: binding.columnNames.compactMap { $0 })
                }
                throw error
            }
        }
        var rowIndex = 0
        var random = RandomGenerator(seed: 0)
        var splitOfResidue: [DatasetPart] = []
        switch schema.split {
        case let .rowModulo(modulus, train, valid, test):
            splitOfResidue = [DatasetPart](repeating: .train, count: modulus)
            for r in train { splitOfResidue[r] = .train }
            for r in valid { splitOfResidue[r] = .valid }
            for r in test { splitOfResidue[r] = .test }
        case let .random(_, _, seed):
            random = RandomGenerator(seed: seed)
        default:
            break
        }

        while true {
            if !pendingRecord {
                guard try nextRecord() else { break }
            }
            pendingRecord = false
            guard reader.fieldCount == width else {
                throw DataError(file: path, line: reader.line,
                                problem: .wrongFieldCount(expected: width, found: reader.fieldCount))
            }
            let index = rowIndex
            rowIndex += 1
            summary.dataRows += 1
            var draw = 0.0
            if case .random = schema.split { draw = random.nextDouble() }
            do {
                guard try b.parseRow(reader) else {
                    summary.skippedRows += 1
                    continue
                }
            } catch var error as DataError {
                if error.columnName == nil, let column = error.column { error.columnName = binding.columnNames[column - 1] }
                throw error
            }
            let part: DatasetPart
            if let given = source.part {
                part = given
            } else if !readsTargets {
                part = .test
            } else {
                switch schema.split {
                case .allTrain:
                    part = .train
                case .rowModulo(let modulus, _, _, _):
                    part = splitOfResidue[index % modulus]
                case let .random(validFraction, testFraction, _):
                    part = draw < validFraction ? .valid : (draw < validFraction + testFraction ? .test : .train)
                case .byDay:
                    let day = Int64(b.scratchDay)
                    let bounds = binding.dayBounds!
                    part = day < bounds.validFrom ? .train : (day < bounds.testFrom ? .valid : .test)
                }
            }
            b.commitRow(part: part)
            for (k, column) in keptPositions.enumerated() { b.keptValues[k].append(reader.fieldString(column)) }
            summary.keptRows += 1
        }
        if summary.dataRows == 0 { throw DataError(file: path, problem: .noDataRows) }
        b.report.files.append(summary)
    }
}
