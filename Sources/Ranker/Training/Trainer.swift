import Foundation

/// Why a run ended.
public enum StopReason: String, Codable, Sendable {
    case completed
    case earlyStopping = "early_stopping"
    case maxSteps = "max_steps"
    /// `interrupt_after_steps` or Ctrl-C: the checkpoint was written; resume continues it.
    case interrupted
    /// The stability policy stopped the run.
    case unstable
}

/// What a finished run reports.
public struct TrainingSummary: Codable, Sendable {
    public var name: String
    public var runDirectory: String
    public var steps: Int
    public var epochs: Int
    public var stopReason: StopReason
    public var bestStep: Int?
    public var bestValid: Evaluation?
    /// Evaluation of the kept state (best valid state in epoch mode, final
    /// state in sequential mode) on the test split (last day).
    public var test: Evaluation?
    public var events: [String: Int]
    /// Training throughput over the whole run (steps only, no evaluation).
    public var trainSamplesPerSecond: Double
}

/// Trainer state stored in checkpoints next to the model, optimizer and
/// balancer, so that a resumed run continues exactly.
struct TrainerState: Codable, Equatable {
    var step: Int
    var epoch: Int
    /// Sequential mode: the day being trained.
    var day: Int
    /// Batches of the current epoch (or day) already done.
    var batchInEpoch: Int
    /// The shuffling generator as it was at the start of the current epoch/day.
    var epochGenerator: RandomGenerator
    var learningRateFactor: Double
    var bestMeanAUC: Double?
    var bestStep: Int?
    var evaluationsWithoutImprovement: Int
    var rollbacks: Int
    var monitor: StabilityMonitor
    var trainSeconds: Double
    var trainSamples: Int
}

/// A run stopped by its stability policy or an unusable configuration.
public struct TrainingError: Error, CustomStringConvertible {
    public let message: String
    public var description: String { message }
}

/// Ctrl-C during training: finish the step, write the checkpoint, stop.
nonisolated(unsafe) private var interruptRequested: Int32 = 0

/// Owns a training run: the loop over epochs (or days), evaluation, the
/// stability monitor and its policy, telemetry, checkpoints and resume.
///
/// The run directory receives `config.json`, `encoding.json` (CSV data:
/// `DatasetEncoding`), `telemetry.jsonl` (TELEMETRY.md),
/// `checkpoint.safetensors` (the last state, resumable), `best.safetensors`
/// (the best valid weights, export format) and `report.html`.
/// Deterministic for a given seed and thread count: a run interrupted and
/// resumed ends with bitwise the same parameters as an uninterrupted one.
public final class Trainer {
    public let configuration: RunConfiguration
    public let dataset: Dataset
    public let modelConfiguration: ModelConfiguration
    public let model: MultiTaskModel
    public let optimizer: Optimizer
    public let balancer: TaskBalancer
    public let step: TrainingStep
    public let runDirectory: URL
    private let evaluator: Evaluator
    private let batch: Batch
    private var state: TrainerState
    private var telemetry: TelemetryWriter!
    private var progress: ProgressReporter!
    /// In-memory copy of the last healthy state (for the rollback policy).
    private var lastGood: Checkpoint?
    /// In-memory copy of the best valid parameters.
    private var bestParameters: Checkpoint?
    private var bestValid: Evaluation?
    private let resumed: Bool
    private let baseLearningRate: Float
    /// Optimizer telemetry: per-tensor clipping factors (Clippy, GC, AGC).
    private let reportsClipping: Bool

    public var checkpointURL: URL { runDirectory.appendingPathComponent("checkpoint.safetensors") }
    public var bestURL: URL { runDirectory.appendingPathComponent("best.safetensors") }
    public var telemetryURL: URL { runDirectory.appendingPathComponent("telemetry.jsonl") }

