/// The four architectures.
public enum ModelKind: String, ConfigurationEnum {
    case sharedBottom = "shared_bottom"
    case mmoe
    case ple
    case esmm
}

/// Error in a model configuration, with the offending key.
public struct ModelConfigurationError: Error, CustomStringConvertible, Equatable {
    public let key: String
    public let message: String
    public var description: String { "model configuration: \(key): \(message)" }
}

/// Every size of a model, as JSON (snake_case keys; unknown keys are errors):
///
/// ```json
/// {
///   "model": "mmoe",
///   "tasks": [{"name": "income"}, {"name": "marital"}],
///   "sparse_fields": [{"name": "education", "vocabulary": 18, "dimension": 8}],
///   "dense_features": 7,
///   "experts": 8, "expert_hidden": [64, 32], "gate_bias": false,
///   "tower_hidden": [16],
///   "embedding_init_std": 0.01
/// }
/// ```
///
/// Keys by architecture: `bottom_hidden` (Shared-Bottom); `experts`,
/// `expert_hidden`, `gate_bias` (MMoE); `levels`, `specific_experts`,
/// `shared_experts`, `expert_hidden`, `gate_bias` (PLE); ESMM uses
/// `tower_hidden` for both its CTR and CVR towers and must have exactly the
/// tasks `ctr` and `ctcvr` (its labels are click and conversion). The input
/// (`sparse_fields`, `dense_features`) usually comes from the dataset's schema.
///
/// Every architecture takes `batch_norm` (hidden layers of bottom, experts
/// and towers become `Linear → BatchNorm → ReLU → Dropout`), `gate_batch_norm`
/// (MMoE and PLE gates become `Linear → BatchNorm → softmax`; unused by
/// Shared-Bottom and ESMM) and `dropout` (rate in `[0, 1)`), ALGORITHMS.md
/// 3.2.1; all off by default, so older configurations mean what they meant.
public struct ModelConfiguration: Codable, Equatable, Sendable {
    public var model: ModelKind
    public var tasks: [TaskSpec]
    public var sparseFields: [SparseField]
    /// Sequence fields pooled into `x` after the sparse fields (`sequence_fields`, default none).
    public var sequenceFields: [SequenceField]
    public var denseFeatures: Int
    public var bottomHidden: [Int]
    public var experts: Int
    public var expertHidden: [Int]
    public var gateBias: Bool
    public var levels: Int
    public var specificExperts: Int
    public var sharedExperts: Int
    public var towerHidden: [Int]
    /// Standard deviation of the `N(0, σ²)` embedding initialisation (project default 0.01).
    public var embeddingInitStd: Double
    /// BatchNorm1d in every hidden layer of bottom, experts and towers (`batch_norm`, default off).
    public var batchNorm: Bool
    /// BatchNorm1d on the gate logits of MMoE and PLE (`gate_batch_norm`, default off).
    public var gateBatchNorm: Bool
    /// Inverted-dropout rate after every hidden layer's ReLU (`dropout`, in `[0, 1)`, default 0).
    public var dropout: Float
    /// How every Linear layer starts (`linear_init`: `glorot_uniform`, the
    /// default, or `pytorch`, torch.nn.Linear's own; ALGORITHMS.md 3.2).
    public var linearInit: LinearInitialization

    enum CodingKeys: String, CodingKey, CaseIterable {
        case model, tasks, experts, levels
        case sparseFields = "sparse_fields"
        case sequenceFields = "sequence_fields"
        case denseFeatures = "dense_features"
        case bottomHidden = "bottom_hidden"
        case expertHidden = "expert_hidden"
        case gateBias = "gate_bias"
        case specificExperts = "specific_experts"
        case sharedExperts = "shared_experts"
        case towerHidden = "tower_hidden"
        case embeddingInitStd = "embedding_init_std"
        case batchNorm = "batch_norm"
        case gateBatchNorm = "gate_batch_norm"
        case dropout
        case linearInit = "linear_init"
    }

    public init(model: ModelKind, tasks: [TaskSpec], sparseFields: [SparseField] = [], denseFeatures: Int = 0,
                bottomHidden: [Int] = [256, 128], experts: Int = 8, expertHidden: [Int] = [256, 128],
                gateBias: Bool = false, levels: Int = 1, specificExperts: Int = 1, sharedExperts: Int = 1,
                towerHidden: [Int] = [64], embeddingInitStd: Double = 0.01,
                batchNorm: Bool = false, gateBatchNorm: Bool = false, dropout: Float = 0,
                linearInit: LinearInitialization = .glorotUniform, sequenceFields: [SequenceField] = []) {
        self.model = model
        self.tasks = tasks
        self.sparseFields = sparseFields
        self.sequenceFields = sequenceFields
        self.denseFeatures = denseFeatures
        self.bottomHidden = bottomHidden
        self.experts = experts
        self.expertHidden = expertHidden
        self.gateBias = gateBias
        self.levels = levels
        self.specificExperts = specificExperts
        self.sharedExperts = sharedExperts
        self.towerHidden = towerHidden
        self.embeddingInitStd = embeddingInitStd
        self.batchNorm = batchNorm
        self.gateBatchNorm = gateBatchNorm
        self.dropout = dropout
        self.linearInit = linearInit
    }

