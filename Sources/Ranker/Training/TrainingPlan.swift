/// The shape of a run: how many steps, which rows are tested.
///
/// A model with BatchNorm cannot train on one row (ALGORITHMS.md 3.2.1): a
/// pass whose last batch would hold a single row leaves that batch out
/// (`batches(rows:batchSize:dropsSingleRow:)`); the trainer counts it.
struct TrainingPlan {
    /// The batches of a pass over `rows` rows, and whether its trailing
    /// one-row batch is left out (only with `dropsSingleRow`).
    static func batches(rows: Int, batchSize: Int, dropsSingleRow: Bool) -> (count: Int, dropsLast: Bool) {
        let count = (rows + batchSize - 1) / batchSize
        let dropsLast = dropsSingleRow && rows % batchSize == 1
        return (dropsLast ? count - 1 : count, dropsLast)
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
            TrainingPlan.batches(rows: n, batchSize: c.batchSize, dropsSingleRow: trainer.hasBatchNorm).count
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