    /// Prepares a run: loads (or takes) the data, builds the model, optimizer
    /// and balancer, and creates the run directory. With `resume`, the state
    /// of the run directory's `checkpoint.safetensors` is restored.
    ///
    /// - Parameters:
    ///   - dataset: the data, when the caller has loaded it already.
    ///   - runDirectory: overrides `output.directory`.
    public init(configuration: RunConfiguration, dataset: Dataset? = nil, runDirectory: URL? = nil,
                resume: Bool = false) throws {
        try configuration.validate()
        self.configuration = configuration
        self.dataset = try dataset ?? RunData.load(configuration.data)
        modelConfiguration = try RunData.modelConfiguration(configuration.model, for: self.dataset)
        if modelConfiguration.model != .esmm {
            try configuration.balancer.validate(taskCount: modelConfiguration.tasks.count)
        }
        BLAS.threadCount = configuration.training.threads
        model = try makeModel(modelConfiguration)
        var initRNG = RandomGenerator(seed: configuration.training.seed)
        model.initialize(using: &initRNG)
        optimizer = try configuration.optimizer.makeOptimizer()
        balancer = try configuration.balancer.makeBalancer(taskCount: model.taskCount,
                                                           lastSharedLayer: model.lastSharedLayerParameters.map(\.name),
                                                           seed: configuration.training.seed)
        step = TrainingStep(model: model, optimizer: optimizer, balancer: balancer)
        evaluator = Evaluator(model: model, dataset: self.dataset)
        batch = Batch(size: 0, fieldCount: self.dataset.fields.count, denseCount: self.dataset.denseNames.count,
                      labelCount: self.dataset.tasks.count)
        baseLearningRate = configuration.optimizer.learningRate
        reportsClipping = try configuration.optimizer.reportsClippingFactors()
        let directory = runDirectory
            ?? URL(fileURLWithPath: configuration.output.directory ?? "runs/\(configuration.name)")
        self.runDirectory = directory
        resumed = resume
        state = TrainerState(step: 0, epoch: 0, day: 0, batchInEpoch: 0,
                             epochGenerator: RandomGenerator(seed: configuration.training.seed ^ 0x5DEE_CE66_D1CE_5EED),
                             learningRateFactor: 1, bestMeanAUC: nil, bestStep: nil, evaluationsWithoutImprovement: 0,
                             rollbacks: 0,
                             monitor: StabilityMonitor(settings: configuration.stability,
                                                       taskNames: modelConfiguration.tasks.map(\.name)),
                             trainSeconds: 0, trainSamples: 0)
        try prepareDirectory()
        if resume { try restoreCheckpoint() }
    }

    // MARK: run directory and checkpoints

    private func prepareDirectory() throws {
        let fm = FileManager.default
        var isDirectory: ObjCBool = false
        if fm.fileExists(atPath: runDirectory.path, isDirectory: &isDirectory) {
            guard isDirectory.boolValue else {
                throw TrainingError(message: "\(runDirectory.path) exists and is not a directory")
            }
            if !resumed && fm.fileExists(atPath: telemetryURL.path) {
                throw TrainingError(message: "\(runDirectory.path) already holds a run; resume it with --resume, or choose another --out")
            }
        } else {
            if resumed { throw TrainingError(message: "cannot resume: \(runDirectory.path) does not exist") }
            do {
                try fm.createDirectory(at: runDirectory, withIntermediateDirectories: true)
            } catch {
                throw FileIOError(path: runDirectory.path, operation: "mkdir", message: error.localizedDescription)
            }
        }
        try AtomicFile.write(to: runDirectory.appendingPathComponent("config.json")) { sink in
            try sink.write(Array(configuration.encodedJSON().utf8))
        }
        // CSV data (census, csv sources): how to encode new rows for `ranker predict`.
        if let encoding = DatasetEncoding(dataset: dataset) {
            try encoding.write(to: runDirectory.appendingPathComponent(DatasetEncoding.fileName))
        }
    }

