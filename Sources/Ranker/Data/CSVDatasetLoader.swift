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
///   its id (1, 2, …) the first time it appears in a *train* row, in file
///   order (files in the order given); after the pass every stored value is
///   mapped to its train id, or 0 if no train row had it;
/// * standardized dense features: mean and population variance of the train
///   rows are accumulated in double precision (Welford) during the pass, and
///   every row is standardized with them at the end.
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
        var builder: DatasetBuilder?
        for source in sources {
            do {
                try readFile(source, schema: schema, builder: &builder, chunkSize: chunkSize)
            } catch var error as SchemaError {
                if error.source == schemaSourcePlaceholder { error.source = schema.name ?? schemaSourcePlaceholder }
                throw error
            }
        }
        return try builder!.finish(name: name ?? schema.name ?? "dataset", firstFile: sources[0].path)
    }

    private static func readFile(_ source: CSVSource, schema: DataSchema, builder: inout DatasetBuilder?,
                                 chunkSize: Int) throws {
        guard case let .success((separator, quote)) = schema.format.bytes() else { preconditionFailure("validated") }
        let path = source.path
        let reader = try CSVReader(path: path, separator: separator, quote: quote, trim: schema.format.trim,
                                   chunkSize: chunkSize)
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
        var header: [String]?
        var width: Int
        var pendingRecord: Bool
        if schema.format.header {
            header = (0..<reader.fieldCount).map(reader.fieldString)
            width = reader.fieldCount
            pendingRecord = false
        } else {
            width = schema.columnNames?.count ?? reader.fieldCount
            pendingRecord = true
        }
        let binding = try SchemaBinding(schema: schema, header: header, width: width, file: path)
        if builder == nil { builder = DatasetBuilder(binding: binding, schema: schema) }
        let b = builder!
        b.active = binding
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
            summary.keptRows += 1
        }
        if summary.dataRows == 0 { throw DataError(file: path, problem: .noDataRows) }
        b.report.files.append(summary)
    }
}

/// Accumulates the columns of a dataset while files are read.
final class DatasetBuilder {
    /// The binding of the first file: output names and order.
    let binding: SchemaBinding
    /// The binding of the file being read (same entries, this file's positions).
    var active: SchemaBinding
    let schema: DataSchema
    var report = LoadReport()

    // Per-row scratch, filled by `parseRow`, stored by `commitRow`.
    private var scratchLabels: [Float]
    private var scratchDense: [Double]
    private var scratchIDs: [Int32]
    private var scratchUser: Int64 = 0
    private(set) var scratchDay: Int32 = 0

    private var labels: [[Float]]
    private var dense: [[Float]]
    private var ids: [[Int32]]
    private var users: [Int64] = []
    private var days: [Int32] = []
    private var train: [Int] = []
    private var valid: [Int] = []
    private var test: [Int] = []
    private var count = 0

    /// Vocabulary fields: all values seen, each value's train id (0: not in
    /// train yet), and the values in train-id order.
    private var tables: [ByteStringTable?]
    private var trainIDs: [[Int32]]
    private var trainOrder: [[Int32]]
    /// Welford accumulators over train rows of each dense column.
    private var denseCount: [Int]
    private var denseMean: [Double]
    private var denseM2: [Double]

    init(binding: SchemaBinding, schema: DataSchema) {
        self.binding = binding
        active = binding
        self.schema = schema
        scratchLabels = [Float](repeating: 0, count: binding.labels.count)
        scratchDense = [Double](repeating: 0, count: binding.dense.count)
        scratchIDs = [Int32](repeating: 0, count: binding.sparse.count)
        labels = [[Float]](repeating: [], count: binding.labels.count)
        dense = [[Float]](repeating: [], count: binding.dense.count)
        ids = [[Int32]](repeating: [], count: binding.sparse.count)
        tables = binding.sparse.map { $0.encoding == .vocabulary ? ByteStringTable() : nil }
        trainIDs = [[Int32]](repeating: [], count: binding.sparse.count)
        trainOrder = [[Int32]](repeating: [], count: binding.sparse.count)
        denseCount = [Int](repeating: 0, count: binding.dense.count)
        denseMean = [Double](repeating: 0, count: binding.dense.count)
        denseM2 = [Double](repeating: 0, count: binding.dense.count)
    }

    // MARK: reading one row

    @inline(__always)
    private static func isMissing(_ p: UnsafePointer<UInt8>, _ n: Int, _ missing: SchemaBinding.Missing) -> Bool {
        if missing.onlyEmpty { return n == 0 }
        for marker in missing.markers where marker.count == n {
            if n == 0 || marker.withUnsafeBufferPointer({ memcmp($0.baseAddress!, p, n) == 0 }) { return true }
        }
        return false
    }

