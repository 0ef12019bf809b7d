import Foundation
import Ranker

/// Several architectures trained one after another on the same data with the
/// same optimizer, balancer and training settings: a run configuration whose
/// `model` section is a list `models` (`examples/census-mmoe/config.json`).
///
/// ```json
/// {
///   "name": "census-mmoe",
///   "data": {"source": "census", "embedding_dimension": 8},
///   "models": [
///     {"model": "mmoe", "experts": 8, "expert_hidden": [64, 32], "tower_hidden": [16]},
///     {"model": "shared_bottom", "bottom_hidden": [128, 64], "tower_hidden": [16]}
///   ],
///   "optimizer": {"kind": "adagrad", "learning_rate": 0.05},
///   "training": {"epochs": 10, "batch_size": 1024, "seed": 0}
/// }
/// ```
///
/// Every section but `data` and `models` has the defaults of `RunConfiguration`;
/// unknown keys are errors. `runConfiguration(for:)` gives each model's own
/// run configuration, named `<name>-<model>`.
@dynamicMemberLookup
public struct ModelComparisonConfiguration: Decodable, Equatable, Sendable {
    /// The sections every model's run shares (`name`, `data`, `optimizer`,
    /// `balancer`, `training`, `stability`, `output`), read and set through
    /// the comparison (`comparison.training.seed`); its `model` is the first
    /// of `models`.
    public var shared: RunConfiguration
    public var models: [ModelConfiguration]

    enum CodingKeys: String, CodingKey, CaseIterable {
        case name, data, models, optimizer, balancer, training, stability, output
    }

    public init(shared: RunConfiguration, models: [ModelConfiguration]) {
        self.shared = shared
        self.models = models
    }

    /// A file without any model is an error (`models needs at least one model`).
    public init(from decoder: Decoder) throws {
        let c = try StrictDecoding.container(decoder, CodingKeys.self, section: "model comparison")
        var models: [ModelConfiguration] = []
        let shared = try RunConfiguration(sectionsOf: decoder, defaultName: "comparison") {
            models = try c.decode([ModelConfiguration].self, forKey: .models)
            guard let first = models.first else { throw Self.noModel }
            return first
        }
        self.init(shared: shared, models: models)
    }

    public subscript<Value>(dynamicMember section: WritableKeyPath<RunConfiguration, Value>) -> Value {
        get { shared[keyPath: section] }
        set { shared[keyPath: section] = newValue }
    }

    static let noModel = RunConfigurationError(file: nil, message: "models needs at least one model")

    /// Reads and decodes a file; errors name the file and the key.
    public static func load(path: String) throws -> ModelComparisonConfiguration {
        try decodeConfigurationFile(ModelComparisonConfiguration.self, path: path)
    }

    /// The run configuration of one model: every shared section with that
    /// `model`, named `<name>-<model kind>`.
    public func runConfiguration(for model: ModelConfiguration) -> RunConfiguration {
        var run = shared
        run.name = "\(shared.name)-\(model.model.rawValue)"
        run.model = model
        return run
    }

    /// Checks that there is at least one model, no architecture twice (the
    /// results are keyed by it), and every model's run configuration.
    public func validate() throws {
        if models.isEmpty { throw Self.noModel }
        let kinds = models.map(\.model.rawValue)
        if Set(kinds).count != kinds.count {
            throw RunConfigurationError(file: nil, message: "models: each architecture at most once, got "
                                        + kinds.joined(separator: ", "))
        }
        for model in models { try runConfiguration(for: model).validate() }
    }
}