    /// The full resumable state: model (and balancer) parameters, optimizer,
    /// balancer state, trainer state, configuration.
    private func makeCheckpoint() throws -> Checkpoint {
        var checkpoint = try Checkpoint(parameters: step.parameters, optimizer: optimizer)
        checkpoint.metadata[Checkpoint.Key.configuration] = configuration.encodedJSON()
        try checkpoint.encode(state.step, forKey: Checkpoint.Key.step)
        try checkpoint.encode(state.epoch, forKey: Checkpoint.Key.epoch)
        try checkpoint.encode(state.epochGenerator, forKey: Checkpoint.Key.randomGenerator)
        try checkpoint.encode(balancer.state, forKey: Checkpoint.Key.weighting)
        try checkpoint.encode(state, forKey: Checkpoint.Key.trainer)
        return checkpoint
    }

    private func writeCheckpoint() throws {
        try makeCheckpoint().write(to: checkpointURL)
    }

    private func restoreCheckpoint() throws {
        let checkpoint = try Checkpoint.read(from: checkpointURL)
        // The training-defining configuration must be the same.
        var stored = try JSONDecoder().decode(RunConfiguration.self,
                                              from: Data(try checkpoint.string(forKey: Checkpoint.Key.configuration).utf8))
        var current = configuration
        stored.training.interruptAfterSteps = 0
        current.training.interruptAfterSteps = 0
        stored.training.maxSteps = 0
        current.training.maxSteps = 0
        stored.training.epochs = current.training.epochs
        stored.output = current.output
        guard stored == current else {
            throw TrainingError(message: "cannot resume \(checkpointURL.path): the run was made with another configuration "
                                + "(only epochs, max_steps, interrupt_after_steps and output may change)")
        }
        try checkpoint.restore(into: step.parameters, optimizer: optimizer)
        try balancer.restore(checkpoint.decode(TaskBalancerState.self, forKey: Checkpoint.Key.weighting))
        state = try checkpoint.decode(TrainerState.self, forKey: Checkpoint.Key.trainer)
        if FileManager.default.fileExists(atPath: bestURL.path) {
            let reader = try SafeTensorsReader(url: bestURL)
            var best = Checkpoint()
            for p in model.parameters { best.tensors[Checkpoint.Prefix.model + p.name] = try reader.readMatrix(named: p.name) }
            bestParameters = best
        }
        lastGood = try makeCheckpoint().deepCopy()
    }

    // MARK: the run

    /// Runs training to the end (or to the stop the configuration or the
    /// stability policy asks for) and returns the summary.
    public func run() throws -> TrainingSummary {
        telemetry = try TelemetryWriter(url: telemetryURL)
        let plan = TrainingPlan(trainer: self)
        progress = ProgressReporter(setting: configuration.output.progress, totalSteps: plan.totalSteps)
        writeRunLine(plan: plan)
        if lastGood == nil { lastGood = try makeCheckpoint().deepCopy() }
        interruptRequested = 0
        let previousHandler = signal(SIGINT) { _ in
            interruptRequested = 1
            signal(SIGINT, SIG_DFL)  // a second Ctrl-C ends the process
        }
        defer { signal(SIGINT, previousHandler) }

        var stop: StopReason?
        do {
            stop = configuration.training.mode == .epochs ? try runEpochs(plan) : try runDays(plan)
        } catch let error as TrainingError {
            progress.finish()
            writeEvent(StabilityEvent(step: state.step, kind: .stop, task: nil, parameter: nil, value: nil,
                                      message: error.message))
            writeEnd(reason: .unstable, test: nil)
            try telemetry.flush()
            throw error
        }
        progress.finish()
        let reason = stop ?? .completed
        if reason == .interrupted {
            try writeCheckpoint()
            writeEnd(reason: reason, test: nil)
            try telemetry.flush()
            return summary(reason: reason, test: nil)
        }
        try writeCheckpoint()
        // Test the kept state: the best valid parameters (epoch mode).
        if let best = bestParameters, configuration.training.mode == .epochs {
            for p in model.parameters {
                if let m = best.tensors[Checkpoint.Prefix.model + p.name] { p.value.copy(from: m) }
            }
        }
        let testRows = plan.testRows
        let test = testRows.isEmpty ? nil : evaluator.evaluate(rows: testRows, split: "test")
        if let test { writeEvaluation(test, day: nil) }
        writeEnd(reason: reason, test: test)
        try telemetry.flush()
        writeReport()
        return summary(reason: reason, test: test)
    }