    @inline(__always)
    private static func equals(_ p: UnsafePointer<UInt8>, _ n: Int, _ text: [UInt8]) -> Bool {
        text.count == n && (n == 0 || text.withUnsafeBufferPointer { memcmp($0.baseAddress!, p, n) == 0 })
    }

    private static func text(_ p: UnsafePointer<UInt8>, _ n: Int) -> String {
        String(decoding: UnsafeBufferPointer(start: p, count: n), as: UTF8.self)
    }

    /// The field's bytes after the missing-value policy: the field itself,
    /// the default text, or nil for "skip this row".
    @inline(__always)
    private func value(_ reader: CSVReader, column: Int, missing: SchemaBinding.Missing,
                       body: (UnsafePointer<UInt8>, Int) throws -> Void) throws -> Bool {
        let p = reader.fieldStart(column)
        let n = reader.fieldLength(column)
        if !DatasetBuilder.isMissing(p, n, missing) {
            try body(p, n)
            return true
        }
        switch missing.policy {
        case .error:
            throw DataError(file: reader.path, line: reader.line, column: column + 1,
                            problem: .missingValue(found: DatasetBuilder.text(p, n)))
        case .default:
            try missing.defaultBytes.withUnsafeBufferPointer { d in
                try body(d.baseAddress ?? p, d.count)
            }
            return true
        case .skipRow:
            report.recordSkip(column: active.displayName(column), file: reader.path, line: reader.line)
            return false
        }
    }

    private func failure(_ reader: CSVReader, _ column: Int, _ problem: DataError.Problem) -> DataError {
        DataError(file: reader.path, line: reader.line, column: column + 1, problem: problem)
    }

    /// Reads the current record into the scratch row; false when the row is skipped.
    func parseRow(_ reader: CSVReader) throws -> Bool {
        let binding = active
        for (t, label) in binding.labels.enumerated() {
            let kept = try value(reader, column: label.column, missing: label.missing) { p, n in
                scratchLabels[t] = try readLabel(p, n, label, reader)
            }
            if !kept { return false }
        }
        for (j, feature) in binding.dense.enumerated() {
            let kept = try value(reader, column: feature.column, missing: feature.missing) { p, n in
                guard let x = ByteNumberParsing.parseDouble(p, count: n) else {
                    throw failure(reader, feature.column, .unparsableNumber(found: DatasetBuilder.text(p, n)))
                }
                var v = x
                if feature.transform.usesLog1p {
                    guard x.isFinite else { throw failure(reader, feature.column, .notFinite(found: DatasetBuilder.text(p, n))) }
                    guard x > -1 else { throw failure(reader, feature.column, .outsideLog1pDomain(found: DatasetBuilder.text(p, n))) }
                    v = Foundation.log1p(x)
                }
                guard v.isFinite, abs(v) <= Double(Float.greatestFiniteMagnitude) else {
                    throw failure(reader, feature.column, .notFinite(found: DatasetBuilder.text(p, n)))
                }
                scratchDense[j] = v
            }
            if !kept { return false }
        }
        for (f, field) in binding.sparse.enumerated() {
            let kept = try value(reader, column: field.column, missing: field.missing) { p, n in
                if let table = tables[f] {
                    scratchIDs[f] = table.intern(p, length: n)
                } else {
                    scratchIDs[f] = Int32(truncatingIfNeeded: FNV1a.hash(p, count: n) % UInt64(field.buckets))
                }
            }
            if !kept { return false }
        }
        if let user = binding.user {
            let kept = try value(reader, column: user.column, missing: user.missing) { p, n in
                switch user.format {
                case .integer:
                    guard let id = ByteNumberParsing.parseInt64(p, count: n) else {
                        throw failure(reader, user.column, .unparsableInteger(found: DatasetBuilder.text(p, n)))
                    }
                    scratchUser = id
                case .hash:
                    scratchUser = Int64(bitPattern: FNV1a.hash(p, count: n))
                }
            }
            if !kept { return false }
        }
        if let day = binding.day {
            let kept = try value(reader, column: day.column, missing: day.missing) { p, n in
                guard let d = DayParsing.parse(p, count: n, format: day.format) else {
                    let found = DatasetBuilder.text(p, n)
                    throw failure(reader, day.column, day.format == .yyyymmdd ? .invalidDate(found: found)
                                                                                : .unparsableInteger(found: found))
                }
                scratchDay = d
            }
            if !kept { return false }
        }
        return true
    }

