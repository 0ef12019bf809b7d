import Foundation

/// The metrics of one output on one split (ALGORITHMS.md 2).
public struct TaskEvaluation: Codable, Equatable, Sendable {
    public var name: String
    /// Examples the metrics were computed on.
    public var examples: Int
    /// Positive labels among them (binary outputs).
    public var positives: Int?
    /// Exact AUC with ties; NaN when a class is absent or predictions are not finite.
    public var auc: Double?
    /// GAUC over users with both classes, when the data has users.
    public var gauc: Double?
    public var gaucUsers: Int?
    public var gaucImpressions: Int?
    /// Mean cross-entropy of the predictions.
    public var logloss: Double?
    /// Regression outputs: root mean squared error.
    public var rmse: Double?

    public init(name: String, examples: Int) {
        self.name = name
        self.examples = examples
    }
}

/// All outputs of a model on one split.
public struct Evaluation: Codable, Equatable, Sendable {
    public var split: String
    public var tasks: [TaskEvaluation]
    /// Mean AUC over the model's binary tasks (ESMM: CTR and CTCVR): the model
    /// selection metric. NaN when any of them is NaN.
    public var meanAUC: Double
    /// Predictions that were NaN or infinite (a diverged model).
    public var nonFinitePredictions: Int

    public func task(named name: String) -> TaskEvaluation? { tasks.first { $0.name == name } }

    /// `{"<output>": {"examples": …, "positives": …, "auc": …, …}, …}`: the
    /// metrics in the layout of the telemetry's `eval` lines (TELEMETRY.md),
    /// outputs and metrics in order; NaN is `null`.
    public var metricsJSON: String {
        "{" + tasks.map { t in
            var m = JSONLine()
            for (key, value) in t.metricFields { m.add(key, value) }
            return JSONLine.quote(t.name) + ":" + m.json
        }.joined(separator: ",") + "}"
    }

    /// Output name → metric name → value: the `metrics` of an `eval`
    /// telemetry record (`metricFields` of each output).
    public var metricTable: [String: [String: Double]] {
        Dictionary(tasks.map { t in
            (t.name, Dictionary(t.metricFields.map { ($0.key, $0.value) }, uniquingKeysWith: { $1 }))
        }, uniquingKeysWith: { $1 })
    }
}

extension TaskEvaluation {
    /// The metrics an output has, by their telemetry names, in order:
    /// `examples`, `positives`, `auc`, `gauc`, `users`, `impressions`,
    /// `logloss`, `rmse` (counts as numbers; a metric that is NaN stays NaN).
    public var metricFields: [(key: String, value: Double)] {
        var fields: [(key: String, value: Double)] = [("examples", Double(examples))]
        if let positives { fields.append(("positives", Double(positives))) }
        if let auc { fields.append(("auc", auc)) }
        if let gauc { fields.append(("gauc", gauc)) }
        if let gaucUsers { fields.append(("users", Double(gaucUsers))) }
        if let gaucImpressions { fields.append(("impressions", Double(gaucImpressions))) }
        if let logloss { fields.append(("logloss", logloss)) }
        if let rmse { fields.append(("rmse", rmse)) }
        return fields
    }
}

/// Evaluates a model on rows of a dataset, in batches (forward only).
///
/// Scores are the logits (AUC is invariant to the monotone sigmoid, and logits
/// do not saturate into ties the way float probabilities do). Per output:
/// * binary task: AUC, GAUC (if the data has users), logloss, over all rows;
/// * regression task: RMSE;
/// * ESMM: `ctr` (pCTR vs click) and `ctcvr` (pCTCVR vs click·conversion) over
///   all impressions, `cvr` (pCVR vs conversion) over clicked impressions only
///   (ALGORITHMS.md 2.2's decision); the CTCVR score is `log pCTR + log pCVR`.
public final class Evaluator {
    public let model: MultiTaskModel
    public let dataset: Dataset
    public let batchSize: Int
    private let batch: Batch

    public init(model: MultiTaskModel, dataset: Dataset, batchSize: Int = 4096) {
        self.model = model
        self.dataset = dataset
        self.batchSize = max(1, batchSize)
        batch = dataset.makeBatch(capacity: 0)
    }

    /// The logits of `rows`: `logits[column][i]` for row `rows[i]`.
    public func logits(rows: [Int]) -> [[Float]] {
        let columns = model.taskCount
        var out = [[Float]](repeating: [], count: columns)
        for c in 0..<columns { out[c].reserveCapacity(rows.count) }
        var start = 0
        while start < rows.count {
            let end = min(rows.count, start + batchSize)
            dataset.fill(batch, rows: rows[start..<end])
            let z = model.forward(batch)
            for b in 0..<z.rows { for c in 0..<columns { out[c].append(z[b, c]) } }
            start = end
        }
        return out
    }