    /// `report.html` (when configured); a failure is reported, not fatal.
    private func writeReport() {
        guard configuration.output.report else { return }
        do {
            try TrainingReport.writeReport(runDirectory: runDirectory)
        } catch {
            progress.print("report.html not written: \(error)")
        }
    }

    private func summary(reason: StopReason, test: Evaluation?) -> TrainingSummary {
        TrainingSummary(name: configuration.name, runDirectory: runDirectory.path, steps: state.step,
                        epochs: state.epoch, stopReason: reason, bestStep: state.bestStep, bestValid: bestValid,
                        test: test, events: state.monitor.counts,
                        trainSamplesPerSecond: state.trainSeconds > 0 ? Double(state.trainSamples) / state.trainSeconds : 0)
    }

    /// Epoch mode: shuffled passes over the train split.
    private func runEpochs(_ plan: TrainingPlan) throws -> StopReason? {
        let train = dataset.splits.train
        while state.epoch < configuration.training.epochs {
            if let stop = try runPass(rows: train, label: "epoch \(state.epoch + 1)/\(configuration.training.epochs)") {
                return stop
            }
            balancer.finishEpoch()
            state.epoch += 1
            state.batchInEpoch = 0
            if configuration.training.evalEverySteps == 0, let stop = try evaluate(rows: dataset.splits.valid, day: nil) {
                return stop
            }
            if configuration.training.checkpointEverySteps == 0 { try writeCheckpoint() }
        }
        return nil
    }

    /// Sequential mode: days in order, each trained on its window, then the
    /// next day evaluated.
    private func runDays(_ plan: TrainingPlan) throws -> StopReason? {
        let days = plan.days
        let window = configuration.training.windowDays
        while state.day < days.count - 1 {
            let first = max(0, state.day - window + 1)
            let rows = days[first...state.day].flatMap { $0.rows }
            while state.epoch < configuration.training.epochs {
                if let stop = try runPass(rows: rows, label: "day \(state.day + 1)/\(days.count - 1)") { return stop }
                state.epoch += 1
                state.batchInEpoch = 0
            }
            balancer.finishEpoch()
            state.epoch = 0
            state.day += 1
            if let stop = try evaluate(rows: days[state.day].rows, day: Int(days[state.day].day)) { return stop }
            if configuration.training.checkpointEverySteps == 0 { try writeCheckpoint() }
        }
        return nil
    }

    /// One shuffled pass over `rows`, from the saved cursor.
    private func runPass(rows: [Int], label: String) throws -> StopReason? {
        let settings = configuration.training
        // Replay this pass's shuffle from the generator saved at its start.
        var generator = state.epochGenerator
        var order = rows
        generator.shuffle(&order)
        let batches = (order.count + settings.batchSize - 1) / settings.batchSize
        while state.batchInEpoch < batches {
            let start = state.batchInEpoch * settings.batchSize
            let end = min(order.count, start + settings.batchSize)
            dataset.fill(batch, rows: order[start..<end])
            let begin = Clock.now
            let outcome = try trainStep()
            state.trainSeconds += Clock.seconds(since: begin)
            state.trainSamples += end - start
            state.batchInEpoch += 1
            state.step += 1
            progress.update(step: state.step, batchSize: end - start, epoch: label, loss: step.losses.reduce(0, +))
            if outcome == .stop { return .unstable }
            if settings.evalEverySteps > 0 && state.step % settings.evalEverySteps == 0 {
                let valid = settings.mode == .epochs ? dataset.splits.valid : []
                if !valid.isEmpty, let stop = try evaluate(rows: valid, day: nil) { return stop }
            }
            // A checkpoint inside the pass keeps the generator of the pass's
            // start and the batch cursor: resume replays the same shuffle.
            if settings.checkpointEverySteps > 0 && state.step % settings.checkpointEverySteps == 0 {
                try writeCheckpoint()
            }
            if settings.interruptAfterSteps > 0 && state.step == settings.interruptAfterSteps { return .interrupted }
            if interruptRequested != 0 {
                progress.print("interrupted: checkpoint written to \(checkpointURL.path); resume with --resume")
                return .interrupted
            }
            if settings.maxSteps > 0 && state.step >= settings.maxSteps { return .maxSteps }
        }
        // The next pass shuffles with the generator as this one left it.
        state.epochGenerator = generator
        return nil
    }

