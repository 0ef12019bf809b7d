import Foundation

/// Accumulates the rows of a dataset while files are read.
///
/// Rows are appended row-major to manually managed buffers (`ColumnBuffer`)
/// so that a row costs a parse per field and one copy, without
/// copy-on-write checks; `finish()` turns them into columns and does the
/// work that needs the whole training split: vocabulary ids in order of
/// first appearance among train rows, and the dense statistics (train mean,
/// then the population variance around it, in double precision).
final class DatasetBuilder {
    /// The binding of the first file: output names and order.
    let binding: SchemaBinding
    /// The binding of the file being read (same entries, this file's positions).
    var active: SchemaBinding
    var report = LoadReport()

    // One scratch row, filled by `parseRow`, stored by `commitRow`.
    private let scratchLabels: UnsafeMutablePointer<Float>
    private let scratchDense: UnsafeMutablePointer<Double>
    private let scratchIDs: UnsafeMutablePointer<Int32>
    private var scratchUser: Int64 = 0
    private(set) var scratchDay: Int32 = 0

    private let labelCount: Int
    private let denseCount: Int
    private let fieldCount: Int
    /// `count × labelCount`, `count × denseCount` (before standardization),
    /// `count × fieldCount` (interned value indices for vocabulary fields,
    /// final ids for hashed ones).
    private let labelRows = ColumnBuffer<Float>(capacity: 1 << 16)
    private let denseRows = ColumnBuffer<Double>(capacity: 1 << 16)
    private let idRows = ColumnBuffer<Int32>(capacity: 1 << 16)
    private let userColumn = ColumnBuffer<Int64>()
    private let dayColumn = ColumnBuffer<Int32>()
    /// The part of each row (`DatasetPart.allCases` index).
    private let parts = ColumnBuffer<UInt8>(capacity: 1 << 14)
    /// Vocabulary fields (training load): every value seen, in order of first appearance anywhere.
    private let tables: [ByteStringTable?]
    /// Vocabulary fields (frozen load): the train values, value `i` at index
    /// `i` (id `i + 1`); looked up, never extended.
    private let lookups: [ByteStringTable?]
    private let schema: DataSchema
    private let frozen: FrozenLoad?
    /// Frozen load with labels: the binding's label index of each encoding task.
    private let taskColumns: [Int]
    /// The text of each kept column (`FrozenLoad.keep`), one entry per stored row.
    var keptValues: [[String]]
    /// Sequence fields (`DatasetBuilderSequences.swift`): the scratch row's
    /// lists, and per stored row the list length and values (interned value
    /// indices for vocabulary fields, final ids for hashed ones and frozen loads).
    var scratchSequences: [[Int32]]
    let sequenceLengths: [ColumnBuffer<Int32>]
    let sequenceValues: [ColumnBuffer<Int32>]
    /// Own-vocabulary sequence fields: the interning table (training load) or
    /// the frozen values (frozen load). A shared field uses its sparse field's.
    let sequenceTables: [ByteStringTable?]
    let sequenceLookups: [ByteStringTable?]
    /// The sparse fields' tables, for sequences that share them.
    var sparseTables: [ByteStringTable?] { tables }
    var sparseLookups: [ByteStringTable?] { lookups }
    var frozenLoad: FrozenLoad? { frozen }
    var loadSchema: DataSchema { schema }
    var rowParts: ColumnBuffer<UInt8> { parts }

