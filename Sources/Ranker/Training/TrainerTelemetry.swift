import Foundation

/// The trainer's telemetry: the records of `telemetry.jsonl` (TELEMETRY.md,
/// `TelemetryRecord`) built from the run's state, and the progress lines
/// that echo events and evaluations.
extension Trainer {
    /// The `run` line: what is trained and how.
    func writeRunLine(plan: TrainingPlan) throws {
        try telemetry.write(.run(TelemetryRecord.Run(
            name: configuration.name,
            model: modelConfiguration.model.rawValue,
            // The tasks of the losses and weights of step lines (ESMM: ctr, ctcvr;
            // its cvr metrics appear in eval lines as an extra output).
            tasks: modelConfiguration.tasks.map(\.name),
            combiner: balancer.methodName,
            combinerKind: balancer.family.combinerKind,
            optimizer: configuration.optimizer.telemetryName,
            learningRate: Double(baseLearningRate),
            batchSize: configuration.training.batchSize,
            mode: configuration.training.mode.rawValue,
            threads: configuration.training.threads,
            seed: Int(configuration.training.seed),
            trainExamples: plan.trainExamples,
            totalSteps: plan.totalSteps,
            parameters: model.parameters.map(\.name),
            parameterCount: model.parameterCount,
            resumedFromStep: resumed ? state.step : nil,
            started: ISO8601DateFormatter().string(from: Date()),
            blasKernels: BLAS.coreName)))
    }

    /// A `step` line: losses, weights, per-task gradient statistics (methods
    /// that compute them), clipping factors (optimizers that clip).
    func writeStepLine(learningRate: Float) throws {
        let t = balancer.telemetry
        var record = TelemetryRecord.Step(
            step: state.step, epoch: state.epoch,
            day: configuration.training.mode == .sequential ? state.day : nil,
            learningRate: Double(learningRate), losses: step.losses, objective: step.objective,
            weights: t.weights.isEmpty ? step.weights : t.weights,
            samplesPerSecond: trainSamplesPerSecond)
        if balancer.requiresPerTaskGradients {
            record.gradientNorms = t.gradientNorms
            record.cosines = t.gradientCosines
            record.conflictingPairs = t.conflictingPairs
            record.pseudoInverseFallbacks = t.pseudoInverseFallbacks
        }
        if reportsClipping {
            let names = optimizer.parameterNames
            record.clipFactors = Dictionary(names.indices.map { (names[$0], Double(optimizer.clippingFactor(at: $0))) },
                                            uniquingKeysWith: { $1 })
        }
        try telemetry.write(.step(record))
    }

    /// An `event` line, echoed on the progress output (except `recovered`)
    /// with its diagnosis (`StabilityDiagnosis`).
    func writeEvent(_ e: StabilityEvent) throws {
        try telemetry.write(.event(TelemetryRecord.Event(e)))
        if e.kind != .recovered {
            let diagnosis = e.diagnosis.map(\.summary).flatMap { $0.isEmpty ? nil : " [\($0)]" } ?? ""
            progress.print("step \(e.step): \(e.kind.rawValue)"
                + (e.task.map { " [\($0)]" } ?? "") + (e.parameter.map { " (largest gradient: \($0))" } ?? "")
                + ": \(e.message)" + diagnosis)
        }
    }

    /// The `stop` event and `end` line of a run that failed with `error` (an
    /// I/O error such as a full disk, an unusable checkpoint, a stability
    /// stop): written and flushed when the disk still takes them.
    func recordFailure(_ error: Error) {
        guard telemetry != nil else { return }
        var event = StabilityEvent(step: state.step, kind: .stop, task: nil, parameter: nil, value: nil,
                                   message: "\(error)")
        if error is TrainingError {
            var events = [event]
            diagnose(&events)  // a stability stop: which tensors moved
            event = events[0]
        } else {
            event.message = "failed: \(error)"
        }
        try? writeEvent(event)
        try? writeEnd(stopped: error is TrainingError ? StopReason.unstable.rawValue : "failed", test: nil)
        try? telemetry.flush()
    }

    /// An `eval` line (`day`: sequential mode, the day evaluated).
    func writeEvaluation(_ e: Evaluation, day: Int?) throws {
        try telemetry.write(.evaluation(TelemetryRecord.Evaluation(
            step: state.step, epoch: state.epoch, day: day, split: e.split, metrics: e.metricTable,
            meanAUC: e.meanAUC, nonFinitePredictions: e.nonFinitePredictions)))
    }

    /// The `end` line (with the test metrics when the kept state was tested).
    func writeEnd(reason: StopReason, test: Evaluation?) throws {
        try writeEnd(stopped: reason.rawValue, test: test)
    }

    /// The `end` line with `stopped` (a `StopReason`, or `failed`).
    func writeEnd(stopped: String, test: Evaluation?) throws {
        try telemetry.write(.end(TelemetryRecord.End(
            step: state.step, bestStep: state.bestStep, bestMeanAUC: state.bestMeanAUC, stopped: stopped,
            trainSamplesPerSecond: trainSamplesPerSecond, events: state.monitor.counts,
            test: test?.metricTable ?? [:])))
    }

    /// Training throughput so far (steps only, no evaluation).
    var trainSamplesPerSecond: Double {
        state.trainSeconds > 0 ? Double(state.trainSamples) / state.trainSeconds : 0
    }

    /// The progress line of an evaluation.
    func describe(_ e: Evaluation, step: Int) -> String {
        let parts = e.tasks.map { t -> String in
            if let rmse = t.rmse { return "\(t.name) RMSE \(String(format: "%.4f", rmse))" }
            var s = "\(t.name) AUC \(String(format: "%.4f", t.auc ?? .nan))"
            if let g = t.gauc { s += " GAUC \(String(format: "%.4f", g))" }
            return s
        }
        return "step \(step) \(e.split): " + parts.joined(separator: ", ")
    }
}