    private enum StepOutcome { case applied, skipped, rolledBack, stop }

    /// One batch: gradients, the monitor's judgement, the policy, the update.
    private func trainStep() throws -> StepOutcome {
        let policy = configuration.stability.policy
        let learningRate = Float(Double(baseLearningRate)
                                 * configuration.training.learningRateSchedule.factor(step: state.step)
                                 * state.learningRateFactor)
        var events: [StabilityEvent] = []
        var trouble: StabilityEvent.Kind?
        if let failure = step.computeGradients(batch) {
            var e = StabilityEvent(step: state.step, kind: .nan, task: nil, parameter: nil, value: nil,
                                   message: failure.description)
            switch failure {
            case let .nonFiniteLoss(task, value):
                e.task = modelConfiguration.tasks.indices.contains(task) ? modelConfiguration.tasks[task].name : nil
                e.value = value
            case let .nonFiniteGradient(parameter, _): e.parameter = parameter
            case .balancer: break
            }
            events.append(e)
            trouble = .nan
        } else {
            for var e in state.monitor.observe(step: state.step, losses: step.losses) {
                e.parameter = step.largestGradient().name
                events.append(e)
                if e.kind == .divergence { trouble = .divergence }
                if e.kind == .spike && policy == .skip && trouble == nil { trouble = .spike }
            }
        }
        var outcome = StepOutcome.applied
        if trouble == nil {
            let report = step.applyUpdate(learningRate: learningRate, batchSize: batch.size)
            if !report.applied {
                events.append(StabilityEvent(step: state.step, kind: .nan, task: nil,
                                             parameter: report.nonFiniteParameters.first, value: nil,
                                             message: "non-finite gradient in \(report.nonFiniteParameters.joined(separator: ", ")); update skipped"))
                trouble = .nan
            }
        }
        if let kind = trouble {
            if kind == .nan { state.monitor.count(.nan) }
            outcome = try applyPolicy(kind, events: &events)
        }
        for e in events { writeEvent(e) }
        if state.step % configuration.output.telemetryEverySteps == 0 || !events.isEmpty {
            writeStepLine(learningRate: learningRate)
        }
        return outcome
    }

    /// The policy's answer to trouble in the current step.
    private func applyPolicy(_ kind: StabilityEvent.Kind, events: inout [StabilityEvent]) throws -> StepOutcome {
        let policy = configuration.stability.policy
        func event(_ k: StabilityEvent.Kind, _ message: String) {
            events.append(StabilityEvent(step: state.step, kind: k, task: nil, parameter: nil, value: nil, message: message))
            state.monitor.count(k)
        }
        switch (policy, kind) {
        case (.skip, .nan), (.skip, .spike):
            event(.skip, "update of step \(state.step) skipped")
            return .skipped
        case (.rollback, .nan), (.rollback, .divergence):
            if state.rollbacks >= configuration.stability.maxRollbacks {
                event(.stop, "stopped: \(state.rollbacks) rollbacks did not restore stability")
                return .stop
            }
            try rollBack()
            event(.rollback, "restored the last good state; learning rate factor now \(state.learningRateFactor)")
            return .rolledBack
        case (.rollback, _):
            return .applied
        default:
            event(.stop, "stopped by the \(policy.rawValue) policy after a \(kind.rawValue) event")
            return .stop
        }
    }

