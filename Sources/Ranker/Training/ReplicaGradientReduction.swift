/// What the training step exchanges with the other replicas of a
/// data-parallel run (DESIGN.md, issue 13): every rank holds the whole model,
/// computes the gradients of its slice of the global batch, and after the
/// exchange every rank holds the gradient of the GLOBAL batch's mean loss.
///
/// With `B` global rows and `B_r` rows on rank `r` (`Σ_r B_r = B`):
///
/// 1. `reduceLosses`: the loss head's `dL/dlogits` (mean over `B_r`) is scaled
///    by `B_r / B`, so that the backward pass yields rank `r`'s share of the
///    global mean's gradient; the `T` per-task mean losses are scaled the same
///    way and summed over ranks (one allreduce of `T` doubles): every rank
///    sees the global losses, so loss-weighting balancers and the stability
///    monitor decide the same.
/// 2. BatchNorm layers sum their per-column statistics over ranks
///    (`BatchStatisticsReduction`, `n` doubles per sum).
/// 3. `reduceGradients(perTask: false)` (one weighted backward pass): one
///    allreduce over the whole dense gradient slab (`ParameterSlab.gradients`,
///    `count` floats), then every embedding table's row-sparse gradient in one
///    exchange through `rows` (`SparseGradientExchange`).
///    `reduceGradients(perTask: true)` (GradNorm, GradCraft, PCGrad, before
///    `combine`): the `T × sharedCount` per-task gradient matrix and the
///    task-specific run of the slab (two allreduces), and each shared table's
///    `T` per-task row sets; the balancer then combines global per-task
///    gradients, identically on every rank.
///
/// A balancer's own parameters (uncertainty weighting's log-variances) are
/// not exchanged: their gradients come from the global losses already.
/// Dropout masks are drawn per rank from the same stream, so a model with
/// dropout trains differently from one process (not the same masks).
public final class ReplicaGradientReduction: BatchStatisticsReduction {
    public let group: DataParallelGroup
    public let rows: SparseGradientExchange
    private let model: MultiTaskModel
    private let slab: ParameterSlab
    private let tables: [Parameter]
    /// Per table, the task count its exchange carries: 0 (one summed
    /// gradient) in a weighted pass; `T` for a shared table before `combine`.
    private let tasksOfWeightedPass: [Int]
    private let tasksBeforeCombine: [Int]
    private var localRows = 0
    private var globalRows = 0
    /// The first failure inside a BatchNorm pass (which cannot throw).
    private var pendingError: Error?

    /// Attaches itself to every BatchNorm layer of `model`.
    public init(group: DataParallelGroup, model: MultiTaskModel, rows: SparseGradientExchange? = nil) throws {
        self.group = group
        self.model = model
        self.rows = rows ?? AllgatherRowExchange(group: group)
        slab = model.parameterSlab
        tables = model.parameters.filter { $0.kind == .embedding }
        tasksOfWeightedPass = tables.map { _ in 0 }
        tasksBeforeCombine = tables.map { $0.group == .shared ? model.taskCount : 0 }
        let norms = BatchNormLayers.find(in: model)
        guard 2 * norms.count == model.stateTensors.count else {
            throw DataParallelError(message: "found \(norms.count) BatchNorm layers in the model but it has "
                                    + "\(model.stateTensors.count) state tensors; cannot synchronise them")
        }
        for bn in norms { bn.replicaReduction = self }
    }

    /// The rows of the coming step: `local` on this rank, `global` in all.
    public func beginBatch(localRows: Int, globalRows: Int) {
        precondition(localRows > 0 && localRows <= globalRows, "rank slice of \(localRows) rows in a batch of \(globalRows)")
        self.localRows = localRows
        self.globalRows = globalRows
    }

    /// `logitGradients *= B_r/B`; `losses ← Σ_r (B_r/B) · losses_r` (a NaN on
    /// any rank reaches every rank).
    public func reduceLosses(_ losses: inout [Double], logitGradients: Matrix) throws {
        let share = Double(localRows) / Double(globalRows)
        let factor = Float(share)
        let g = logitGradients.data
        for i in 0..<logitGradients.count { g[i] *= factor }
        for k in losses.indices { losses[k] *= share }
        try losses.withUnsafeMutableBufferPointer { buffer in
            try collective("allreduce of the per-task losses") { try group.allreduceSum(buffer) }
        }
    }

    /// Sums the gradients of this step over the replicas (see the type).
    public func reduceGradients(perTask: Bool) throws {
        try raisePendingError()
        if perTask {
            let matrix = slab.taskGradients.view
            if matrix.rows > 0 {
                try collective("allreduce of the per-task shared gradients") {
                    try group.allreduceSum(UnsafeMutableBufferPointer(start: matrix.data, count: matrix.rows * matrix.ld))
                }
            }
            let rest = slab.gradients.count - slab.sharedCount
            if rest > 0 {
                try collective("allreduce of the task-specific gradients") {
                    try group.allreduceSum(UnsafeMutableBufferPointer(start: slab.gradients.data + slab.sharedCount, count: rest))
                }
            }
        } else {
            try collective("allreduce of the dense gradient slab") { try group.allreduceSum(slab.gradients.buffer) }
        }
        try collective("exchange of the embedding rows") {
            try rows.exchange(tables, tasks: perTask ? tasksBeforeCombine : tasksOfWeightedPass)
        }
    }

    /// Throws the error a BatchNorm reduction kept, once.
    public func raisePendingError() throws {
        if let error = pendingError {
            pendingError = nil
            throw error
        }
    }

    public func sum(_ values: UnsafeMutablePointer<Double>, count: Int) {
        guard pendingError == nil else { return }
        do {
            try collective("allreduce of BatchNorm statistics") {
                try group.allreduceSum(UnsafeMutableBufferPointer(start: values, count: count))
            }
        } catch {
            pendingError = error
        }
    }

    /// Runs `body`, turning its failure into a `DataParallelError` naming `what`.
    private func collective(_ what: String, _ body: () throws -> Void) throws {
        do {
            try body()
        } catch let error as DataParallelError {
            throw error
        } catch {
            throw DataParallelError(message: "rank \(group.rank) of \(group.size): \(what) failed: \(error)")
        }
    }
}

/// A data-parallel run cannot continue: a collective failed or the replicas
/// no longer hold the same state.
public struct DataParallelError: Error, CustomStringConvertible {
    public let message: String
    public var description: String { message }
    public init(message: String) { self.message = message }
}
