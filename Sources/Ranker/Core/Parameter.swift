/// Which task losses a parameter tensor feeds (ALGORITHMS.md 3.7): `shared` when at
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

/// A named parameter tensor with its gradient.
///
/// `value` is `rows × cols` (a Dense weight is `in × out`, a bias `1 × out`, an
/// embedding table `vocabulary × dimension`). The gradient lives in `grad` for
/// dense parameters and in `sparseGrad` for embedding tables. Backward passes
/// *write* gradients (they do not accumulate): every parameter is used exactly
/// once per forward pass.
///
/// A parameter starts with storage of its own. Once a model's parameter list
/// is final, `ParameterSlab` moves every dense tensor into the model's value
/// and gradient slabs: `value` and `grad` become windows on them (same shape,
/// same contents), and a shared dense tensor's per-task gradients become a
/// column block of the model's `TaskGradientMatrix`. Embedding tables keep
/// their own table and row-sparse gradient.
///
/// In a multi-gradient pass (`MultiTaskModel.backwardPerTask`) a shared
/// parameter receives one gradient per task in `taskGradients` (`T × count`
/// for a dense tensor; `T × (rowCount · cols)` for an embedding table, rows in
/// the order of `sparseGrad.rowIDs`), and a task-specific parameter receives
/// its own task's gradient in `grad` / `sparseGrad`.
public final class Parameter {
    /// Stable name, unique within a model (checkpoints and telemetry use it).
    public let name: String
    public let group: ParameterGroup
    public let kind: ParameterKind
    /// `rows × cols`; a window on the model's value slab once bound.
    public private(set) var value: Matrix
    /// Dense gradient (`rows × cols`, a window on the gradient slab once
    /// bound); empty (`0 × cols`) for embedding tables.
    public private(set) var grad: Matrix
    /// Row-sparse gradient of an embedding table; `nil` for dense parameters.
    public let sparseGrad: SparseRowGradient?
    /// Where the per-task gradients of a slab-bound shared dense tensor live:
    /// columns `column ..< column + count` of `matrix`; `nil` otherwise.
    public private(set) var taskGradientLocation: (matrix: TaskGradientMatrix, column: Int)?
    /// Per-task gradients of a parameter without a location: `T × gradientCount`.
    private let ownTaskGradients: Matrix

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
        ownTaskGradients = Matrix(rows: 0, cols: 0)
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

    /// This step's per-task gradients, `T × gradientCount` (row `t` is task
    /// `t`'s gradient; leading dimension `d` of the model's
    /// `TaskGradientMatrix` when bound, `gradientCount` otherwise). `0` rows
    /// before the first multi-gradient pass and for task-specific parameters.
    public var taskGradients: MatrixView {
        if let location = taskGradientLocation { return location.matrix.block(column: location.column, count: count) }
        return ownTaskGradients.view
    }

    /// Shapes `taskGradients` as `tasks × gradientCount` (keeps the capacity
    /// of a parameter's own storage; see `TaskGradientMatrix.prepare`).
    public func prepareTaskGradients(tasks: Int) {
        if let location = taskGradientLocation {
            location.matrix.prepare(tasks: tasks)
        } else {
            ownTaskGradients.resize(rows: tasks, cols: gradientCount)
        }
    }

    /// Makes room for `count` per-task gradient floats in a parameter's own
    /// storage, so that later `prepareTaskGradients` calls up to that size
    /// allocate nothing (an embedding table's touched rows vary per step).
    public func reserveTaskGradients(count: Int) {
        precondition(taskGradientLocation == nil, "\(name): per-task gradients live in the model's TaskGradientMatrix")
        ownTaskGradients.reserve(count: count)
    }

    /// Pointer to task `t`'s gradient (`gradientCount` contiguous floats).
    public func taskGradient(_ t: Int) -> UnsafeMutablePointer<Float> {
        taskGradients.row(t)
    }

    /// Moves this dense tensor into slab storage (`ParameterSlab`): `value`
    /// and `grad` become the given windows, filled with the current contents;
    /// a shared tensor also gets its per-task gradient columns.
    func bind(value newValue: Matrix, grad newGrad: Matrix, taskGradients location: (TaskGradientMatrix, Int)?) {
        precondition(kind == .dense && !value.isBorrowed, "\(name): only an unbound dense parameter moves into a slab")
        precondition(newValue.rows == rows && newValue.cols == cols && newGrad.rows == rows && newGrad.cols == cols,
                     "\(name): slab window \(newValue.rows) × \(newValue.cols) for a \(rows) × \(cols) tensor")
        precondition(location == nil || group == .shared, "\(name): only shared tensors have per-task gradient columns")
        newValue.copy(from: value)
        newGrad.copy(from: grad)
        value = newValue
        grad = newGrad
        taskGradientLocation = location.map { (matrix: $0.0, column: $0.1) }
    }
}