    init(binding: SchemaBinding, schema: DataSchema, frozen: FrozenLoad?) throws {
        self.binding = binding
        self.schema = schema
        self.frozen = frozen
        active = binding
        labelCount = binding.labels.count
        denseCount = binding.dense.count
        fieldCount = binding.sparse.count
        keptValues = [[String]](repeating: [], count: frozen?.keep.count ?? 0)
        if let frozen {
            taskColumns = try frozen.taskColumns(checking: binding)
            tables = [ByteStringTable?](repeating: nil, count: fieldCount)
            lookups = try frozen.encoding.sparseFields.map { field in
                try field.values.map { try Self.lookupTable($0, source: frozen.source, field: "sparse field \(field.name)") }
            }
        } else {
            taskColumns = []
            tables = binding.sparse.map { $0.encoding == .vocabulary ? ByteStringTable() : nil }
            lookups = [ByteStringTable?](repeating: nil, count: fieldCount)
        }
        scratchSequences = binding.sequences.map { _ in [] }
        sequenceLengths = binding.sequences.map { _ in ColumnBuffer<Int32>(capacity: 1 << 14) }
        sequenceValues = binding.sequences.map { _ in ColumnBuffer<Int32>(capacity: 1 << 16) }
        if let frozen {
            sequenceTables = binding.sequences.map { _ in nil }
            sequenceLookups = try DatasetBuilder.frozenSequenceLookups(frozen, binding: binding)
        } else {
            sequenceTables = binding.sequences.map { $0.sharedField == nil && $0.encoding == .vocabulary ? ByteStringTable() : nil }
            sequenceLookups = binding.sequences.map { _ in nil }
        }
        scratchLabels = .allocate(capacity: max(labelCount, 1))
        scratchDense = .allocate(capacity: max(denseCount, 1))
        scratchIDs = .allocate(capacity: max(fieldCount, 1))
    }

