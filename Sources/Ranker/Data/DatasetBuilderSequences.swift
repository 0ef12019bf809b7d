import Foundation

/// Reading and finishing the `sequence` columns of a schema (`a|b|c`, oldest first).
///
/// Per record each list is split at its separator, only its last
/// `max_length` values are kept, and every kept value becomes an id the way
/// a sparse value does — in the field's own vocabulary or buckets, or in
/// those of the sparse field it shares a table with. Vocabulary ids are
/// assigned in `finish`: an own vocabulary numbers values 1, 2, … by first
/// appearance among train rows (row order, then list order), values never
/// seen in a train list get 0; a shared one uses the sparse field's ids (a
/// value the field never had in a train row gets 0).
extension DatasetBuilder {
    /// The frozen load's lookup table of each own-vocabulary sequence field.
    static func frozenSequenceLookups(_ frozen: FrozenLoad, binding: SchemaBinding) throws -> [ByteStringTable?] {
        let encoded = frozen.encoding.sequenceFields
        guard encoded.map(\.field.name) == binding.sequences.map(\.name) else {
            throw DatasetEncodingError(source: frozen.source, message:
                "sequence fields \(encoded.map(\.field.name)), the schema binds \(binding.sequences.map(\.name)) "
                + "(the encoding does not belong to this schema)")
        }
        return try encoded.map { field in
            guard field.field.sharesEmbeddingWith == nil, let values = field.values else { return nil }
            return try lookupTable(values, source: frozen.source, field: "sequence field \(field.field.name)")
        }
    }

    /// The lookup of a frozen vocabulary: value `i` of `values` interned as id
    /// `i` (a value listed twice would make the ids shift: an error naming
    /// `field` and the encoding file `source`).
    static func lookupTable(_ values: [String], source: String, field: String) throws -> ByteStringTable {
        let table = ByteStringTable(expectedCount: values.count)
        for (i, value) in values.enumerated() {
            let index = Array(value.utf8).withUnsafeBufferPointer { b in
                table.intern(b.baseAddress ?? UnsafePointer(bitPattern: 1)!, length: b.count)
            }
            guard index == Int32(i) else {
                throw DatasetEncodingError(source: source, message: "\(field): the value \"\(value)\" is listed twice")
            }
        }
        return table
    }

    /// Splits and encodes every sequence field of the current record into `scratchSequences`.
    func parseSequences(_ reader: CSVReader) throws {
        let sparse = active.sparse
        for (s, sequence) in active.sequences.enumerated() {
            scratchSequences[s].removeAll(keepingCapacity: true)
            let p = reader.fieldStart(sequence.column)
            let n = reader.fieldLength(sequence.column)
            if n == 0 { continue }
            let separator = sequence.separator
            var total = 1
            for i in 0..<n where p[i] == separator { total += 1 }
            let skip = max(0, total - sequence.maxLength)
            var index = 0
            var start = 0
            for i in 0...n where i == n || p[i] == separator {
                defer { index += 1; start = i + 1 }
                if i == start {
                    throw DataError(file: reader.path, line: reader.line, column: sequence.column + 1,
                                    problem: .emptySequenceValue(found: String(decoding: UnsafeBufferPointer(start: p, count: n), as: UTF8.self),
                                                                 separator: String(decoding: [separator], as: UTF8.self)))
                }
                if index < skip { continue }
                scratchSequences[s].append(encode(p + start, i - start, sequence: s, sparse: sparse))
            }
        }
    }

    /// One value's id (final for hashed fields and frozen loads, the interned
    /// index for vocabulary fields of a training load).
    @inline(__always)
    private func encode(_ p: UnsafePointer<UInt8>, _ n: Int, sequence s: Int, sparse: [SchemaBinding.Sparse]) -> Int32 {
        let sequence = active.sequences[s]
        let table: ByteStringTable?
        let lookup: ByteStringTable?
        let buckets: Int
        if let f = sequence.sharedField {
            (table, lookup, buckets) = (sparseTables[f], sparseLookups[f], sparse[f].buckets)
        } else {
            (table, lookup, buckets) = (sequenceTables[s], sequenceLookups[s], sequence.buckets)
        }
        if let table { return table.intern(p, length: n) }
        if let lookup { return (lookup.index(of: p, length: n) ?? -1) + 1 }
        return Int32(truncatingIfNeeded: FNV1a.hash(p, count: n) % UInt64(buckets))
    }

