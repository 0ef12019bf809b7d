/// Shared-Bottom (ALGORITHMS.md 3.3): one bottom MLP shared by all tasks, one tower per task.
///
///     x   = [embeddings, dense]                 (B × D)
///     s   = Bottom(x)                           (B × H, ReLU on every layer)
///     z_k = Tower_k(s)                          (B × 1 logit)
///
/// Backward: `ds = Σ_k ∂Tower_k/∂s` (weighted pass) or the `T` per-task `ds_k`
/// stacked (multi-gradient pass), then through the bottom and the embeddings.
///
/// Parameters: `embedding.<field>`, `bottom.<i>.{W,b}` (shared),
/// `tower.<task>.<i>.{W,b}` (task-specific); with `batch_norm`, every hidden
/// layer's `.bn.{gamma,beta}` in its group and `.bn.{running_mean,running_var}`
/// state (ALGORITHMS.md 3.2.1).
public final class SharedBottom: IndependentTasksModel, StackedBackwardModel {
    public let configuration: ModelConfiguration
    public let input: EmbeddingInput
    public let bottom: MLP
    public let towers: [MLP]
    private let logits = Matrix(rows: 0, cols: 0)
    /// `∂L/∂s`, stacked: `S·B × H`.
    private let bottomGradient = Matrix(rows: 0, cols: 0)
    public let lossHead: TaskLossHead
    public let parameterSlab: ParameterSlab

    public init(_ configuration: ModelConfiguration) throws {
        try configuration.validate()
        self.configuration = configuration
        input = EmbeddingInput(configuration)
        bottom = MLP(name: "bottom", inputSize: input.outputSize, hiddenSizes: configuration.bottomHidden, group: .shared,
                     batchNorm: configuration.batchNorm, dropout: configuration.dropout)
        towers = makeTaskTowers(configuration, inputSize: configuration.bottomHidden.last!)
        lossHead = TaskLossHead(tasks: configuration.tasks)
        bottom.layers[0].foldingSource = input
        parameterSlab = ParameterSlab(parameters: input.parameters + bottom.parameters + towers.flatMap { $0.parameters })
    }

    public var lastInputGradient: MatrixView { input.outputGradient.view }

    public var taskCount: Int { towers.count }

    public var parameters: [Parameter] { parameterSlab.parameters }

    public var stateTensors: [(name: String, value: Matrix)] {
        bottom.stateTensors + towers.flatMap { $0.stateTensors }
    }

    public var lastSharedLayerParameters: [Parameter] { [bottom.layers.last!.weight] }

    public func initialize(using rng: inout RandomGenerator) {
        input.initialize(using: &rng, standardDeviation: configuration.embeddingInitStd, scheme: configuration.linearInit)
        bottom.initialize(using: &rng, scheme: configuration.linearInit)
        for t in towers { t.initialize(using: &rng, scheme: configuration.linearInit) }
    }

    public func forward(_ batch: Batch, mode: ForwardMode) -> MatrixView {
        let x = input.forward(batch)
        let s = bottom.forward(x, mode: mode)
        logits.resize(rows: batch.size, cols: taskCount)
        for (k, tower) in towers.enumerated() {
            copyColumn(tower.forward(s, mode: mode), into: logits.view, column: k)
        }
        return logits.view
    }

    public func backward(_ upstream: LogitGradients) {
        let batch = upstream.batch
        let stack = upstream.stack
        let all = 0..<(stack * batch)
        bottomGradient.resize(rows: all.count, cols: bottom.outputSize)
        for (k, tower) in towers.enumerated() {
            let rows = stackedRows(for: .task(k), stack: stack, batch: batch)
            // Weighted pass: the towers add into one ds; stacked: each its own block.
            tower.backward(upstream.column(k, rows: rows),
                           inputGradient: bottomGradient.view.rows(rows),
                           accumulateInput: stack == 1 && k > 0)
        }
        let inputGradient = input.beginBackward(stack: stack).view
        bottom.backward(bottomGradient.view, inputGradient: inputGradient)
        input.backward(inputGradient)
    }
}
