/// The loss head of models whose tasks are independent (Shared-Bottom, MMoE,
/// PLE): task `t`'s loss depends on logit column `t` and label column `t` only.
///
/// * binary: `L_t = mean_b BCE-with-logits(z_bt, y_bt)`, `∂L_t/∂z_bt = (σ(z_bt) − y_bt)/B`;
/// * regression: `L_t = mean_b (z_bt − y_bt)²`, `∂L_t/∂z_bt = 2 (z_bt − y_bt)/B`.
///
/// The stacked task gradients (`T·B × T`) are zero outside the diagonal columns.
public struct TaskLossHead {
    public let tasks: [TaskSpec]

    public init(tasks: [TaskSpec]) { self.tasks = tasks }

    public func computeLosses(logits: MatrixView, labels: MatrixView, taskGradients: Matrix, into losses: inout [Double]) {
        let batch = logits.rows
        let taskCount = tasks.count
        precondition(logits.cols == taskCount && labels.rows == batch && labels.cols >= taskCount && losses.count == taskCount,
                     "loss head: logits \(logits.rows)×\(logits.cols), labels \(labels.rows)×\(labels.cols), \(taskCount) tasks")
        taskGradients.resize(rows: taskCount * batch, cols: taskCount)
        taskGradients.fill(0)
        let g = taskGradients.view
        for (t, task) in tasks.enumerated() {
            let z = logits.cols(t..<(t + 1))
            let y = labels.cols(t..<(t + 1))
            let dz = g.rows((t * batch)..<((t + 1) * batch)).cols(t..<(t + 1))
            switch task.kind {
            case .binary:
                losses[t] = BinaryCrossEntropy.meanLoss(logits: z, labels: y, gradient: dz)
            case .regression:
                losses[t] = SquaredError.meanLoss(predictions: z, targets: y, gradient: dz)
            }
        }
    }

    public func predict(logits: MatrixView, into output: MatrixView) {
        precondition(output.rows == logits.rows && output.cols == tasks.count)
        for (t, task) in tasks.enumerated() {
            for b in 0..<logits.rows {
                output[b, t] = task.kind == .binary ? sigmoid(logits[b, t]) : logits[b, t]
            }
        }
    }
}