    /// Stores the scratch lists with the row.
    func commitSequences() {
        for s in scratchSequences.indices {
            let list = scratchSequences[s]
            sequenceLengths[s].append(Int32(list.count))
            if list.isEmpty { continue }
            list.withUnsafeBufferPointer { sequenceValues[s].appendSlots(list.count).update(from: $0.baseAddress!, count: list.count) }
        }
    }

    /// Sequence field `s` of every stored row with each stored value mapped by `idOf`.
    func sequenceColumn(_ s: Int, _ idOf: (Int32) -> Int32) -> RaggedColumn {
        let rows = sequenceLengths[s].count
        var offsets = [Int](repeating: 0, count: rows + 1)
        let lengths = sequenceLengths[s].pointer
        for r in 0..<rows { offsets[r + 1] = offsets[r] + Int(lengths[r]) }
        let values = sequenceValues[s].pointer
        let ids = (0..<offsets[rows]).map { idOf(values[$0]) }
        return RaggedColumn(offsets: offsets, ids: ids)
    }

    /// Every sequence field with each stored value mapped by `idOf` (frozen loads: the ids as read).
    func sequenceColumns(_ idOf: (Int32) -> Int32) -> [RaggedColumn] {
        active.sequences.indices.map { sequenceColumn($0, idOf) }
    }

    /// The training load's sequence fields, columns and own vocabularies.
    ///
    /// - Parameters:
    ///   - fields: the finished sparse fields (tables shared by sequences).
    ///   - trainIDs: per sparse vocabulary field, the train id of every interned value.
    func finishSequences(fields: [SparseField], trainIDs: [[Int32]?])
        -> (fields: [SequenceField], columns: [RaggedColumn], vocabularies: [[String]?]) {
        var sequenceFields: [SequenceField] = []
        var columns: [RaggedColumn] = []
        var vocabularies: [[String]?] = []
        let part = rowParts.pointer
        for (s, sequence) in binding.sequences.enumerated() {
            var vocabulary: Int
            var column: RaggedColumn
            var values: [String]?
            if let f = sequence.sharedField {
                vocabulary = fields[f].vocabulary
                if let known = trainIDs[f] {
                    column = sequenceColumn(s) { known[Int($0)] }
                } else {
                    column = sequenceColumn(s) { $0 }
                }
            } else if let table = sequenceTables[s] {
                // Own vocabulary: ids by first appearance among train lists.
                let raw = sequenceColumn(s) { $0 }
                var known = [Int32](repeating: 0, count: table.count)
                var order: [Int32] = []
                for r in 0..<raw.count where part[r] == 0 {
                    for i in raw.offsets[r]..<raw.offsets[r + 1] {
                        let local = Int(raw.ids[i])
                        if known[local] == 0 {
                            order.append(Int32(local))
                            known[local] = Int32(order.count)
                        }
                    }
                }
                column = RaggedColumn(offsets: raw.offsets, ids: raw.ids.map { known[Int($0)] })
                vocabulary = order.count + 1
                values = order.map { table.string(at: Int($0)) }
            } else {
                vocabulary = sequence.buckets
                column = sequenceColumn(s) { $0 }
            }
            sequenceFields.append(SequenceField(
                name: sequence.name, vocabulary: vocabulary, dimension: sequence.dimension,
                maxLength: sequence.maxLength, sharesEmbeddingWith: sequence.sharedField.map { fields[$0].name },
                pooling: sequence.pooling, target: sequence.targetField.map { fields[$0].name },
                attentionHidden: sequence.attentionHidden, attentionSoftmax: sequence.attentionSoftmax))
            columns.append(column)
            vocabularies.append(values)
        }
        return (sequenceFields, columns, vocabularies)
    }
}
