import Foundation
@testable import Ranker
@testable import RankerReport

/// Writes a realistic `telemetry.jsonl` for report tests, line by line in the
/// TELEMETRY.md format, and remembers what it wrote (the oracle for checks).
///
/// The default run: 3 tasks, GradCraft coefficients, Clippy Adagrad with 30
/// tensors, 3,000 steps with a loss spike at step 733, a divergence and a
/// rollback at step 1,500 that replays steps 1,400… with the learning rate
/// halved, a NaN loss (skipped batch) at step 2,100, validation every 250
/// steps, and an end line with test metrics.
struct TelemetryFixture {
    var name = "mmoe-synthetic"
    var tasks = ["click", "like", "finish"]
    var stepCount = 3000
    var combiner = "gradcraft"
    var combinerKind = "coefficients"
    var optimizer = "clippy_adagrad"
    var withClipFactors = true
    var withGradients = true
    var withEnd = true
    var evalEvery = 250
    var seed: UInt64 = 7

    /// What was written.
    struct Written {
        var lines: [String] = []
        var parameters: [String] = []
        var events: [(step: Int, kind: String, task: String?)] = []
        /// Largest finite loss per task.
        var maximumLoss: [Double] = []
        /// Step lines written (replayed steps included).
        var stepLines = 0
        /// Tensors with a factor below 1 at some step.
        var clippedTensors: Set<String> = []
        /// The tensor whose factors are lowest on average.
        var mostClippedTensor = ""
        var bestStep = 0
        var bestMeanAUC = 0.0
    }

    static let spikeStep = 733
    static let spikeLoss = 9.5
    static let rollbackStep = 1500
    static let rollbackTarget = 1400
    static let nanStep = 2100

    func parameterNames() -> [String] {
        var names = ["embedding.user", "embedding.item"]
        for expert in 0..<4 { for layer in 0..<2 { names += ["experts.\(expert).layers.\(layer).W", "experts.\(expert).layers.\(layer).b"] } }
        for gate in 0..<tasks.count { names += ["gates.\(gate).W", "gates.\(gate).b"] }
        for task in 0..<tasks.count { names += ["towers.\(task).W", "towers.\(task).b"] }
        return names
    }

    static func json(_ value: Double) -> String { value.isFinite ? "\(value)" : "null" }
    static func json(_ text: String) -> String {
        var out = "\""
        for scalar in text.unicodeScalars {
            switch scalar {
            case "\"": out += "\\\""
            case "\\": out += "\\\\"
            case "\n": out += "\\n"
            default:
                if scalar.value < 0x20 { out += String(format: "\\u%04x", scalar.value) } else { out.unicodeScalars.append(scalar) }
            }
        }
        return out + "\""
    }
    static func json(_ values: [Double]) -> String { "[" + values.map { json($0) }.joined(separator: ", ") + "]" }
    static func json(_ texts: [String]) -> String { "[" + texts.map { json($0) }.joined(separator: ", ") + "]" }

