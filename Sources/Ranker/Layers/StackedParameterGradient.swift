/// Where a layer writes a parameter's gradient in a backward pass over `stack`
/// stacked copies of the upstream gradient (see `Dense`, `BatchNorm`):
///
/// * `stack == 1` (the weighted pass, or a task-specific component in the
///   multi-gradient pass): the one gradient, into `grad`;
/// * `stack == T`, shared parameter: block `t`'s gradient (task `t`'s) into
///   row `t` of `taskGradients`;
/// * `stack == T`, parameter of task `k`: block `k`'s gradient into `grad`
///   (the other blocks do not reach it and are not written).
extension Parameter {
    /// Shapes the per-task gradient rows when the stack needs them; call once
    /// per backward pass, before `stackedGradientDestination`.
    func beginStackedGradients(stack: Int) {
        if stack > 1 && group == .shared { prepareTaskGradients(tasks: stack) }
    }

    /// Where block `t`'s gradient goes (`rows × cols`, to be overwritten), or
    /// `nil` when the block does not reach this parameter.
    func stackedGradientDestination(block t: Int, stack: Int) -> MatrixView? {
        if stack == 1 { return grad.view }
        switch group {
        case .shared:
            return MatrixView(data: taskGradient(t), rows: rows, cols: cols, ld: cols)
        case .task(let k):
            precondition(k < stack, "\(name) belongs to task \(k) but only \(stack) tasks are stacked")
            return t == k ? grad.view : nil
        }
    }

    /// Calls `compute(t, destination)` for every block whose gradient is
    /// kept (see the extension's documentation).
    func writeStackedGradients(stack: Int, compute: (Int, MatrixView) -> Void) {
        beginStackedGradients(stack: stack)
        for t in 0..<stack {
            if let destination = stackedGradientDestination(block: t, stack: stack) { compute(t, destination) }
        }
    }
}