    /// Restores the last good model, optimizer and balancer state and halves
    /// the learning rate; the data cursor keeps moving forward.
    private func rollBack() throws {
        guard let good = lastGood else { throw TrainingError(message: "no good state to roll back to") }
        try good.restore(into: step.parameters, optimizer: optimizer)
        try balancer.restore(good.decode(TaskBalancerState.self, forKey: Checkpoint.Key.weighting))
        state.rollbacks += 1
        state.learningRateFactor *= 0.5
        state.monitor.resetSpikes()
    }

    /// Evaluates `rows` as the valid split; keeps the best state; early stopping.
    private func evaluate(rows: [Int], day: Int?) throws -> StopReason? {
        if rows.isEmpty { return nil }
        let evaluation = evaluator.evaluate(rows: rows, split: "valid")
        writeEvaluation(evaluation, day: day)
        progress.print(describe(evaluation, step: state.step))
        // Outputs whose valid labels have one class only have no AUC to judge
        // (NaN by definition, not a diverged model); they are left out.
        var auc: [String: Double] = [:]
        for t in evaluation.tasks where t.positives.map({ $0 > 0 && $0 < t.examples }) ?? true {
            if let a = t.auc { auc[t.name] = a }
        }
        let events = state.monitor.observe(step: state.step, validAUC: auc)
        for e in events { writeEvent(e) }
        if !events.isEmpty {
            var extra: [StabilityEvent] = []
            if try applyPolicy(.divergence, events: &extra) == .stop {
                for e in extra { writeEvent(e) }
                try telemetry.flush()
                return .unstable
            }
            for e in extra { writeEvent(e) }
            try telemetry.flush()
            return nil
        }
        let mean = evaluation.meanAUC
        if mean.isFinite && (state.bestMeanAUC.map { mean > $0 } ?? true) {
            state.bestMeanAUC = mean
            state.bestStep = state.step
            state.evaluationsWithoutImprovement = 0
            bestValid = evaluation
            var best = Checkpoint()
            for p in model.parameters { best.tensors[Checkpoint.Prefix.model + p.name] = p.value.clone() }
            bestParameters = best
            try ModelExport.write(model, to: bestURL, metadata: ["step": "\(state.step)", "valid_mean_auc": "\(mean)"])
        } else {
            state.evaluationsWithoutImprovement += 1
        }
        lastGood = try makeCheckpoint().deepCopy()
        try telemetry.flush()
        let patience = configuration.training.earlyStoppingPatience
        if patience > 0 && state.evaluationsWithoutImprovement >= patience { return .earlyStopping }
        return nil
    }

    // MARK: telemetry

    private func writeRunLine(plan: TrainingPlan) {
        var line = JSONLine()
        line.add("type", "run")
        line.add("name", configuration.name)
        line.add("model", modelConfiguration.model.rawValue)
        // The tasks of the losses and weights of step lines (ESMM: ctr, ctcvr;
        // its cvr metrics appear in eval lines as an extra output).
        line.add("tasks", modelConfiguration.tasks.map(\.name))
        line.add("combiner", balancer.methodName)
        line.add("combiner_kind", balancer.requiresPerTaskGradients && balancer.methodName != "gradnorm"
                 ? "coefficients" : "loss_weights")
        line.add("optimizer", configuration.optimizer.telemetryName)
        line.add("learning_rate", Double(baseLearningRate))
        line.add("batch_size", configuration.training.batchSize)
        line.add("mode", configuration.training.mode.rawValue)
        line.add("threads", configuration.training.threads)
        line.add("seed", Int(configuration.training.seed))
        line.add("train_examples", plan.trainExamples)
        line.add("total_steps", plan.totalSteps)
        line.add("parameters", model.parameters.map(\.name))
        line.add("parameter_count", model.parameterCount)
        if resumed { line.add("resumed_from_step", state.step) }
        line.add("started", ISO8601DateFormatter().string(from: Date()))
        telemetry.write(line)
    }