    func generate() -> Written {
        var random = RandomGenerator(seed: seed)
        var written = Written()
        let t = tasks.count
        let parameters = parameterNames()
        written.parameters = parameters
        written.maximumLoss = Array(repeating: -Double.infinity, count: t)
        written.mostClippedTensor = "embedding.user"
        written.lines.append("{\"type\": \"run\", \"name\": \(Self.json(name)), \"model\": \"mmoe\", \"tasks\": \(Self.json(tasks)), "
            + "\"combiner\": \(Self.json(combiner)), \"combiner_kind\": \(Self.json(combinerKind)), \"optimizer\": \(Self.json(optimizer)), "
            + "\"parameters\": \(Self.json(parameters)), \"started\": \"2026-11-23T14:00:00Z\", \"seed\": 7}")

        func event(_ step: Int, _ kind: String, task: String? = nil, parameter: String? = nil, value: Double? = nil, message: String) {
            var line = "{\"type\": \"event\", \"step\": \(step), \"kind\": \"\(kind)\""
            if let task { line += ", \"task\": \(Self.json(task))" }
            if let parameter { line += ", \"parameter\": \(Self.json(parameter))" }
            if let value { line += ", \"value\": \(Self.json(value))" }
            line += ", \"message\": \(Self.json(message))}"
            written.lines.append(line)
            written.events.append((step, kind, task))
        }

        var learningRate = 0.01
        var step = 0
        var rolledBack = false
        written.bestMeanAUC = -1
        while step < stepCount {
            let progress = Double(step) / Double(stepCount)
            // losses: decaying curves with noise; a spike and a divergence before the rollback
            var losses = (0..<t).map { k in (0.69 - 0.25 * progress) * (1 + 0.4 * Double(k)) + 0.03 * random.normal() }
            if step == Self.spikeStep { losses[0] = Self.spikeLoss }
            if !rolledBack && step >= 1480 && step < Self.rollbackStep { losses[1] = 2 + Double(step - 1480) * 0.5 }
            if step == Self.nanStep { losses[2] = .nan }
            for k in 0..<t where losses[k].isFinite { written.maximumLoss[k] = max(written.maximumLoss[k], losses[k]) }

            var line = "{\"type\": \"step\", \"step\": \(step), \"epoch\": \(step / 1000), \"day\": null, \"lr\": \(Self.json(learningRate)), "
            line += "\"losses\": \(Self.json(losses)), "
            line += "\"weights\": \(Self.json((0..<t).map { k in 1 + 0.3 * sin(Double(step) / 300 + Double(k)) }))"
            if withGradients {
                let norms = (0..<t).map { k in (1.0 - 0.5 * progress) * (1 + Double(k)) * exp(0.2 * random.normal()) }
                var cosines = Array(repeating: Array(repeating: 1.0, count: t), count: t)
                var conflicts = 0
                for i in 0..<t { for j in (i + 1)..<max(i + 1, t) {
                    let c = max(-1, min(1, 0.1 - 0.3 * progress + 0.25 * random.normal()))
                    cosines[i][j] = c; cosines[j][i] = c
                    if c < 0 { conflicts += 1 }
                } }
                line += ", \"grad_norms\": \(Self.json(norms)), \"cosines\": [" + cosines.map { Self.json($0) }.joined(separator: ", ") + "]"
                line += ", \"conflicting_pairs\": \(conflicts), \"pinv_fallbacks\": \(step % 997 == 0 ? 1 : 0)"
            }
            if withClipFactors {
                var entries: [String] = []
                for (index, name) in parameters.enumerated() {
                    var factor = 1.0
                    if name == "embedding.user" { factor = pow(10, -1.5 - 1.5 * random.nextDouble()) }        // always clipped hard
                    else if name.hasPrefix("embedding") { factor = pow(10, -2 * random.nextDouble()) }
                    else if index % 5 == 0 && random.nextDouble() < 0.2 { factor = pow(10, -3 * random.nextDouble()) }
                    if step == Self.spikeStep && name.hasPrefix("towers.0") { factor = 1e-6 }
                    if step == 2500 && name == "gates.0.b" { factor = 0 }
                    if factor < 1 { written.clippedTensors.insert(name) }
                    entries.append("\(Self.json(name)): \(Self.json(factor))")
                }
                line += ", \"clip_factors\": {" + entries.joined(separator: ", ") + "}"
            }
            line += ", \"samples_per_s\": \(Self.json(50_000 + 2_000 * random.normal()))}"
            written.lines.append(line)
            written.stepLines += 1

            if step == Self.spikeStep {
                event(step, "spike", task: tasks[0], value: Self.spikeLoss, message: "loss \(Self.spikeLoss) above 3x its moving average 0.6")
                event(step + 1, "recovered", task: tasks[0], message: "loss back under its moving average")
            }
            if step == Self.nanStep {
                event(step, "nan", task: tasks[min(2, t - 1)], message: "non-finite loss")
                event(step, "skip", message: "batch skipped")
            }
            if !rolledBack && step == Self.rollbackStep - 5 {
                event(step, "divergence", task: tasks[min(1, t - 1)], message: "loss above 3x its moving average for 15 steps")
            }
            if !rolledBack && step == Self.rollbackStep - 1 {
                event(Self.rollbackStep, "rollback", message: "restored the checkpoint of step \(Self.rollbackTarget), learning rate halved")
                rolledBack = true
                learningRate /= 2
                step = Self.rollbackTarget
                continue
            }
            if evalEvery > 0 && step > 0 && step % evalEvery == 0 {
                var metrics: [String] = []
                var aucs: [Double] = []
                for (k, task) in tasks.enumerated() {
                    let auc = 0.6 + 0.12 * progress - 0.02 * Double(k) + 0.004 * random.normal()
                    aucs.append(auc)
                    metrics.append("\(Self.json(task)): {\"auc\": \(auc), \"gauc\": \(auc - 0.05), \"logloss\": \(0.6 - 0.1 * progress), \"users\": 900, \"impressions\": 20000}")
                }
                let mean = aucs.reduce(0, +) / Double(t)
                if mean > written.bestMeanAUC { written.bestMeanAUC = mean; written.bestStep = step }
                written.lines.append("{\"type\": \"eval\", \"step\": \(step), \"epoch\": \(step / 1000), \"split\": \"valid\", \"metrics\": {" + metrics.joined(separator: ", ") + "}, \"mean_auc\": \(mean)}")
            }
            step += 1
        }
        if withEnd {
            let test = tasks.map { "\(Self.json($0)): {\"auc\": 0.71, \"gauc\": 0.66, \"logloss\": 0.5}" }.joined(separator: ", ")
            written.lines.append("{\"type\": \"end\", \"step\": \(stepCount), \"best_step\": \(written.bestStep), \"best_mean_auc\": \(written.bestMeanAUC), \"stopped\": \"completed\", \"test\": {\(test)}}")
        }
        return written
    }

    /// A fresh temporary run directory.
    static func makeRunDirectory() throws -> URL {
        let directory = FileManager.default.temporaryDirectory.appendingPathComponent("ranker-report-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: directory, withIntermediateDirectories: true)
        return directory
    }

    /// Writes `lines` (newline-terminated unless `terminateLastLine` is false) to `directory/telemetry.jsonl`.
    static func write(_ lines: [String], to directory: URL, terminateLastLine: Bool = true) throws {
        var text = lines.joined(separator: "\n")
        if terminateLastLine && !lines.isEmpty { text += "\n" }
        try Data(text.utf8).write(to: directory.appendingPathComponent(TrainingReport.telemetryFileName))
    }
}
