/// The task towers of Shared-Bottom, MMoE and PLE (ALGORITHMS.md 3.3–3.5):
/// one MLP per task, `tower.<task>`, over the `inputSize`-wide representation
/// that task receives, hidden sizes `tower_hidden`, one logit out, in the
/// task's parameter group, with the model's BatchNorm and dropout options.
func makeTaskTowers(_ configuration: ModelConfiguration, inputSize: Int) -> [MLP] {
    configuration.tasks.enumerated().map { k, task in
        MLP(name: "tower.\(task.name)", inputSize: inputSize, hiddenSizes: configuration.towerHidden,
            outputSize: 1, group: .task(k), batchNorm: configuration.batchNorm, dropout: configuration.dropout)
    }
}
