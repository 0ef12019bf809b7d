/// One line of a run's `telemetry.jsonl`, decoded (format: TELEMETRY.md).
///
/// Numbers the writer could not represent (NaN, ±infinity) arrive as JSON
/// `null` and are decoded as `Double.nan`; optional fields that are absent or
/// `null` as a whole are `nil`. Unknown keys are ignored so that newer writers
/// stay readable.
enum TelemetryLogRecord {
    case run(Run)
    case step(Step)
    case evaluation(Evaluation)
    case event(Event)
    case end(End)
    /// A line whose `"type"` this reader does not know (kept for counting only).
    case unknown(type: String)

    /// `{"type": "run", ...}`: what was trained and how.
    struct Run {
        var name: String
        var model: String
        var tasks: [String]
        var combiner: String
        /// `loss_weights` or `coefficients`: what a step's `weights` are.
        var combinerKind: String
        var optimizer: String
        /// Parameter tensor names in the model's stable order.
        var parameters: [String]
        var started: String?
        /// Any other top-level scalar fields of the line, as text, in key order.
        var otherFields: [(key: String, value: String)]
    }

    /// `{"type": "step", ...}`: one optimizer step.
    struct Step {
        var step: Int
        var epoch: Int?
        var day: Int?
        var learningRate: Double?
        /// `T` task losses (NaN where the loss was not finite).
        var losses: [Double]
        /// `T` loss weights or combination coefficients.
        var weights: [Double]?
        /// `T` per-task gradient norms over the shared parameters.
        var gradientNorms: [Double]?
        /// `T × T` cosine similarities of the per-task gradients.
        var cosines: [[Double]]?
        var conflictingPairs: Int?
        var pseudoInverseFallbacks: Int?
        /// Last clipping factor per parameter tensor (JSON object order is not kept).
        var clipFactors: [String: Double]?
        var samplesPerSecond: Double?
    }

    /// `{"type": "eval", ...}`: metrics on a split at a step.
    struct Evaluation {
        var step: Int
        var epoch: Int?
        var split: String
        /// Task name → metric name → value (counts such as `users` included).
        var metrics: [String: [String: Double]]
        var meanAUC: Double?
    }

    /// `{"type": "event", ...}`: a stability monitor event.
    struct Event {
        var step: Int
        /// `nan`, `spike`, `recovered`, `divergence`, `skip`, `rollback`, `stop`, or newer kinds.
        var kind: String
        var task: String?
        var parameter: String?
        var value: Double?
        var message: String?
    }

    /// `{"type": "end", ...}`: the run finished (or stopped).
    struct End {
        var step: Int?
        var bestStep: Int?
        var bestMeanAUC: Double?
        var stopped: String?
        /// Task name → metric name → value on the test split.
        var test: [String: [String: Double]]
    }
}
