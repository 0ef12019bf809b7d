import Foundation
import Ranker

/// Everything the report shows, gathered in one streaming pass over the
/// telemetry records: downsampled series (`BucketedSeries`, bounded memory),
/// the evaluation and event lists, and the run's header and end lines.
///
/// Shape checks against the `run` line (a `losses`, `weights` or `grad_norms`
/// array with other than `T` entries, a `cosines` matrix that is not
/// `T × T`) throw `TelemetryLogError.malformedLine` naming the line.
struct TrainingRunSummary {
    /// Per tensor clipping statistics over the whole run.
    struct ClipStatistics {
        var steps = 0
        /// Steps with factor < 1.
        var clippedSteps = 0
        /// Sum of log10(max(factor, 1e-12)) over finite factors.
        var sumLog10 = 0.0
        var minimum = Double.infinity
        /// Geometric mean factor (1 when no finite factor was seen).
        var geometricMean: Double { steps == 0 ? 1 : pow(10, sumLog10 / Double(steps)) }
    }

    /// The events kept for markers and the table (the first `eventLimit`).
    static let eventLimit = 5000
    /// Smallest factor kept apart from zero on log axes.
    static let clipFloor = 1e-12

    let run: TelemetryRecord.Run
    let tasks: [String]
    var path: String
    var additionalRunLines = 0

    // steps
    var stepLineCount = 0
    var firstStep: Int?
    var lastStep: Int?
    var minimumStep = Int.max
    var maximumStep = Int.min
    var losses: [BucketedSeries]
    var weights: [BucketedSeries]
    var gradientNorms: [BucketedSeries]
    /// Cosine of task pair `(i, j)`, `i < j`, in `cosinePairs` order.
    var cosines: [BucketedSeries]
    let cosinePairs: [(Int, Int)]
    var conflictRate = BucketedSeries()
    var pseudoInverseFallbacks = 0
    var learningRate = BucketedSeries()
    var samplesPerSecond = BucketedSeries()
    var clipFactors: [String: BucketedSeries] = [:]
    var clipStatistics: [String: ClipStatistics] = [:]
    /// Tensor names: the `run` line's order, then unknown names by first appearance.
    var clipOrder: [String] = []
    var clipMinimum = BucketedSeries()
    var clipMedian = BucketedSeries()
    private var clipScratch: [Double] = []

    // evaluations
    var evaluationCounts: [String: Int] = [:]
    var validationAUC: [String: BucketedSeries] = [:]
    var validationGAUC: [String: BucketedSeries] = [:]
    var validationLogLoss: [String: BucketedSeries] = [:]
    var validationMeanAUC = BucketedSeries()
    /// Task names seen in evaluation metrics that the run line does not list.
    var extraMetricTasks: [String] = []
    var bestValidation: TelemetryRecord.Evaluation?
    var lastValidation: TelemetryRecord.Evaluation?
    var lastTest: TelemetryRecord.Evaluation?

    // events
    var events: [TelemetryRecord.Event] = []
    var eventCounts: [String: Int] = [:]
    var eventTotal = 0

    var end: TelemetryRecord.End?

    init(run: TelemetryRecord.Run, path: String) {
        self.run = run
        self.path = path
        tasks = run.tasks
        let t = run.tasks.count
        losses = Array(repeating: BucketedSeries(), count: t)
        weights = Array(repeating: BucketedSeries(), count: t)
        gradientNorms = Array(repeating: BucketedSeries(), count: t)
        var pairs: [(Int, Int)] = []
        for i in 0..<t { for j in (i + 1)..<max(i + 1, t) { pairs.append((i, j)) } }
        cosinePairs = pairs
        cosines = Array(repeating: BucketedSeries(), count: pairs.count)
        clipOrder = run.parameters
    }

    /// Reads a whole telemetry file.
    static func read(url: URL) throws -> (summary: TrainingRunSummary, reading: TelemetryLogReader.Summary) {
        var summary: TrainingRunSummary?
        let reading = try TelemetryLogReader(url: url).forEachRecord { record, line in
            if summary == nil, case .run(let run) = record {
                summary = TrainingRunSummary(run: run, path: url.path)
            } else {
                try summary!.add(record, line: line)
            }
        }
        return (summary!, reading)
    }

    mutating func add(_ record: TelemetryRecord, line: TelemetryLogReader.LineContext) throws {
        switch record {
        case .run: additionalRunLines += 1
        case .step(let step): try add(step, line: line)
        case .evaluation(let evaluation): add(evaluation)
        case .event(let event):
            eventTotal += 1
            eventCounts[event.kind, default: 0] += 1
            if events.count < Self.eventLimit { events.append(event) }
            noteStep(event.step)
        case .end(let end):
            self.end = end
            if let step = end.step { noteStep(step) }
        case .unknown: break
        }
    }

    private mutating func noteStep(_ step: Int) {
        minimumStep = min(minimumStep, step)
        maximumStep = max(maximumStep, step)
    }

