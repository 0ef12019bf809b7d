/// Which task losses a parameter tensor feeds (spec 3.7): `shared` when at
/// least two tasks reach it, otherwise `task(k)` for the one task that does.
public enum ParameterGroup: Hashable, Codable, Sendable, CustomStringConvertible {
    case shared
    case task(Int)

    public var description: String {
        switch self {
        case .shared: return "shared"
        case .task(let k): return "task\(k)"
        }
    }
}

/// How a parameter's gradient is stored.
public enum ParameterKind: String, Codable, Sendable {
    /// A dense tensor with a dense gradient of the same shape.
    case dense
    /// An embedding table (`vocabulary × dimension`) with a row-sparse gradient.
    case embedding
}

/// The row-sparse gradient of an embedding table: unique row ids in order of
/// first appearance and one summed gradient row per id (duplicates already
/// added together, spec 3.1 and 4.1).
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
    public func gather(ids: UnsafePointer<Int32>, count: Int, stride: Int, slots: UnsafeMutablePointer<Int32>) {
        reset()
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
                        slot = Int32(unique)
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
        values.reserve(count: count * cols)
        values.resize(rows: unique, cols: cols)
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

/// A named parameter tensor with its gradient.
///
/// `value` is `rows × cols` (a Dense weight is `in × out`, a bias `1 × out`, an
/// embedding table `vocabulary × dimension`). The gradient lives in `grad` for
/// dense parameters and in `sparseGrad` for embedding tables. Backward passes
/// *write* gradients (they do not accumulate): every parameter is used exactly
/// once per forward pass.
///
/// In a multi-gradient pass (`MultiTaskModel.backwardPerTask`) a shared
/// parameter receives one gradient per task in `taskGrads` (`T × count` for a
/// dense tensor; `T × (rowCount · cols)` for an embedding table, rows in the
/// order of `sparseGrad.rowIDs`), and a task-specific parameter receives its
/// own task's gradient in `grad` / `sparseGrad`.
public final class Parameter {
    /// Stable name, unique within a model (checkpoints and telemetry use it).
    public let name: String
    public let group: ParameterGroup
    public let kind: ParameterKind
    public let value: Matrix
    /// Dense gradient (`rows × cols`); empty (`0 × cols`) for embedding tables.
    public let grad: Matrix
    /// Row-sparse gradient of an embedding table; `nil` for dense parameters.
    public let sparseGrad: SparseRowGradient?
    /// Per-task gradients of a shared parameter (see the type's documentation).
    public let taskGrads: Matrix

    public init(name: String, rows: Int, cols: Int, group: ParameterGroup, kind: ParameterKind = .dense) {
        self.name = name
        self.group = group
        self.kind = kind
        value = Matrix(rows: rows, cols: cols)
        switch kind {
        case .dense:
            grad = Matrix(rows: rows, cols: cols)
            sparseGrad = nil
        case .embedding:
            grad = Matrix(rows: 0, cols: cols)
            sparseGrad = SparseRowGradient(vocabulary: rows, cols: cols)
        }
        taskGrads = Matrix(rows: 0, cols: 0)
    }

    public var rows: Int { value.rows }
    public var cols: Int { value.cols }
    /// Number of scalar values.
    public var count: Int { value.count }

    /// Number of gradient coordinates of this step: `count` for a dense tensor,
    /// `rowCount · cols` for an embedding table.
    public var gradientCount: Int {
        switch kind {
        case .dense: return count
        case .embedding: return (sparseGrad?.rowCount ?? 0) * cols
        }
    }

    /// Pointer to this step's gradient coordinates (`gradientCount` floats).
    public var gradientPointer: UnsafeMutablePointer<Float> {
        kind == .dense ? grad.data : sparseGrad!.values.data
    }

    /// Shapes `taskGrads` as `tasks × gradientCount` (keeps its capacity).
    public func prepareTaskGradients(tasks: Int) {
        taskGrads.resize(rows: tasks, cols: gradientCount)
    }

    /// Pointer to task `t`'s gradient in `taskGrads`.
    public func taskGradient(_ t: Int) -> UnsafeMutablePointer<Float> {
        taskGrads.data + t * taskGrads.cols
    }
}
