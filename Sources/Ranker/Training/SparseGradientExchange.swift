/// How the replicas of a data-parallel run sum the embedding tables'
/// row-sparse gradients (`SparseRowGradient`: unique touched ids, one summed
/// row each). After `exchange`, every rank holds, for every table, the same
/// id list and the same rows: the sum over ranks of every touched row, so
/// every replica applies the identical Adagrad / Clippy row update.
///
/// A protocol so that a row-partitioned variant (alltoall of rows to the rank
/// owning them) can replace the all-gather below without touching the step.
public protocol SparseGradientExchange: AnyObject {
    /// Replaces each of `tables`' sparse gradients by its sum over the
    /// replicas, all tables in one exchange. `tasks[k]` belongs to
    /// `tables[k]`: with `tasks[k] > 0` the table's `tasks[k]` per-task
    /// gradients (`Parameter.taskGradients`, `tasks × rowCount·cols`) are
    /// summed instead, and `sparseGrad.values` is only resized to the merged
    /// rows. Every rank passes the same tables and task counts.
    func exchange(_ tables: [Parameter], tasks: [Int]) throws
}

/// The all-gather exchange, every table at once: one `allgather` of the
/// per-table row counts (`N · K` values for `K` tables), one `allgatherv` of
/// the ids (`Σ_r Σ_k n_rk` Int32) and one of the rows (`Σ_r Σ_k n_rk · w_k`
/// floats, `w_k = cols_k`, or `T · cols_k` per-task with each rank's block
/// task-major). Rank `r`'s contribution is its tables in order, each table's
/// ids (resp. rows) together. Then every rank merges each table in rank
/// order: ids in order of first appearance over ranks `0, 1, …`, rows added
/// in that order (so the sums are bitwise identical on every rank, and equal
/// to those of one exchange per table).
///
/// Three collectives per step whatever the number of tables (one per table
/// and kind cost 78 on W3's 26 tables, each a synchronisation of the ranks).
/// The send and receive buffers keep their capacity across steps.
///
/// Traffic per rank: every rank receives every touched row of every rank —
/// fine while the touched rows per step are few next to the table.
public final class AllgatherRowExchange: SparseGradientExchange {
    public let group: DataParallelGroup
    private var sendIDs: [Int32] = []
    private var sendRows: [Float] = []
    private var receivedIDs: [Int32] = []
    private var receivedRows: [Float] = []
    /// One table's ids from every rank, in rank order (what `gather` reads).
    private var tableIDs: [Int32] = []
    private var slots: [Int32] = []
    /// `n_rk`, rank-major: `counts[r * K + k]`.
    private var counts: [Int] = []
    private var idCounts: [Int] = []
    private var rowCounts: [Int] = []
    /// Where rank `r`'s block starts in `receivedIDs` / `receivedRows`.
    private var idStarts: [Int] = []
    private var rowStarts: [Int] = []

    public init(group: DataParallelGroup) { self.group = group }

    public func exchange(_ tables: [Parameter], tasks: [Int]) throws {
        precondition(tables.count == tasks.count, "exchange: \(tables.count) tables but \(tasks.count) task counts")
        let k = tables.count, n = group.size
        guard k > 0 else { return }
        try pack(tables, tasks: tasks)
        let gathered = try group.allgather(tables.map { UInt64($0.sparseGrad!.rowCount) })
        counts.removeAll(keepingCapacity: true)
        for c in gathered { counts.append(Int(c)) }
        idCounts.removeAll(keepingCapacity: true)
        rowCounts.removeAll(keepingCapacity: true)
        idStarts.removeAll(keepingCapacity: true)
        rowStarts.removeAll(keepingCapacity: true)
        var idTotal = 0, rowTotal = 0
        for r in 0..<n {
            var ids = 0, rows = 0
            for j in 0..<k {
                ids += counts[r * k + j]
                rows += counts[r * k + j] * Self.width(tables[j], tasks[j])
            }
            idStarts.append(idTotal)
            rowStarts.append(rowTotal)
            idCounts.append(ids)
            rowCounts.append(rows)
            idTotal += ids
            rowTotal += rows
        }
        Self.grow(&receivedIDs, to: idTotal)
        Self.grow(&receivedRows, to: rowTotal)
        try sendIDs.withUnsafeBufferPointer { s in
            try receivedIDs.withUnsafeMutableBufferPointer { r in
                try group.allgatherv(s, counts: idCounts, into: UnsafeMutableBufferPointer(rebasing: r[0..<idTotal]))
            }
        }
        try sendRows.withUnsafeBufferPointer { s in
            try receivedRows.withUnsafeMutableBufferPointer { r in
                try group.allgatherv(s, counts: rowCounts, into: UnsafeMutableBufferPointer(rebasing: r[0..<rowTotal]))
            }
        }
        // Offsets of table j inside each rank's block, advanced table by table.
        var idOffset = idStarts, rowOffset = rowStarts
        for j in 0..<k {
            merge(tables[j], tasks: tasks[j], table: j, tableCount: k, idOffset: idOffset, rowOffset: rowOffset)
            for r in 0..<n {
                let c = counts[r * k + j]
                idOffset[r] += c
                rowOffset[r] += c * Self.width(tables[j], tasks[j])
            }
        }
    }