    /// The logits of `rows` computed by the replicas together: rank `r`
    /// scores its contiguous slice of `rows` (`DataParallelSlicing`, as the
    /// training batches are cut), and one `allgatherv` of the `n_r × T`
    /// row-major logit blocks, in rank order, gives every rank the logits of
    /// every row. A row's logits do not depend on the other rows of its batch
    /// (evaluation mode: BatchNorm uses its running statistics, dropout is
    /// off), so the metrics are those of one process up to the summation
    /// order of the products inside a batch. With one replica: `logits(rows:)`.
    public func logits(rows: [Int], group: DataParallelGroup) throws -> [[Float]] {
        guard group.size > 1 else { return logits(rows: rows) }
        let columns = model.taskCount
        let slices = (0..<group.size).map { DataParallelSlicing.slice(of: 0..<rows.count, rank: $0, size: group.size) }
        let mine = logits(rows: Array(rows[slices[group.rank]]))
        var local = [Float](repeating: 0, count: slices[group.rank].count * columns)
        for c in 0..<columns { for i in mine[c].indices { local[i * columns + c] = mine[c][i] } }
        var all = [Float](repeating: 0, count: rows.count * columns)
        try local.withUnsafeBufferPointer { l in
            try all.withUnsafeMutableBufferPointer { a in
                try group.allgatherv(l, counts: slices.map { $0.count * columns }, into: a)
            }
        }
        return (0..<columns).map { c in (0..<rows.count).map { all[$0 * columns + c] } }
    }

    /// The metrics of `rows` (see the type).
    public func evaluate(rows: [Int], split: String) -> Evaluation {
        evaluation(logits: logits(rows: rows), rows: rows, split: split)
    }

    /// The metrics of `rows`, the rows scored by the replicas together
    /// (`logits(rows:group:)`); every rank gets the same evaluation.
    public func evaluate(rows: [Int], split: String, group: DataParallelGroup) throws -> Evaluation {
        evaluation(logits: try logits(rows: rows, group: group), rows: rows, split: split)
    }

    /// The metrics of `rows` from their logits `z[column][i]`.
    private func evaluation(logits z: [[Float]], rows: [Int], split: String) -> Evaluation {
        let users = dataset.users.map { u in rows.map { u[$0] } }
        let labels = (0..<dataset.tasks.count).map { t in rows.map { dataset.labels[t][$0] } }
        var nonFinite = 0
        for column in z { nonFinite += column.reduce(0) { $0 + ($1.isFinite ? 0 : 1) } }
        var tasks: [TaskEvaluation] = []
        var selection: [Double] = []
        if model.configuration.model == .esmm {
            let click = labels[0], conversion = labels[1]
            let ctcvrLabel = zip(click, conversion).map { $0 * $1 }
            let ctcvrScore = zip(z[0], z[1]).map { a, b -> Double in
                -softplus(-Double(a)) - softplus(-Double(b))
            }
            var ctr = binary("ctr", scores: z[0].map(Double.init), labels: click, users: users)
            ctr.logloss = Metrics.logLoss(logits: z[0], labels: click)
            let clicked = click.indices.filter { click[$0] == 1 }
            var cvr = binary("cvr", scores: clicked.map { Double(z[1][$0]) }, labels: clicked.map { conversion[$0] },
                             users: users.map { u in clicked.map { u[$0] } })
            cvr.logloss = Metrics.logLoss(logits: clicked.map { z[1][$0] }, labels: clicked.map { conversion[$0] })
            var ctcvr = binary("ctcvr", scores: ctcvrScore, labels: ctcvrLabel, users: users)
            if !rows.isEmpty {
                var total = 0.0
                for i in rows.indices {
                    total += CTCVRCrossEntropy.loss(ctrLogit: Double(z[0][i]), cvrLogit: Double(z[1][i]),
                                                    label: Double(ctcvrLabel[i]))
                }
                ctcvr.logloss = total / Double(rows.count)
            }
            tasks = [ctr, cvr, ctcvr]
            selection = [ctr.auc ?? .nan, ctcvr.auc ?? .nan]
        } else {
            for (t, spec) in model.configuration.tasks.enumerated() {
                switch spec.kind {
                case .binary:
                    var e = binary(spec.name, scores: z[t].map(Double.init), labels: labels[t], users: users)
                    e.logloss = Metrics.logLoss(logits: z[t], labels: labels[t])
                    tasks.append(e)
                    selection.append(e.auc ?? .nan)
                case .regression:
                    var e = TaskEvaluation(name: spec.name, examples: rows.count)
                    e.rmse = Metrics.rootMeanSquaredError(predictions: z[t], targets: labels[t])
                    tasks.append(e)
                }
            }
        }
        let mean = selection.isEmpty ? -(tasks.compactMap(\.rmse).reduce(0, +)) : selection.reduce(0, +) / Double(selection.count)
        return Evaluation(split: split, tasks: tasks, meanAUC: mean, nonFinitePredictions: nonFinite)
    }

    private func binary(_ name: String, scores: [Double], labels: [Float], users: [Int64]?) -> TaskEvaluation {
        var e = TaskEvaluation(name: name, examples: scores.count)
        e.positives = labels.reduce(0) { $0 + ($1 == 1 ? 1 : 0) }
        e.auc = (try? Metrics.auc(scores: scores, labels: labels)) ?? .nan
        if let users {
            if let g = try? Metrics.gauc(scores: scores, labels: labels, users: users) {
                e.gauc = g.value
                e.gaucUsers = g.usersUsed
                e.gaucImpressions = g.impressionsUsed
            } else {
                e.gauc = .nan
            }
        }
        return e
    }
}

/// `log(1 + e^x)` without overflow.
@inlinable
func softplus(_ x: Double) -> Double { max(x, 0) + log1p(exp(-abs(x))) }
