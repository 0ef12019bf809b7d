/// The per-task gradients of a model's shared dense tensors as one `T × d`
/// row-major matrix `G` (DESIGN.md, "Parameter"): row `t` is task `t`'s
/// gradient over every shared dense coordinate, laid out exactly like the
/// shared run of the model's gradient slab (`ParameterSlab`), so that
///
/// * a shared dense tensor at slab offset `o` with `n` values owns columns
///   `o ..< o + n` of every row (`Parameter.taskGradient(t)` points there);
/// * the columns between tensors (the slab's alignment gaps) are zero and stay
///   zero: nothing writes them, so they add nothing to `G Gᵀ` or `Gᵀ c`;
/// * the Gram matrix `G Gᵀ` and the combination `Gᵀ c` are BLAS calls over the
///   whole matrix (`TaskGradientGram`, `TaskGradientMixing`).
///
/// `d` (`columns`, the leading dimension) is a multiple of 16 floats, so every
/// row starts 64-byte aligned. The storage is allocated by the first
/// `prepare(tasks:)` (the first multi-gradient pass), not before: a model
/// trained with loss weighting only never holds it.
public final class TaskGradientMatrix {
    /// `d`: shared dense coordinates per task, alignment gaps included.
    public let columns: Int
    /// `T` of the current storage (0 before the first `prepare`).
    public private(set) var taskCount = 0
    private var storage: Slab?

    public init(columns: Int) {
        precondition(columns >= 0 && columns % Slab.segmentAlignment == 0,
                     "TaskGradientMatrix: \(columns) columns is not a multiple of \(Slab.segmentAlignment)")
        self.columns = columns
    }

    /// Shapes the matrix as `tasks × columns`: allocates zeroed storage when
    /// `tasks` differs from the current `taskCount` (once per run), otherwise
    /// keeps the contents.
    public func prepare(tasks: Int) {
        precondition(tasks >= 0, "TaskGradientMatrix: negative task count")
        if tasks == taskCount { return }
        storage = Slab(sizes: [tasks * columns])
        taskCount = tasks
    }

    /// `G`, `taskCount × columns` with leading dimension `columns`.
    public var view: MatrixView {
        guard let storage = storage else {
            return MatrixView(data: TaskGradientMatrix.empty, rows: 0, cols: columns, ld: max(columns, 1))
        }
        return MatrixView(data: storage.data, rows: taskCount, cols: columns, ld: max(columns, 1))
    }

    /// Columns `column ..< column + count` of every row.
    public func block(column: Int, count: Int) -> MatrixView {
        view.cols(column ..< column + count)
    }

    /// A one-float buffer for the view of a matrix without storage (no row is ever read).
    private static let empty = Matrix.allocate(count: 1)
}