    deinit {
        scratchLabels.deallocate()
        scratchDense.deallocate()
        scratchIDs.deallocate()
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

    private func failure(_ reader: CSVReader, _ column: Int, _ problem: DataError.Problem) -> DataError {
        DataError(file: reader.path, line: reader.line, column: column + 1, problem: problem)
    }

    /// The bytes to read for `column` after the missing-value policy: the
    /// field, the default text, or nil when the row is to be skipped (counted).
    @inline(__always)
    private func fieldBytes(_ reader: CSVReader, _ column: Int,
                            _ missing: SchemaBinding.Missing) throws -> (UnsafePointer<UInt8>, Int)? {
        let p = reader.fieldStart(column)
        let n = reader.fieldLength(column)
        if !DatasetBuilder.isMissing(p, n, missing) { return (p, n) }
        switch missing.policy {
        case .error:
            throw failure(reader, column, .missingValue(found: DatasetBuilder.text(p, n)))
        case .default:
            return (UnsafePointer(missing.defaultText.pointer), missing.defaultText.count)
        case .skipRow:
            report.recordSkip(column: active.displayName(column), file: reader.path, line: reader.line)
            return nil
        }
    }

    /// Reads the current record into the scratch row; false when the row is skipped.
    func parseRow(_ reader: CSVReader) throws -> Bool {
        let binding = active
        for t in binding.labels.indices {
            let column = binding.labels[t].column
            guard let (p, n) = try fieldBytes(reader, column, binding.labels[t].missing) else { return false }
            scratchLabels[t] = try readLabel(p, n, binding.labels[t], reader)
        }
        for j in binding.dense.indices {
            let column = binding.dense[j].column
            guard let (p, n) = try fieldBytes(reader, column, binding.dense[j].missing) else { return false }
            guard let x = ByteNumberParsing.parseDouble(p, count: n) else {
                throw failure(reader, column, .unparsableNumber(found: DatasetBuilder.text(p, n)))
            }
            var v = x
            if binding.dense[j].transform.usesLog1p {
                guard x.isFinite else { throw failure(reader, column, .notFinite(found: DatasetBuilder.text(p, n))) }
                guard x > -1 else { throw failure(reader, column, .outsideLog1pDomain(found: DatasetBuilder.text(p, n))) }
                v = Foundation.log1p(x)
            }
            guard v.isFinite, abs(v) <= Double(Float.greatestFiniteMagnitude) else {
                throw failure(reader, column, .notFinite(found: DatasetBuilder.text(p, n)))
            }
            scratchDense[j] = v
        }
        for f in binding.sparse.indices {
            guard let (p, n) = try fieldBytes(reader, binding.sparse[f].column, binding.sparse[f].missing) else { return false }
            if let table = tables[f] {
                scratchIDs[f] = table.intern(p, length: n)
            } else if let lookup = lookups[f] {
                scratchIDs[f] = (lookup.index(of: p, length: n) ?? -1) + 1
            } else {
                scratchIDs[f] = Int32(truncatingIfNeeded: FNV1a.hash(p, count: n) % UInt64(binding.sparse[f].buckets))
            }
        }
        try parseSequences(reader)
        if let user = binding.user {
            guard let (p, n) = try fieldBytes(reader, user.column, user.missing) else { return false }
            switch user.format {
            case .integer:
                guard let id = ByteNumberParsing.parseInt64(p, count: n) else {
                    let found = DatasetBuilder.text(p, n)
                    throw failure(reader, user.column, ByteNumberParsing.isIntegerText(p, count: n)
                                  ? .integerOutOfRange(found: found) : .unparsableInteger(found: found))
                }
                scratchUser = id
            case .hash:
                scratchUser = Int64(bitPattern: FNV1a.hash(p, count: n))
            }
        }
        if let day = binding.day {
            guard let (p, n) = try fieldBytes(reader, day.column, day.missing) else { return false }
            guard let d = DayParsing.parse(p, count: n, format: day.format) else {
                let found = DatasetBuilder.text(p, n)
                throw failure(reader, day.column, day.format == .yyyymmdd ? .invalidDate(found: found)
                                                                            : .unparsableInteger(found: found))
            }
            scratchDay = d
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

    /// Stores the scratch row as the next row, in `part`.
    func commitRow(part: DatasetPart) {
        labelRows.appendSlots(labelCount).update(from: scratchLabels, count: labelCount)
        denseRows.appendSlots(denseCount).update(from: scratchDense, count: denseCount)
        idRows.appendSlots(fieldCount).update(from: scratchIDs, count: fieldCount)
        commitSequences()
        if binding.user != nil { userColumn.append(scratchUser) }
        if binding.day != nil { dayColumn.append(scratchDay) }
        switch part {
        case .train: parts.append(0)
        case .valid: parts.append(1)
        case .test: parts.append(2)
        }
    }

    // MARK: finishing

    func finish(name: String, firstFile: String) throws -> Dataset {
        let count = parts.count
        let part = parts.pointer
        var splitRows: [[Int]] = [[], [], []]
        for r in 0..<count { splitRows[Int(part[r])].append(r) }
        if let frozen { return finishFrozen(frozen, name: name, splitRows: splitRows) }
        guard !splitRows[0].isEmpty else { throw DataError(file: firstFile, problem: .noTrainingRows) }

        var fields: [SparseField] = []
        var trainIDs: [[Int32]?] = []
        var vocabularies: [[String]?] = []
        var ids: [[Int32]] = []
        let idValues = idRows.pointer
        for (f, field) in binding.sparse.enumerated() {
            var column = [Int32](repeating: 0, count: count)
            column.withUnsafeMutableBufferPointer { c in
                for r in 0..<count { c[r] = idValues[r * fieldCount + f] }
            }
            if let table = tables[f] {
                // Train ids 1, 2, ... in order of first appearance among train rows;
                // values never seen in a train row keep id 0.
                var trainID = [Int32](repeating: 0, count: table.count)
                var order: [Int32] = []
                column.withUnsafeMutableBufferPointer { c in
                    trainID.withUnsafeMutableBufferPointer { known in
                        for r in 0..<count where part[r] == 0 {
                            let local = Int(c[r])
                            if known[local] == 0 {
                                order.append(Int32(local))
                                known[local] = Int32(order.count)
                            }
                        }
                        for r in 0..<count { c[r] = known[Int(c[r])] }
                    }
                }
                fields.append(SparseField(name: field.name, vocabulary: order.count + 1, dimension: field.dimension))
                vocabularies.append(order.map { table.string(at: Int($0)) })
                trainIDs.append(trainID)
            } else {
                fields.append(SparseField(name: field.name, vocabulary: field.buckets, dimension: field.dimension))
                vocabularies.append(nil)
                trainIDs.append(nil)
            }
            ids.append(column)
        }

        var dense: [[Float]] = []
        var statistics: [DenseStatistics] = []
        let denseValues = denseRows.pointer
        let trainRows = splitRows[0]
        for (j, feature) in binding.dense.enumerated() {
            var mean = 0.0
            var deviation = 1.0
            if feature.transform.standardizes {
                var sum = 0.0
                for r in trainRows { sum += denseValues[r * denseCount + j] }
                mean = sum / Double(trainRows.count)
                var squares = 0.0
                for r in trainRows {
                    let d = denseValues[r * denseCount + j] - mean
                    squares += d * d
                }
                deviation = (squares / Double(trainRows.count)).squareRoot()
            }
            let statistic = DenseStatistics(name: feature.name, transform: feature.transform,
                                            mean: mean, standardDeviation: deviation)
            dense.append(standardizedColumn(j, statistic))
            statistics.append(statistic)
        }

        let sequences = finishSequences(fields: fields, trainIDs: trainIDs)
        return Dataset(name: name, fields: fields, denseNames: binding.dense.map(\.name),
                       tasks: binding.labels.map { TaskSpec(name: $0.name, kind: $0.kind) },
                       ids: ids, dense: dense, labels: (0..<labelCount).map(labelColumn),
                       users: binding.user != nil ? userColumn.toArray() : nil,
                       days: binding.day != nil ? dayColumn.toArray() : nil,
                       splits: DatasetSplits(train: splitRows[0], valid: splitRows[1], test: splitRows[2]),
                       vocabularies: vocabularies, denseStatistics: statistics, report: report, schema: schema,
                       sequenceFields: sequences.fields, sequences: sequences.columns,
                       sequenceVocabularies: sequences.vocabularies)
    }

    /// The frozen load's dataset: ids as read, dense values standardized with
    /// the stored statistics, the encoding's tasks (NaN labels when not read).
    private func finishFrozen(_ frozen: FrozenLoad, name: String, splitRows: [[Int]]) -> Dataset {
        let encoding = frozen.encoding
        let count = parts.count
        let idValues = idRows.pointer
        let ids: [[Int32]] = (0..<fieldCount).map { f in
            var column = [Int32](repeating: 0, count: count)
            column.withUnsafeMutableBufferPointer { c in
                for r in 0..<count { c[r] = idValues[r * fieldCount + f] }
            }
            return column
        }
        let dense = encoding.denseFeatures.indices.map { standardizedColumn($0, encoding.denseFeatures[$0]) }
        let labels: [[Float]] = frozen.labels == .required
            ? taskColumns.map(labelColumn)
            : encoding.tasks.map { _ in [Float](repeating: .nan, count: count) }
        return Dataset(name: name, fields: encoding.fields, denseNames: encoding.denseNames, tasks: encoding.tasks,
                       ids: ids, dense: dense, labels: labels,
                       users: binding.user != nil ? userColumn.toArray() : nil,
                       days: binding.day != nil ? dayColumn.toArray() : nil,
                       splits: DatasetSplits(train: splitRows[0], valid: splitRows[1], test: splitRows[2]),
                       vocabularies: encoding.sparseFields.map(\.values), denseStatistics: encoding.denseFeatures,
                       report: report, schema: schema,
                       sequenceFields: encoding.sequenceFields.map(\.field), sequences: sequenceColumns { $0 },
                       sequenceVocabularies: encoding.sequenceFields.map(\.values))
    }

    /// Dense feature `j` of every stored row through `statistic` (`DenseStatistics.standardized`).
    private func standardizedColumn(_ j: Int, _ statistic: DenseStatistics) -> [Float] {
        let count = parts.count
        let values = denseRows.pointer
        var column = [Float](repeating: 0, count: count)
        column.withUnsafeMutableBufferPointer { c in
            for r in 0..<count { c[r] = statistic.standardized(values[r * denseCount + j]) }
        }
        return column
    }

    /// Label `t` (binding order) of every stored row.
    private func labelColumn(_ t: Int) -> [Float] {
        let count = parts.count
        let values = labelRows.pointer
        var column = [Float](repeating: 0, count: count)
        column.withUnsafeMutableBufferPointer { c in
            for r in 0..<count { c[r] = values[r * labelCount + t] }
        }
        return column
    }
}