    private mutating func add(_ record: TelemetryRecord.Step, line: TelemetryLogReader.LineContext) throws {
        let t = tasks.count
        let step = record.step
        stepLineCount += 1
        if firstStep == nil { firstStep = step }
        lastStep = step
        noteStep(step)

        func requireTaskCount(_ values: [Double], _ field: String) throws {
            guard values.count == t else {
                throw line.malformed("step line: field \"\(field)\" has \(values.count) entries but the run line names \(t) tasks")
            }
        }
        try requireTaskCount(record.losses, "losses")
        for k in 0..<t { losses[k].add(step: step, value: record.losses[k]) }
        if let values = record.weights {
            try requireTaskCount(values, "weights")
            for k in 0..<t { weights[k].add(step: step, value: values[k]) }
        }
        if let values = record.gradientNorms {
            try requireTaskCount(values, "grad_norms")
            for k in 0..<t { gradientNorms[k].add(step: step, value: values[k]) }
        }
        if let matrix = record.cosines {
            guard matrix.count == t, matrix.allSatisfy({ $0.count == t }) else {
                throw line.malformed("step line: field \"cosines\" is not a \(t) × \(t) matrix")
            }
            for (index, pair) in cosinePairs.enumerated() { cosines[index].add(step: step, value: matrix[pair.0][pair.1]) }
        }
        if let pairs = record.conflictingPairs, t >= 2 {
            conflictRate.add(step: step, value: Double(pairs) / Double(t * (t - 1) / 2))
        }
        pseudoInverseFallbacks += record.pseudoInverseFallbacks ?? 0
        if let rate = record.learningRate { learningRate.add(step: step, value: rate) }
        if let rate = record.samplesPerSecond { samplesPerSecond.add(step: step, value: rate) }
        if let factors = record.clipFactors, !factors.isEmpty { addClipFactors(factors, step: step) }
    }

    private mutating func addClipFactors(_ factors: [String: Double], step: Int) {
        clipScratch.removeAll(keepingCapacity: true)
        for (name, factor) in factors {
            if clipFactors[name] == nil {
                clipFactors[name] = BucketedSeries()
                if !clipOrder.contains(name) { clipOrder.append(name) }
            }
            clipFactors[name]!.add(step: step, value: factor)
            guard factor.isFinite else { continue }
            clipScratch.append(factor)
            var statistics = clipStatistics[name] ?? ClipStatistics()
            statistics.steps += 1
            if factor < 1 { statistics.clippedSteps += 1 }
            statistics.sumLog10 += log10(max(factor, Self.clipFloor))
            statistics.minimum = min(statistics.minimum, factor)
            clipStatistics[name] = statistics
        }
        guard !clipScratch.isEmpty else { return }
        clipScratch.sort()
        let count = clipScratch.count
        let median = count % 2 == 1 ? clipScratch[count / 2] : 0.5 * (clipScratch[count / 2 - 1] + clipScratch[count / 2])
        clipMinimum.add(step: step, value: clipScratch[0])
        clipMedian.add(step: step, value: median)
    }

    private mutating func add(_ evaluation: TelemetryRecord.Evaluation) {
        evaluationCounts[evaluation.split, default: 0] += 1
        noteStep(evaluation.step)
        switch evaluation.split {
        case "valid", "validation":
            for (task, metrics) in evaluation.metrics {
                if !tasks.contains(task) && !extraMetricTasks.contains(task) { extraMetricTasks.append(task) }
                if let auc = metrics["auc"] { validationAUC[task, default: BucketedSeries()].add(step: evaluation.step, value: auc) }
                if let gauc = metrics["gauc"] { validationGAUC[task, default: BucketedSeries()].add(step: evaluation.step, value: gauc) }
                if let logLoss = metrics["logloss"] { validationLogLoss[task, default: BucketedSeries()].add(step: evaluation.step, value: logLoss) }
            }
            if let mean = Self.meanAUC(of: evaluation) {
                validationMeanAUC.add(step: evaluation.step, value: mean)
                if mean.isFinite, bestValidation.flatMap({ Self.meanAUC(of: $0) }).map({ mean > $0 }) ?? true {
                    bestValidation = evaluation
                }
            }
            lastValidation = evaluation
        case "test":
            lastTest = evaluation
        default:
            break
        }
    }

    /// The line's `mean_auc`, or the mean of its finite task AUCs when absent.
    static func meanAUC(of evaluation: TelemetryRecord.Evaluation) -> Double? {
        if let mean = evaluation.meanAUC { return mean }
        let aucs = evaluation.metrics.values.compactMap { $0["auc"] }.filter(\.isFinite)
        return aucs.isEmpty ? nil : aucs.reduce(0, +) / Double(aucs.count)
    }

    /// Task names in display order: the run line's, then extra ones from metrics.
    var metricTasks: [String] { tasks + extraMetricTasks }

    /// Step range covered by any record (for the shared x axis).
    var stepRange: ClosedRange<Double>? {
        guard minimumStep <= maximumStep else { return nil }
        return Double(minimumStep)...Double(max(maximumStep, minimumStep + 1))
    }

    /// Tensors ordered from most to least clipped (lowest geometric mean factor first).
    var tensorsByClipping: [String] {
        clipOrder.filter { clipFactors[$0] != nil }.sorted {
            let a = clipStatistics[$0]?.geometricMean ?? 1, b = clipStatistics[$1]?.geometricMean ?? 1
            return a != b ? a < b : (clipOrder.firstIndex(of: $0)! < clipOrder.firstIndex(of: $1)!)
        }
    }
}