    /// This rank's ids and rows, table after table (rows task-major per table).
    private func pack(_ tables: [Parameter], tasks: [Int]) throws {
        sendIDs.removeAll(keepingCapacity: true)
        sendRows.removeAll(keepingCapacity: true)
        for (table, t) in zip(tables, tasks) {
            guard let sparse = table.sparseGrad else { preconditionFailure("\(table.name) is not an embedding table") }
            let local = sparse.rowCount, cols = sparse.cols
            sendIDs.append(contentsOf: sparse.rowIDs)
            if t > 0 {
                let g = table.taskGradients
                precondition(g.rows == t, "\(table.name): \(g.rows) per-task gradients, expected \(t)")
                for i in 0..<t { sendRows.append(contentsOf: UnsafeBufferPointer(start: g.row(i), count: local * cols)) }
            } else {
                sendRows.append(contentsOf: UnsafeBufferPointer(start: sparse.values.data, count: local * cols))
            }
        }
    }

    /// Table `j`: the union of its ids in rank order, its rows added rank by rank.
    private func merge(_ table: Parameter, tasks: Int, table j: Int, tableCount k: Int, idOffset: [Int], rowOffset: [Int]) {
        let sparse = table.sparseGrad!
        let cols = sparse.cols, width = Self.width(table, tasks), n = group.size
        tableIDs.removeAll(keepingCapacity: true)
        for r in 0..<n {
            let c = counts[r * k + j]
            receivedIDs.withUnsafeBufferPointer { ids in
                tableIDs.append(contentsOf: UnsafeBufferPointer(rebasing: ids[idOffset[r] ..< idOffset[r] + c]))
            }
        }
        let total = tableIDs.count
        Self.grow(&slots, to: total)
        tableIDs.withUnsafeBufferPointer { ids in
            slots.withUnsafeMutableBufferPointer { s in
                sparse.gather(ids: ids.baseAddress!, count: total, stride: 1, slots: s.baseAddress!)
            }
        }
        if tasks > 0 { table.prepareTaskGradients(tasks: tasks) }
        let merged = sparse.rowCount
        receivedRows.withUnsafeBufferPointer { rows in
            slots.withUnsafeBufferPointer { slot in
                var first = 0
                for r in 0..<n {
                    let c = counts[r * k + j]
                    let block = rows.baseAddress! + rowOffset[r]
                    precondition(rowOffset[r] + c * width <= rows.count)
                    for t in 0..<max(tasks, 1) {
                        let destination: UnsafeMutablePointer<Float>
                        if tasks > 0 {
                            destination = table.taskGradient(t)
                            if r == 0 { destination.update(repeating: 0, count: merged * cols) }
                        } else {
                            destination = sparse.values.data
                        }
                        for i in 0..<c {
                            let source = block + (t * c + i) * cols
                            let row = destination + Int(slot[first + i]) * cols
                            for col in 0..<cols { row[col] += source[col] }
                        }
                    }
                    first += c
                }
            }
        }
    }

    /// Floats per touched row of `table` in the exchange.
    private static func width(_ table: Parameter, _ tasks: Int) -> Int {
        max(tasks, 1) * table.sparseGrad!.cols
    }

    /// Makes `buffer` hold at least `count` values, keeping its capacity.
    private static func grow<T: Numeric>(_ buffer: inout [T], to count: Int) {
        if buffer.count < count { buffer.append(contentsOf: repeatElement(0, count: count - buffer.count)) }
    }
}