    private func writeStepLine(learningRate: Float) {
        var line = JSONLine()
        line.add("type", "step")
        line.add("step", state.step)
        line.add("epoch", state.epoch)
        if configuration.training.mode == .sequential { line.add("day", state.day) } else { line.addNull("day") }
        line.add("lr", Double(learningRate))
        line.add("losses", step.losses)
        line.add("objective", step.objective)
        let t = balancer.telemetry
        line.add("weights", t.weights.isEmpty ? step.weights : t.weights)
        if balancer.requiresPerTaskGradients {
            line.add("grad_norms", t.gradientNorms)
            line.add("cosines", t.gradientCosines)
            line.add("conflicting_pairs", t.conflictingPairs)
            line.add("pinv_fallbacks", t.pseudoInverseFallbacks)
        }
        if reportsClipping {
            let names = optimizer.parameterNames
            line.add("clip_factors", pairs: names.indices.map { (names[$0], Double(optimizer.clippingFactor(at: $0))) })
        }
        line.add("samples_per_s", state.trainSeconds > 0 ? Double(state.trainSamples) / state.trainSeconds : 0)
        telemetry.write(line)
    }

    private func writeEvent(_ e: StabilityEvent) {
        var line = JSONLine()
        line.add("type", "event")
        line.add("step", e.step)
        line.add("kind", e.kind.rawValue)
        if let task = e.task { line.add("task", task) } else { line.addNull("task") }
        if let p = e.parameter { line.add("parameter", p) } else { line.addNull("parameter") }
        line.add("value", e.value)
        line.add("message", e.message)
        telemetry.write(line)
        if e.kind != .recovered { progress.print("step \(e.step): \(e.kind.rawValue)"
            + (e.task.map { " [\($0)]" } ?? "") + (e.parameter.map { " (largest gradient: \($0))" } ?? "") + ": \(e.message)") }
    }

    private func writeEvaluation(_ e: Evaluation, day: Int?) {
        var line = JSONLine()
        line.add("type", "eval")
        line.add("step", state.step)
        line.add("epoch", state.epoch)
        if let day { line.add("day", day) }
        line.add("split", e.split)
        line.addRaw("metrics", e.metricsJSON)
        line.add("mean_auc", e.meanAUC)
        line.add("non_finite_predictions", e.nonFinitePredictions)
        telemetry.write(line)
    }

    private func writeEnd(reason: StopReason, test: Evaluation?) {
        var line = JSONLine()
        line.add("type", "end")
        line.add("step", state.step)
        if let s = state.bestStep { line.add("best_step", s) } else { line.addNull("best_step") }
        line.add("best_mean_auc", state.bestMeanAUC)
        line.add("stopped", reason.rawValue)
        line.add("train_samples_per_s", state.trainSeconds > 0 ? Double(state.trainSamples) / state.trainSeconds : 0)
        line.add("events", pairs: state.monitor.counts.sorted { $0.key < $1.key }.map { ($0.key, Double($0.value)) })
        if let test { line.addRaw("test", test.metricsJSON) }
        telemetry.write(line)
    }

    private func describe(_ e: Evaluation, step: Int) -> String {
        let parts = e.tasks.map { t -> String in
            if let rmse = t.rmse { return "\(t.name) RMSE \(String(format: "%.4f", rmse))" }
            var s = "\(t.name) AUC \(String(format: "%.4f", t.auc ?? .nan))"
            if let g = t.gauc { s += " GAUC \(String(format: "%.4f", g))" }
            return s
        }
        return "step \(step) \(e.split): " + parts.joined(separator: ", ")
    }
}

/// The shape of a run: how many steps, which rows are tested.
struct TrainingPlan {
    let totalSteps: Int
    let trainExamples: Int
    let testRows: [Int]
    /// Sequential mode: rows grouped by day, in day order.
    let days: [(day: Int32, rows: [Int])]

    init(trainer: Trainer) {
        let c = trainer.configuration.training
        let d = trainer.dataset
        func batches(_ n: Int) -> Int { (n + c.batchSize - 1) / c.batchSize }
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
