extension TelemetryRecord {
    /// `{"type": "run", ...}`, the first line of every (resumed) run: what is
    /// trained and how. The per-task arrays of step lines follow `tasks`
    /// (`T` entries); `parameters` names the tensors in the model's stable order.
    /// A line that lacks a field reads with a placeholder (`?`; no tasks or
    /// parameters; `loss_weights`) rather than failing.
    public struct Run: Codable, Sendable, Equatable {
        static let type = "run"

        @Field<Text> public var name: String
        @Field<Text> public var model: String
        @Field<Texts> public var tasks: [String]
        /// The weighting or gradient-combination method.
        @Field<Text> public var combiner: String
        /// `loss_weights` or `coefficients`: what a step's `weights` are.
        @Field<Text> public var combinerKind: String
        @Field<Text> public var optimizer: String
        @OptionalField<Number> public var learningRate: Double?
        @OptionalField<Integer> public var batchSize: Int?
        /// `epochs` or `sequential`.
        @OptionalField<Text> public var mode: String?
        @OptionalField<Integer> public var threads: Int?
        @OptionalField<Integer> public var seed: Int?
        @OptionalField<Integer> public var trainExamples: Int?
        @OptionalField<Integer> public var totalSteps: Int?
        /// Parameter tensor names in the model's stable order.
        @Field<Texts> public var parameters: [String]
        @OptionalField<Integer> public var parameterCount: Int?
        /// Set when the run continues a checkpoint: the step it resumed at.
        @OptionalField<Integer> public var resumedFromStep: Int?
        /// ISO 8601 start time.
        @OptionalField<Text> public var started: String?
        /// The OpenBLAS kernel set the products ran on (`BLAS.coreName`,
        /// e.g. `Haswell`, `SkylakeX`; `BLASKernelChoice`): runs are bitwise
        /// reproducible on the same kernels.
        @OptionalField<Text> public var blasKernels: String? = nil

        enum CodingKeys: String, TelemetryPlaceholderKey {
            case name, model, tasks, combiner
            case combinerKind = "combiner_kind"
            case optimizer
            case learningRate = "learning_rate"
            case batchSize = "batch_size"
            case mode, threads, seed
            case trainExamples = "train_examples"
            case totalSteps = "total_steps"
            case parameters
            case parameterCount = "parameter_count"
            case resumedFromStep = "resumed_from_step"
            case started
            case blasKernels = "blas_kernels"

            var placeholder: String? {
                switch self {
                case .name: return "(unnamed run)"
                case .combinerKind: return "loss_weights"
                case .model, .combiner, .optimizer: return "?"
                default: return nil
                }
            }
        }
    }
}
