/// How the replicas of a data-parallel run sum an embedding table's
/// row-sparse gradient (`SparseRowGradient`: unique touched ids, one summed
/// row each). After `exchange`, every rank holds the same id list and the
/// same rows: the sum over ranks of every touched row, so every replica
/// applies the identical Adagrad / Clippy row update.
///
/// A protocol so that a row-partitioned variant (alltoall of rows to the rank
/// owning them) can replace the all-gather below without touching the step.
public protocol SparseGradientExchange: AnyObject {
    /// Replaces `table`'s sparse gradient by its sum over the replicas.
    /// With `tasks > 0` the table's `tasks` per-task gradients
    /// (`Parameter.taskGradients`, `tasks × rowCount·cols`) are summed
    /// instead, and `sparseGrad.values` is only resized to the merged rows.
    func exchange(_ table: Parameter, tasks: Int) throws
}

/// The all-gather exchange: per table, one `allgather` of the row counts
/// (`N` values), one `allgatherv` of the ids (`Σ_r n_r` Int32) and one of the
/// rows (`Σ_r n_r · w` floats, `w = cols`, or `T · cols` per-task, each rank's
/// block task-major), then every rank merges them in rank order: ids in
/// order of first appearance over ranks `0, 1, …`, rows added in that order
/// (so the sums are bitwise identical on every rank).
///
/// Traffic per rank: every rank receives every touched row of every rank —
/// fine while the touched rows per step are few next to the table.
public final class AllgatherRowExchange: SparseGradientExchange {
    public let group: DataParallelGroup
    private var sendIDs: [Int32] = []
    private var sendRows: [Float] = []
    private var receivedIDs: [Int32] = []
    private var receivedRows: [Float] = []
    private var slots: [Int32] = []

    public init(group: DataParallelGroup) { self.group = group }

    public func exchange(_ table: Parameter, tasks: Int) throws {
        guard let sparse = table.sparseGrad else { preconditionFailure("\(table.name) is not an embedding table") }
        let cols = sparse.cols
        let local = sparse.rowCount
        let width = tasks > 0 ? tasks * cols : cols
        sendIDs.removeAll(keepingCapacity: true)
        sendIDs.append(contentsOf: sparse.rowIDs)
        sendRows.removeAll(keepingCapacity: true)
        if tasks > 0 {
            let g = table.taskGradients
            precondition(g.rows == tasks, "\(table.name): \(g.rows) per-task gradients, expected \(tasks)")
            for t in 0..<tasks { sendRows.append(contentsOf: UnsafeBufferPointer(start: g.row(t), count: local * cols)) }
        } else {
            sendRows.append(contentsOf: UnsafeBufferPointer(start: sparse.values.data, count: local * cols))
        }
        let counts = try group.allgather([UInt64(local)]).map { Int($0) }
        let total = counts.reduce(0, +)
        receivedIDs = [Int32](repeating: 0, count: total)
        receivedRows = [Float](repeating: 0, count: total * width)
        try sendIDs.withUnsafeBufferPointer { s in
            try receivedIDs.withUnsafeMutableBufferPointer { try group.allgatherv(s, counts: counts, into: $0) }
        }
        try sendRows.withUnsafeBufferPointer { s in
            try receivedRows.withUnsafeMutableBufferPointer { r in
                try group.allgatherv(s, counts: counts.map { $0 * width }, into: r)
            }
        }
        // Merge: the union of ids in rank order, rows added rank by rank.
        if slots.count < total { slots = [Int32](repeating: 0, count: total) }
        receivedIDs.withUnsafeBufferPointer { ids in
            slots.withUnsafeMutableBufferPointer { s in
                sparse.gather(ids: ids.baseAddress!, count: total, stride: 1, slots: s.baseAddress!)
            }
        }
        if tasks > 0 { table.prepareTaskGradients(tasks: tasks) }
        let merged = sparse.rowCount
        receivedRows.withUnsafeBufferPointer { rows in
            var first = 0
            for r in 0..<counts.count {
                let n = counts[r]
                let block = rows.baseAddress! + first * width
                for t in 0..<max(tasks, 1) {
                    let destination: UnsafeMutablePointer<Float>
                    if tasks > 0 {
                        destination = table.taskGradient(t)
                        if r == 0 { destination.update(repeating: 0, count: merged * cols) }
                    } else {
                        destination = sparse.values.data
                    }
                    for i in 0..<n {
                        let source = block + (t * n + i) * cols
                        let row = destination + Int(slots[first + i]) * cols
                        for c in 0..<cols { row[c] += source[c] }
                    }
                }
                first += n
            }
        }
    }
}
