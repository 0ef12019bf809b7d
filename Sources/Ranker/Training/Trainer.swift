import Foundation

/// Owns a training run: the loop over epochs (or days), evaluation, the
/// stability monitor and its policy. It wires the parts that live in their
/// own files: the plan (`TrainingPlan`), checkpoints and resume
/// (`RunCheckpoint`), the best state (`BestModelState`), telemetry records
/// (`TrainerTelemetry.swift`), Ctrl-C (`InterruptSignal`).
///
/// The run directory receives `config.json`, `encoding.json` (CSV data:
/// `DatasetEncoding`), `telemetry.jsonl` (TELEMETRY.md),
/// `checkpoint.safetensors` (the last state, resumable) and `best.safetensors`
/// (the best valid weights, export format); `report.html` is RankerReport's,
/// written by the caller after the run.
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
    var state: TrainerState
    var telemetry: TelemetryWriter!
    var progress: ProgressReporter!
    /// In-memory copy of the last healthy state (for the rollback policy).
    var lastGood: Checkpoint?
    var best = BestModelState()
    /// Continues a checkpoint (false for a resume that found none); the directory lock (until
    /// `run()` returns); where `run()` cuts the telemetry back to; the stability diagnosis.
    var resumed: Bool
    var directoryLock: RunDirectoryLock?
    var telemetryStart: Int?
    let updateRatios = UpdateRatioTracker()
    let baseLearningRate: Float
    /// Optimizer telemetry: per-tensor clipping factors (Clippy, GC, AGC).
    let reportsClipping: Bool
    /// The model has BatchNorm: a trailing one-row batch is left out.
    let hasBatchNorm: Bool
    /// Data parallelism: this rank's slice of each batch, the exchanges, the drift check (`TrainerReplicas`).
    let replicas: TrainerReplicas
    /// Faults still to inject (`inject(_:)`; fault-injection tests only).
    var injectedFaults: [InjectedFault] = []

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
    ///   - dataParallel: this process is one replica of a data-parallel run
    ///     (`nil`: the only one); rank 0 alone writes into the run directory.
    public init(configuration: RunConfiguration, dataset: Dataset? = nil, runDirectory: URL? = nil,
                resume: Bool = false, dataParallel: DataParallelSettings? = nil) throws {
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
        hasBatchNorm = !model.stateTensors.isEmpty
        if hasBatchNorm && configuration.training.batchSize < 2 {
            throw TrainingError(message: "training.batch_size must be at least 2 for a model with BatchNorm, got "
                                + "\(configuration.training.batchSize)")
        }
        // Dropout masks: a stream of their own from the run's seed, so that
        // they leave the shuffles alone; its state goes into checkpoints.
        step = TrainingStep(model: model, optimizer: optimizer, balancer: balancer,
                            dropoutSeed: configuration.training.seed ^ 0xD809_0D7E_5EED_0001)
        replicas = try TrainerReplicas(settings: dataParallel, step: step)
        evaluator = Evaluator(model: model, dataset: self.dataset)
        batch = self.dataset.makeBatch(capacity: 0)
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
        if replicas.isWriter { try prepareDirectory() }
        if resume { try restoreCheckpoint() }
    }

    // MARK: the run

    /// Runs training to the end (or to the stop the configuration or the
    /// stability policy asks for) and returns the summary.
    public func run() throws -> TrainingSummary {
        defer { directoryLock?.release() }
        telemetry = try TelemetryWriter(url: replicas.telemetryURL(telemetryURL), truncatingTo: telemetryStart)
        let plan = TrainingPlan(trainer: self)
        progress = ProgressReporter(setting: configuration.output.progress, totalSteps: plan.totalSteps)
        // A resume continues the checkpoint's telemetry exactly (unless the checkpoint predates offsets).
        if resumed && telemetryStart != nil {
            progress.print("resumed from step \(state.step) (\(checkpointURL.path))")
        } else {
            try writeRunLine(plan: plan)
        }
        do {
            return try runToEnd(plan)
        } catch {
            progress.finish()
            recordFailure(error)
            throw error
        }
    }

    /// `run()` after the telemetry is open: the loop, the last checkpoint, the test.
    private func runToEnd(_ plan: TrainingPlan) throws -> TrainingSummary {
        if lastGood == nil { lastGood = try makeCheckpoint().deepCopy() }
        let previousHandler = InterruptSignal.install()
        defer { InterruptSignal.restore(previousHandler) }

        let stop = configuration.training.mode == .epochs ? try runEpochs(plan) : try runDays(plan)
        progress.finish()
        let reason = stop ?? .completed
        if reason == .interrupted {
            try writeCheckpoint()
            try writeEnd(reason: reason, test: nil)
            try telemetry.flush()
            return summary(reason: reason, test: nil)
        }
        try writeCheckpoint()
        // Test the kept state: the best valid parameters (epoch mode).
        if configuration.training.mode == .epochs { best.restore(into: model) }
        let testRows = plan.testRows
        let test = testRows.isEmpty ? nil : try replicas.evaluate(evaluator, rows: testRows, split: "test")
        if let test { try writeEvaluation(test, day: nil) }
        try writeEnd(reason: reason, test: test)
        try telemetry.flush()
        return summary(reason: reason, test: test)
    }

    private func summary(reason: StopReason, test: Evaluation?) -> TrainingSummary {
        TrainingSummary(name: configuration.name, runDirectory: runDirectory.path, steps: state.step,
                        epochs: state.epoch, stopReason: reason, bestStep: state.bestStep, bestValid: best.evaluation,
                        test: test, events: state.monitor.counts,
                        trainSamplesPerSecond: trainSamplesPerSecond,
                        droppedBatches: state.droppedBatches ?? 0, droppedRows: state.droppedRows ?? 0)
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
        let (batches, droppedRows) = TrainingPlan.batches(rows: order.count, batchSize: settings.batchSize,
                                                          dropsSingleRow: hasBatchNorm,
                                                          dropsRemainder: settings.lastBatch == .drop)
        while state.batchInEpoch < batches {
            let start = state.batchInEpoch * settings.batchSize
            let end = min(order.count, start + settings.batchSize)
            dataset.fill(batch, rows: order[try replicas.localRows(of: start..<end)])
            let begin = MonotonicClock.now
            let outcome = try trainStep()
            state.trainSeconds += MonotonicClock.seconds(since: begin)
            state.trainSamples += end - start
            state.batchInEpoch += 1
            state.step += 1
            try replicas.finishStep(state.step)
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
            if try replicas.anyRequested(InterruptSignal.wasRequested) {
                progress.print("interrupted: checkpoint written to \(checkpointURL.path); resume with --resume")
                return .interrupted
            }
            if settings.maxSteps > 0 && state.step >= settings.maxSteps { return .maxSteps }
        }
        if droppedRows > 0 {
            state.droppedBatches = (state.droppedBatches ?? 0) + 1
            state.droppedRows = (state.droppedRows ?? 0) + droppedRows
            if settings.lastBatch == .partial {
                progress.print("\(label): left out the trailing batch of 1 row (BatchNorm trains on 2 or more)")
            }
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
        if let i = injectedFaults.firstIndex(where: { $0.step == state.step }) {
            step.pendingFault = injectedFaults.remove(at: i)
        }
        if let failure = try replicas.computeGradients(step, batch: batch) {
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
            for var e in state.monitor.observe(step: state.step, losses: step.losses, lossLimits: lossLimits) {
                e.parameter = step.largestGradient().name
                events.append(e)
                if e.kind == .divergence { trouble = .divergence }
                if e.kind == .spike && policy == .skip && trouble == nil { trouble = .spike }
            }
        }
        var outcome = StepOutcome.applied
        if trouble == nil {
            updateRatios.recordBefore(step.parameters)
            let report = step.applyUpdate(learningRate: learningRate, batchSize: replicas.globalRows)
            if report.applied { updateRatios.recordAfter(step.parameters, step: state.step) }
            if !report.applied {
                events.append(StabilityEvent(step: state.step, kind: .nan, task: nil,
                                             parameter: report.nonFiniteParameters.first, value: nil,
                                             message: "non-finite gradient in \(report.nonFiniteParameters.joined(separator: ", ")); update skipped"))
                trouble = .nan
            }
        }
        diagnose(&events)  // before a rollback changes the weights
        if let kind = trouble {
            if kind == .nan { state.monitor.count(.nan) }
            outcome = try applyPolicy(kind, events: &events)
        }
        diagnose(&events)
        for e in events { try writeEvent(e) }
        if state.step % configuration.output.telemetryEverySteps == 0 || !events.isEmpty {
            try writeStepLine(learningRate: learningRate)
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

    /// Evaluates `rows` as the valid split; keeps the best state; early stopping.
    private func evaluate(rows: [Int], day: Int?) throws -> StopReason? {
        if rows.isEmpty { return nil }
        let evaluation = try replicas.evaluate(evaluator, rows: rows, split: "valid")
        try writeEvaluation(evaluation, day: day)
        progress.print(describe(evaluation, step: state.step))
        // Outputs whose valid labels have one class only have no AUC to judge
        // (NaN by definition, not a diverged model); they are left out.
        var auc: [String: Double] = [:]
        for t in evaluation.tasks where t.positives.map({ $0 > 0 && $0 < t.examples }) ?? true {
            if let a = t.auc { auc[t.name] = a }
        }
        var events = state.monitor.observe(step: state.step, validAUC: auc)
        diagnose(&events)
        for e in events { try writeEvent(e) }
        if !events.isEmpty {
            var extra: [StabilityEvent] = []
            if try applyPolicy(.divergence, events: &extra) == .stop {
                diagnose(&extra)
                for e in extra { try writeEvent(e) }
                try telemetry.flush()
                return .unstable
            }
            diagnose(&extra)
            for e in extra { try writeEvent(e) }
            try telemetry.flush()
            return nil
        }
        let mean = evaluation.meanAUC
        if mean.isFinite && (state.bestMeanAUC.map { mean > $0 } ?? true) {
            state.bestMeanAUC = mean
            state.bestStep = state.step
            state.evaluationsWithoutImprovement = 0
            try best.keep(model, evaluation: evaluation, step: state.step, to: replicas.isWriter ? bestURL : nil)
        } else {
            state.evaluationsWithoutImprovement += 1
        }
        lastGood = try makeCheckpoint().deepCopy()
        try telemetry.flush()
        let patience = configuration.training.earlyStoppingPatience
        if patience > 0 && state.evaluationsWithoutImprovement >= patience { return .earlyStopping }
        return nil
    }
}
