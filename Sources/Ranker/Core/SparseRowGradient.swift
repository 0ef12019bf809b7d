/// The row-sparse gradient of an embedding table: unique row ids in order of
/// first appearance and one summed gradient row per id (duplicates already
/// added together, ALGORITHMS.md 3.1 and 4.1).
public final class SparseRowGradient {
    /// Width of each row (the embedding dimension).
    public let cols: Int
    /// Unique touched row ids, first-appearance order; `rowIDs.count == rowCount`.
    public private(set) var rowIDs: [Int32]
    /// Summed gradient rows: `rowCount × cols` (the matrix keeps its capacity).
    public let values: Matrix
    /// Position of each table row in `rowIDs`, or -1 (one entry per table row).
    private var slotOfRow: [Int32]

    /// Number of distinct rows touched in this step.
    public var rowCount: Int { rowIDs.count }

    public init(vocabulary: Int, cols: Int) {
        self.cols = cols
        rowIDs = []
        values = Matrix(rows: 0, cols: cols)
        slotOfRow = [Int32](repeating: -1, count: vocabulary)
    }

    /// Forgets the touched rows (cost proportional to the rows touched last time).
    public func reset() {
        slotOfRow.withUnsafeMutableBufferPointer { slot in
            for id in rowIDs { slot[Int(id)] = -1 }
        }
        rowIDs.removeAll(keepingCapacity: true)
    }

    /// Registers the ids of a batch (in batch order) and returns, for each of
    /// them, the slot of its summed row. The value rows are zeroed.
    ///
    /// - Parameters:
    ///   - ids: `count` row ids, read with stride `stride`.
    ///   - slots: receives `count` slot numbers.
    ///   - appending: keep the rows registered so far (a table read by several
    ///     fields, e.g. an item field and a history of items sharing its table).
    public func gather(ids: UnsafePointer<Int32>, count: Int, stride: Int, slots: UnsafeMutablePointer<Int32>,
                       appending: Bool = false) {
        if !appending { reset() }
        // At most `count` new rows: make room once, fill through pointers, trim.
        let previous = rowIDs.count
        rowIDs.append(contentsOf: repeatElement(0, count: count))
        var unique = 0
        rowIDs.withUnsafeMutableBufferPointer { rows in
            slotOfRow.withUnsafeMutableBufferPointer { slotOf in
                let vocabulary = slotOf.count
                for i in 0..<count {
                    let id = Int(ids[i * stride])
                    precondition(id >= 0 && id < vocabulary, "embedding id \(id) outside the table of \(vocabulary) rows")
                    var slot = slotOf[id]
                    if slot < 0 {
                        slot = Int32(previous + unique)
                        slotOf[id] = slot
                        rows[previous + unique] = Int32(id)
                        unique += 1
                    }
                    slots[i] = slot
                }
            }
        }
        rowIDs.removeLast(count - unique)
        // Room for a batch of all-distinct ids, so that a later batch with more
        // distinct ids than any before does not reallocate.
        values.reserve(count: (previous + count) * cols)
        values.resize(rows: previous + unique, cols: cols)
        values.fill(0)
    }

    /// Replaces the touched set by explicit `(id, row)` pairs, summing
    /// duplicates (used by tests and by optimizers driven from outside).
    public func set(ids: [Int], rows: [[Float]]) {
        precondition(ids.count == rows.count && rows.allSatisfy { $0.count == cols })
        var slots = [Int32](repeating: 0, count: ids.count)
        let ids32 = ids.map { Int32($0) }
        ids32.withUnsafeBufferPointer { ip in
            slots.withUnsafeMutableBufferPointer { sp in
                gather(ids: ip.baseAddress!, count: ids.count, stride: 1, slots: sp.baseAddress!)
            }
        }
        for (i, row) in rows.enumerated() {
            let dst = values.data + Int(slots[i]) * cols
            for c in 0..<cols { dst[c] += row[c] }
        }
    }
}
