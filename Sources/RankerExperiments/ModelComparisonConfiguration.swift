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
public struct ModelComparisonConfiguration: Decodable, Equatable, Sendable {
    public var name: String
    public var data: DataConfiguration
    public var models: [ModelConfiguration]
    public var optimizer: OptimizerConfiguration
    public var balancer: TaskBalancerConfiguration
    public var training: TrainingSettings
    public var stability: StabilitySettings
    public var output: OutputSettings

    enum CodingKeys: String, CodingKey, CaseIterable {
        case name, data, models, optimizer, balancer, training, stability, output
    }

    public init(name: String, data: DataConfiguration, models: [ModelConfiguration],
                optimizer: OptimizerConfiguration = .clippy(learningRate: OptimizerConfiguration.defaultLearningRate),
                balancer: TaskBalancerConfiguration = TaskBalancerConfiguration(),
                training: TrainingSettings = TrainingSettings(), stability: StabilitySettings = StabilitySettings(),
                output: OutputSettings = OutputSettings()) {
        self.name = name
        self.data = data
        self.models = models
        self.optimizer = optimizer
        self.balancer = balancer
        self.training = training
        self.stability = stability
        self.output = output
    }

    public init(from decoder: Decoder) throws {
        let c = try StrictDecoding.container(decoder, CodingKeys.self, section: "model comparison")
        self.init(name: try c.decodeIfPresent(String.self, forKey: .name) ?? "comparison",
                  data: try c.decode(DataConfiguration.self, forKey: .data),
                  models: try c.decode([ModelConfiguration].self, forKey: .models),
                  optimizer: try c.decodeIfPresent(OptimizerConfiguration.self, forKey: .optimizer)
                      ?? .clippy(learningRate: OptimizerConfiguration.defaultLearningRate),
                  balancer: try c.decodeIfPresent(TaskBalancerConfiguration.self, forKey: .balancer)
                      ?? TaskBalancerConfiguration(),
                  training: try c.decodeIfPresent(TrainingSettings.self, forKey: .training) ?? TrainingSettings(),
                  stability: try c.decodeIfPresent(StabilitySettings.self, forKey: .stability) ?? StabilitySettings(),
                  output: try c.decodeIfPresent(OutputSettings.self, forKey: .output) ?? OutputSettings())
    }

    /// Reads and decodes a file; errors name the file and the key.
    public static func load(path: String) throws -> ModelComparisonConfiguration {
        try decodeConfigurationFile(ModelComparisonConfiguration.self, path: path)
    }

    /// The run configuration of one model: every shared section with that
    /// `model`, named `<name>-<model kind>`.
    public func runConfiguration(for model: ModelConfiguration) -> RunConfiguration {
        RunConfiguration(name: "\(name)-\(model.model.rawValue)", data: data, model: model, optimizer: optimizer,
                         balancer: balancer, training: training, stability: stability, output: output)
    }

    /// Checks that there is at least one model, no architecture twice (the
    /// results are keyed by it), and every model's run configuration.
    public func validate() throws {
        if models.isEmpty { throw RunConfigurationError(file: nil, message: "models needs at least one model") }
        let kinds = models.map(\.model.rawValue)
        if Set(kinds).count != kinds.count {
            throw RunConfigurationError(file: nil, message: "models: each architecture at most once, got "
                                        + kinds.joined(separator: ", "))
        }
        for model in models { try runConfiguration(for: model).validate() }
    }
}
