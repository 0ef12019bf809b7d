/// Multi-gate Mixture-of-Experts (ALGORITHMS.md 3.4).
///
///     E_e = Expert_e(x)                  e = 1..n_E   (B × H, ReLU on every layer)
///     p_k = softmax_rows(x Wg_k (+ bg_k))             (B × n_E, task k's gate)
///     f_k = Σ_e p_k[:, e] · E_e                       (B × H)
///     z_k = Tower_k(f_k)                              (B × 1 logit)
///
/// The gates read the model input `x`. The first layers of all experts are one
/// GEMM against the concatenated weights (`experts.0.W`, `D × n_E·h_1`).
///
/// Parameters: `embedding.<field>`, `experts.0.{W,b}` and `experts.<e>.<i>.{W,b}`
/// (shared); `gate.<task>.W` (+ `.b` with `gate_bias`), `tower.<task>.<i>.{W,b}`
/// (task-specific). With `batch_norm` every hidden layer of the experts and
/// towers has `.bn.*` (`Linear → BatchNorm → ReLU → Dropout`), with
/// `gate_batch_norm` every gate `gate.<task>.bn.*` (`Linear → BatchNorm →
/// softmax`, torch-rechub's MMoE; ALGORITHMS.md 3.2.1).
public final class MMoE: IndependentTasksModel, StackedBackwardModel {
    public let configuration: ModelConfiguration
    public let input: EmbeddingInput
    let experts: ExpertGroup
    let gates: [Gate]
    public let towers: [MLP]
    private let logits = Matrix(rows: 0, cols: 0)
    /// `∂L/∂f_k` of each task's tower, `B × H` each (task `k` in block `k`):
    /// `T·B × H`.
    private let mixtureGradient = Matrix(rows: 0, cols: 0)
    public let lossHead: TaskLossHead
    public let parameterSlab: ParameterSlab

    public init(_ configuration: ModelConfiguration) throws {
        try configuration.validate()
        self.configuration = configuration
        input = EmbeddingInput(configuration)
        let d = input.outputSize
        experts = ExpertGroup(name: "experts", count: configuration.experts, inputSize: d,
                              hiddenSizes: configuration.expertHidden, group: .shared,
                              batchNorm: configuration.batchNorm, dropout: configuration.dropout)
        gates = configuration.tasks.enumerated().map { k, task in
            Gate(name: "gate.\(task.name)", inputSize: d, expertCount: configuration.experts,
                 hasBias: configuration.gateBias, group: .task(k), batchNorm: configuration.gateBatchNorm)
        }
        towers = makeTaskTowers(configuration, inputSize: configuration.expertHidden.last!)
        lossHead = TaskLossHead(tasks: configuration.tasks)
        for layer in [experts.first] + gates.map(\.linear) { layer.foldingSource = input }
        parameterSlab = ParameterSlab(parameters: input.parameters + experts.parameters + gates.flatMap { $0.parameters }
                                          + towers.flatMap { $0.parameters })
    }

    public var lastInputGradient: MatrixView { input.outputGradient.view }

    public var taskCount: Int { towers.count }

    public var parameters: [Parameter] { parameterSlab.parameters }

    public var stateTensors: [(name: String, value: Matrix)] {
        experts.stateTensors + gates.flatMap { $0.stateTensors } + towers.flatMap { $0.stateTensors }
    }

    public var lastSharedLayerParameters: [Parameter] { experts.lastLayerWeights }

    /// Task `k`'s gate probabilities of the last forward pass (`B × n_E`).
    public func gateProbabilities(task k: Int) -> MatrixView { gates[k].lastProbabilities }

    public func initialize(using rng: inout RandomGenerator) {
        input.initialize(using: &rng, standardDeviation: configuration.embeddingInitStd, scheme: configuration.linearInit)
        experts.initialize(using: &rng, scheme: configuration.linearInit)
        for g in gates { g.initialize(using: &rng, scheme: configuration.linearInit) }
        for t in towers { t.initialize(using: &rng, scheme: configuration.linearInit) }
    }

    public func forward(_ batch: Batch, mode: ForwardMode) -> MatrixView {
        let x = input.forward(batch)
        experts.forward(x, mode: mode)
        logits.resize(rows: batch.size, cols: taskCount)
        for k in 0..<taskCount {
            let f = gates[k].forward(x, mode: mode, experts: experts.output)
            copyColumn(towers[k].forward(f, mode: mode), into: logits.view, column: k)
        }
        return logits.view
    }

    public func backward(_ upstream: LogitGradients) {
        let batch = upstream.batch
        let stack = upstream.stack
        let all = 0..<(stack * batch)
        experts.beginBackward(rows: all.count)
        let inputGradient = input.beginBackward(stack: stack).view
        mixtureGradient.resize(rows: taskCount * batch, cols: experts.outputSize)
        for k in 0..<taskCount {
            // Tower k (task-specific): ∂L/∂f_k.
            let rows = stackedRows(for: .task(k), stack: stack, batch: batch)
            let df = mixtureGradient.view.rows((k * batch)..<((k + 1) * batch))
            towers[k].backward(upstream.column(k, rows: rows), inputGradient: df)
            // Gate k: adds p_k[:, e]·df into the experts' gradient rows, writes ∂L/∂x.
            // Weighted pass: every gate works on rows 0..<B and the input
            // gradients add up; stacked: gate k writes block k.
            gates[k].backward(df, experts: experts.output,
                              expertGradients: { experts.outputGradient($0, rows: rows) },
                              inputGradient: inputGradient.rows(rows),
                              accumulateInput: stack == 1 && k > 0)
        }
        experts.backward(rows: all, inputGradient: inputGradient, accumulateInput: true)
        input.backward(inputGradient)
    }
}