    public init(from decoder: Decoder) throws {
        let c = try StrictDecoding.container(decoder, CodingKeys.self, section: "model")
        let defaults = ModelConfiguration(model: .mmoe, tasks: [])
        model = try c.decode(ModelKind.self, forKey: .model)
        tasks = try c.decodeIfPresent([TaskSpec].self, forKey: .tasks)
            ?? (model == .esmm ? [TaskSpec(name: "ctr"), TaskSpec(name: "ctcvr")] : [])
        sparseFields = try c.decode(.sparseFields, default: [StrictSparseField]()).map(\.field)
        sequenceFields = try c.decode(.sequenceFields, default: [SequenceField]())
        denseFeatures = try c.decode(.denseFeatures, default: 0)
        bottomHidden = try c.decode(.bottomHidden, default: defaults.bottomHidden)
        experts = try c.decode(.experts, default: defaults.experts)
        expertHidden = try c.decode(.expertHidden, default: defaults.expertHidden)
        gateBias = try c.decode(.gateBias, default: defaults.gateBias)
        levels = try c.decode(.levels, default: defaults.levels)
        specificExperts = try c.decode(.specificExperts, default: defaults.specificExperts)
        sharedExperts = try c.decode(.sharedExperts, default: defaults.sharedExperts)
        towerHidden = try c.decode(.towerHidden, default: defaults.towerHidden)
        embeddingInitStd = try c.decode(.embeddingInitStd, default: defaults.embeddingInitStd)
        batchNorm = try c.decode(.batchNorm, default: defaults.batchNorm)
        gateBatchNorm = try c.decode(.gateBatchNorm, default: defaults.gateBatchNorm)
        dropout = try c.decode(.dropout, default: defaults.dropout)
        linearInit = try c.decode(.linearInit, default: defaults.linearInit)
    }

    /// A `sparse_fields` entry read with strict keys (`SparseField`'s own
    /// decoding, synthesized in the layer, would ignore a misspelt key).
    private struct StrictSparseField: Decodable {
        let field: SparseField

        enum CodingKeys: String, CodingKey, CaseIterable { case name, vocabulary, dimension }

        init(from decoder: Decoder) throws {
            let c = try StrictDecoding.container(decoder, CodingKeys.self, section: "sparse field")
            field = SparseField(name: try c.decodeChecked(String.self, forKey: .name) ?? c.decode(String.self, forKey: .name),
                                vocabulary: try c.decodeChecked(Int.self, forKey: .vocabulary) ?? c.decode(Int.self, forKey: .vocabulary),
                                dimension: try c.decodeChecked(Int.self, forKey: .dimension) ?? c.decode(Int.self, forKey: .dimension))
        }
    }

    /// Width of the model input `x`: `Σ dimension_f + dense_features`.
    public var inputSize: Int {
        sparseFields.reduce(0) { $0 + $1.dimension } + sequenceFields.reduce(0) { $0 + $1.dimension } + denseFeatures
    }

    /// Checks every size; throws the first problem found.
    public func validate() throws {
        func fail(_ key: String, _ message: String) -> ModelConfigurationError {
            ModelConfigurationError(key: key, message: message)
        }
        if tasks.isEmpty { throw fail("tasks", "at least one task is needed") }
        if Set(tasks.map(\.name)).count != tasks.count { throw fail("tasks", "task names must be unique") }
        if denseFeatures < 0 { throw fail("dense_features", "must be >= 0, got \(denseFeatures)") }
        for f in sparseFields where f.vocabulary < 1 || f.dimension < 1 {
            throw fail("sparse_fields", "field \(f.name) needs vocabulary >= 1 and dimension >= 1")
        }
        if Set(sparseFields.map(\.name)).count != sparseFields.count {
            throw fail("sparse_fields", "field names must be unique")
        }
        for field in sequenceFields {
            if let problem = field.problem(sparseFields: sparseFields) { throw fail("sequence_fields", problem) }
        }
        if Set(sparseFields.map(\.name) + sequenceFields.map(\.name)).count != sparseFields.count + sequenceFields.count {
            throw fail("sequence_fields", "sequence field names must be unique and differ from the sparse fields'")
        }
        if inputSize == 0 { throw fail("sparse_fields", "the model has no input features") }
        if towerHidden.contains(where: { $0 < 1 }) { throw fail("tower_hidden", "sizes must be >= 1") }
        if !(embeddingInitStd >= 0 && embeddingInitStd.isFinite) {
            throw fail("embedding_init_std", "must be a finite non-negative number")
        }
        if !(dropout >= 0 && dropout < 1) {
            throw fail("dropout", "must be a rate in [0, 1), got \(dropout)")
        }
        switch model {
        case .sharedBottom:
            if bottomHidden.isEmpty || bottomHidden.contains(where: { $0 < 1 }) {
                throw fail("bottom_hidden", "needs at least one layer, sizes >= 1")
            }
        case .mmoe:
            if experts < 1 { throw fail("experts", "must be >= 1, got \(experts)") }
            if expertHidden.isEmpty || expertHidden.contains(where: { $0 < 1 }) {
                throw fail("expert_hidden", "needs at least one layer, sizes >= 1")
            }
        case .ple:
            if levels < 1 { throw fail("levels", "must be >= 1, got \(levels)") }
            if specificExperts < 0 || sharedExperts < 0 || specificExperts + sharedExperts < 1 {
                throw fail("specific_experts", "needs specific_experts >= 0, shared_experts >= 0, and at least one expert per gate")
            }
            if levels > 1 && sharedExperts + specificExperts * tasks.count < 1 {
                throw fail("shared_experts", "the shared gate needs at least one expert")
            }
            if expertHidden.isEmpty || expertHidden.contains(where: { $0 < 1 }) {
                throw fail("expert_hidden", "needs at least one layer, sizes >= 1")
            }
        case .esmm:
            if tasks.map(\.name) != ["ctr", "ctcvr"] || tasks.contains(where: { $0.kind != .binary }) {
                throw fail("tasks", "ESMM has exactly the binary tasks [ctr, ctcvr]")
            }
        }
    }
}
