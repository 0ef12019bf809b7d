import Foundation

/// How a `Trainer` runs as one replica of a data-parallel group.
public struct DataParallelSettings {
    /// The replicas (`RankerDistributed.MPIGroup` across processes).
    public var group: DataParallelGroup
    /// Every this many steps the replicas compare checksums of their state
    /// (`ReplicaChecksum`); 0 turns the check off.
    public var checkEverySteps: Int
    /// The sparse-row exchange (default: `AllgatherRowExchange`).
    public var rows: SparseGradientExchange?

    public init(group: DataParallelGroup, checkEverySteps: Int = 100, rows: SparseGradientExchange? = nil) {
        precondition(checkEverySteps >= 0, "checkEverySteps must be >= 0")
        self.group = group
        self.checkEverySteps = checkEverySteps
        self.rows = rows
    }
}

/// The trainer's data-parallel side, called at six fixed points of the loop:
/// the rows of a batch (`localRows(of:)`), the gradients
/// (`computeGradients`), the batch size the balancer is told (`globalRows`),
/// the drift check after a step (`finishStep`), Ctrl-C (`anyRequested`) and
/// evaluation (`evaluate`: each rank scores its slice of the rows). With one process (no
/// settings, or a group of size 1) it takes the whole batch and calls the
/// plain `TrainingStep.computeGradients(_:)`: the arithmetic of a run
/// without replicas.
final class TrainerReplicas {
    let group: DataParallelGroup
    let reduction: ReplicaGradientReduction?
    let checksum: ReplicaChecksum?
    let checkEverySteps: Int
    /// Rows of the current global batch.
    private(set) var globalRows = 0

    init(settings: DataParallelSettings?, step: TrainingStep) throws {
        group = settings?.group ?? SingleProcessGroup()
        checkEverySteps = settings?.checkEverySteps ?? 0
        if group.size > 1 {
            reduction = try ReplicaGradientReduction(group: group, model: step.model, rows: settings?.rows)
            checksum = checkEverySteps > 0 ? ReplicaChecksum(step: step) : nil
        } else {
            reduction = nil
            checksum = nil
        }
    }

    /// Rank 0 writes files; the others write nothing.
    var isWriter: Bool { group.isWriter }

    /// This rank's contiguous slice of the global batch `rows`.
    ///
    /// - Throws: when the batch has fewer rows than there are replicas (a
    ///   slice would be empty); every rank throws the same.
    func localRows(of rows: Range<Int>) throws -> Range<Int> {
        globalRows = rows.count
        if rows.count < group.size {
            throw TrainingError(message: "a batch of \(rows.count) rows cannot be split over \(group.size) replicas; "
                                + "use a larger training.batch_size or fewer ranks")
        }
        return group.slice(of: rows)
    }

    /// The step's gradients, summed over the replicas.
    func computeGradients(_ step: TrainingStep, batch: Batch) throws -> StepFailure? {
        guard let reduction else { return step.computeGradients(batch) }
        reduction.beginBatch(localRows: batch.size, globalRows: globalRows)
        return try step.computeGradients(batch, replicas: reduction)
    }

    /// After step `step` (counted from 1): every `checkEverySteps` steps, the
    /// replicas compare their state.
    func finishStep(_ step: Int) throws {
        guard let checksum, step % checkEverySteps == 0 else { return }
        try checksum.verify(in: group, step: step)
    }

    /// Whether any rank asks for `requested` (Ctrl-C): one allreduce of one
    /// double per step with several ranks, so that every rank stops after the
    /// same step even when the signal reaches them at different times.
    func anyRequested(_ requested: Bool) throws -> Bool {
        guard group.size > 1 else { return requested }
        var flag: Double = requested ? 1 : 0
        do {
            try withUnsafeMutablePointer(to: &flag) { try group.allreduceSum(UnsafeMutableBufferPointer(start: $0, count: 1)) }
        } catch {
            throw DataParallelError(message: "rank \(group.rank) of \(group.size): allreduce of the interrupt flag failed: \(error)")
        }
        return flag > 0
    }

    /// `rows` evaluated by the replicas together: each scores its slice and
    /// every rank gets every row's logits (`Evaluator.logits(rows:group:)`).
    func evaluate(_ evaluator: Evaluator, rows: [Int], split: String) throws -> Evaluation {
        do {
            return try evaluator.evaluate(rows: rows, split: split, group: group)
        } catch let error as DataParallelError {
            throw error
        } catch {
            throw DataParallelError(message: "rank \(group.rank) of \(group.size): gathering the \(split) logits failed: \(error)")
        }
    }

    /// Where this rank writes telemetry: the run's file on rank 0, `/dev/null` elsewhere.
    func telemetryURL(_ url: URL) -> URL { isWriter ? url : URL(fileURLWithPath: "/dev/null") }
}
