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
