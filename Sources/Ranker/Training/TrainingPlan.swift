/// The shape of a run: how many steps, which rows are tested.
///
/// A pass over `n` rows trains `⌊n / b⌋` full batches of `b = batch_size`
/// rows and then its remainder of `r = n mod b` rows:
/// * `last_batch: drop` leaves the remainder out (`⌊n / b⌋` batches, `r`
///   rows dropped), so that every batch has exactly `b` rows;
/// * `last_batch: partial` trains it as a batch of `r` rows (`⌈n / b⌉`
///   batches), except that a model with BatchNorm cannot train on one row
///   (ALGORITHMS.md 3.2.1): a one-row remainder is left out.
/// `batches(rows:batchSize:dropsSingleRow:dropsRemainder:)`; the trainer counts the dropped rows.
struct TrainingPlan {
    /// The batches of a pass over `rows` rows and the rows it leaves out:
    /// the whole remainder with `dropsRemainder`, a one-row remainder with
    /// `dropsSingleRow`, else none.
    static func batches(rows: Int, batchSize: Int, dropsSingleRow: Bool,
                        dropsRemainder: Bool = false) -> (count: Int, droppedRows: Int) {
        let full = rows / batchSize, remainder = rows % batchSize
        if remainder == 0 { return (full, 0) }
        if dropsRemainder || (dropsSingleRow && remainder == 1) { return (full, remainder) }
        return (full + 1, 0)
    }

    let totalSteps: Int
    let trainExamples: Int
    let testRows: [Int]
    /// Sequential mode: rows grouped by day, in day order.
    let days: [(day: Int32, rows: [Int])]

    init(trainer: Trainer) {
        let c = trainer.configuration.training
        let d = trainer.dataset
        func batches(_ n: Int) -> Int {
            TrainingPlan.batches(rows: n, batchSize: c.batchSize, dropsSingleRow: trainer.hasBatchNorm,
                                 dropsRemainder: c.lastBatch == .drop).count
        }
        switch c.mode {
        case .epochs:
            days = []
            trainExamples = d.splits.train.count
            var steps = c.epochs * batches(d.splits.train.count)
            if c.maxSteps > 0 { steps = min(steps, c.maxSteps) }
            totalSteps = steps
            testRows = d.splits.test
        case .sequential:
            let groups = d.days == nil ? [] : d.rowsByDay(Array(0..<d.count))
            days = groups
            var steps = 0, examples = 0
            if groups.count >= 2 {
                for i in 0..<(groups.count - 1) {
                    let n = groups[max(0, i - c.windowDays + 1)...i].reduce(0) { $0 + $1.rows.count }
                    steps += c.epochs * batches(n)
                    examples += n
                }
            }
            if c.maxSteps > 0 { steps = min(steps, c.maxSteps) }
            totalSteps = steps
            trainExamples = examples
            testRows = groups.last?.rows ?? []
        }
    }
}