    @inline(__always)
    private func readLabel(_ p: UnsafePointer<UInt8>, _ n: Int, _ label: SchemaBinding.Label,
                           _ reader: CSVReader) throws -> Float {
        if let positives = label.positives {
            for positive in positives where DatasetBuilder.equals(p, n, positive) { return 1 }
            if let negatives = label.negatives {
                for negative in negatives where DatasetBuilder.equals(p, n, negative) { return 0 }
                let expected = (positives + negatives).map { String(decoding: $0, as: UTF8.self) }
                throw failure(reader, label.column, .unknownLabelValue(found: DatasetBuilder.text(p, n), expected: expected))
            }
            return 0
        }
        let parsed = ByteNumberParsing.parseDouble(p, count: n)
        switch label.kind {
        case .binary:
            guard let y = parsed, y == 0 || y == 1 else {
                throw failure(reader, label.column, .labelNotBinary(found: DatasetBuilder.text(p, n)))
            }
            return Float(y)
        case .regression:
            guard let y = parsed else {
                throw failure(reader, label.column, .unparsableNumber(found: DatasetBuilder.text(p, n)))
            }
            guard y.isFinite, abs(y) <= Double(Float.greatestFiniteMagnitude) else {
                throw failure(reader, label.column, .notFinite(found: DatasetBuilder.text(p, n)))
            }
            return Float(y)
        }
    }

    /// Stores the scratch row as row `count` of `part`.
    func commitRow(part: DatasetPart) {
        let isTrain = part == .train
        for t in 0..<labels.count { labels[t].append(scratchLabels[t]) }
        for j in 0..<dense.count {
            let v = scratchDense[j]
            dense[j].append(Float(v))
            if isTrain && binding.dense[j].transform.standardizes {
                // Welford: mean and sum of squared deviations, in double precision.
                denseCount[j] += 1
                let delta = v - denseMean[j]
                denseMean[j] += delta / Double(denseCount[j])
                denseM2[j] += delta * (v - denseMean[j])
            }
        }
        for f in 0..<ids.count {
            let local = scratchIDs[f]
            if tables[f] != nil {
                if Int(local) == trainIDs[f].count { trainIDs[f].append(0) }
                if isTrain && trainIDs[f][Int(local)] == 0 {
                    trainOrder[f].append(local)
                    trainIDs[f][Int(local)] = Int32(trainOrder[f].count)
                }
            }
            ids[f].append(local)
        }
        if binding.user != nil { users.append(scratchUser) }
        if binding.day != nil { days.append(scratchDay) }
        switch part {
        case .train: train.append(count)
        case .valid: valid.append(count)
        case .test: test.append(count)
        }
        count += 1
    }

    // MARK: finishing

    func finish(name: String, firstFile: String) throws -> Dataset {
        guard !train.isEmpty else { throw DataError(file: firstFile, problem: .noTrainingRows) }
        var fields: [SparseField] = []
        var vocabularies: [[String]?] = []
        for (f, field) in binding.sparse.enumerated() {
            if let table = tables[f] {
                // Values interned after the last train row (seen only in valid/test) map to 0.
                let known = trainIDs[f]
                ids[f].withUnsafeMutableBufferPointer { column in
                    known.withUnsafeBufferPointer { map in
                        for r in 0..<column.count {
                            let local = Int(column[r])
                            column[r] = local < map.count ? map[local] : 0
                        }
                    }
                }
                fields.append(SparseField(name: field.name, vocabulary: trainOrder[f].count + 1, dimension: field.dimension))
                vocabularies.append(trainOrder[f].map { table.string(at: Int($0)) })
            } else {
                fields.append(SparseField(name: field.name, vocabulary: field.buckets, dimension: field.dimension))
                vocabularies.append(nil)
            }
        }
        var statistics: [DenseStatistics] = []
        for (j, feature) in binding.dense.enumerated() {
            var mean = 0.0
            var deviation = 1.0
            if feature.transform.standardizes {
                mean = denseMean[j]
                deviation = (denseM2[j] / Double(denseCount[j])).squareRoot()
                let divisor = deviation > 0 ? deviation : 1
                dense[j].withUnsafeMutableBufferPointer { column in
                    for r in 0..<column.count { column[r] = Float((Double(column[r]) - mean) / divisor) }
                }
            }
            statistics.append(DenseStatistics(name: feature.name, transform: feature.transform,
                                              mean: mean, standardDeviation: deviation))
        }
        return Dataset(name: name, fields: fields, denseNames: binding.dense.map(\.name),
                       tasks: binding.labels.map { TaskSpec(name: $0.name, kind: $0.kind) },
                       ids: ids, dense: dense, labels: labels,
                       users: binding.user != nil ? users : nil, days: binding.day != nil ? days : nil,
                       splits: DatasetSplits(train: train, valid: valid, test: test),
                       vocabularies: vocabularies, denseStatistics: statistics, report: report)
    }
}
