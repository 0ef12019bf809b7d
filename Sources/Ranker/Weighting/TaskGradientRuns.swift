/// The per-task gradients of a set of shared parameters as few, wide
/// `T × n` blocks ("runs"), so that the Gram matrix and the combination are a
/// handful of BLAS calls instead of one per tensor and task pair.
///
/// Parameters are visited in list order. A slab-bound shared dense tensor
/// (`Parameter.taskGradientLocation`) joins the current run when it is the
/// next segment of the same `TaskGradientMatrix`: the run then also covers
/// the alignment gap between the two, which is zero in the per-task
/// gradients and in the gradient slab alike. For a model whose scope takes
/// every shared dense tensor (GradCraft, PCGrad), the dense part is a single
/// run over the whole `T × d` matrix; each embedding table (own storage) is a
/// run of its own; a subset (GradNorm's last shared layer) gives one run per
/// stretch of adjacent segments.
///
/// A run's combined gradient goes to its first parameter's
/// `gradientPointer`: for a slab run, the gradient slab has the same layout
/// as the `TaskGradientMatrix` columns (`ParameterSlab`).
enum TaskGradientRuns {
    /// Calls `body(first, g)` for every run, where `g` is the run's per-task
    /// gradients (`taskCount × n`, leading dimension of the storage) and
    /// `first` its first parameter. Parameters with no gradient coordinates
    /// this step (an embedding table no example touched) are skipped.
    ///
    /// Each included parameter must hold this step's per-task gradients,
    /// shaped `taskCount × gradientCount` (a programmer error otherwise).
    @inline(__always)
    static func forEach(parameters: [Parameter], taskCount: Int, include: (Parameter) -> Bool,
                        _ body: (Parameter, MatrixView) throws -> Void) rethrows {
        var current: (first: Parameter, run: MatrixView)?
        for parameter in parameters where include(parameter) {
            let n = parameter.gradientCount
            if n == 0 { continue }
            let g = parameter.taskGradients
            precondition(g.rows == taskCount && g.cols == n,
                         "parameter '\(parameter.name)': per-task gradients are \(g.rows) × \(g.cols), "
                         + "expected \(taskCount) × \(n) (run the multi-gradient pass first)")
            if let (first, run) = current, let here = parameter.taskGradientLocation,
               let start = first.taskGradientLocation, here.matrix === start.matrix,
               g.data == run.data + roundedToSegment(run.cols) {
                current = (first, MatrixView(data: run.data, rows: taskCount, cols: here.column - start.column + n,
                                             ld: run.ld))
                continue
            }
            if let (first, run) = current { try body(first, run) }
            current = (parameter, g)
        }
        if let (first, run) = current { try body(first, run) }
    }

    /// `n` rounded up to the slab's segment alignment.
    @inline(__always)
    private static func roundedToSegment(_ n: Int) -> Int {
        (n + Slab.segmentAlignment - 1) / Slab.segmentAlignment * Slab.segmentAlignment
    }
}
