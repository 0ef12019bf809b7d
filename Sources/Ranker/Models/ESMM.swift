/// Entire Space Multi-task Model (ALGORITHMS.md 3.6).
///
///     x      = [embeddings, dense]            (both towers read the same x)
///     a      = CTR_Tower(x),  b = CVR_Tower(x)          (logits, B × 1 each)
///     pCTR   = σ(a), pCVR = σ(b), pCTCVR = pCTR · pCVR
///     L_ctr   = mean_b BCE(click_b, a_b)
///     L_ctcvr = mean_b CE(click_b · conversion_b, pCTCVR_b)     (log space, ALGORITHMS.md 1.2)
///
/// Tasks (as the weighting layer sees them): `ctr` and `ctcvr`. Logit columns:
/// `a` and `b`. Label columns: click and conversion (conversion counts only
/// on clicked impressions: the CTCVR label is `click · conversion`).
/// There is no loss on pCVR; the CVR tower learns only through `L_ctcvr`.
///
/// Both losses reach the CTR tower, so it is shared (with the embeddings);
/// the CVR tower is specific to `ctcvr` (ALGORITHMS.md 3.7).
/// Parameters: `embedding.<field>`, `tower.ctr.<i>.{W,b}` (shared),
/// `tower.cvr.<i>.{W,b}` (task 1); with `batch_norm` each hidden layer's
/// `.bn.*` (ALGORITHMS.md 3.2.1). ESMM has no gates (`gate_batch_norm` is
/// not used).
public final class ESMM: StackedBackwardModel {
    public let configuration: ModelConfiguration
    public let input: EmbeddingInput
    public let ctrTower: MLP
    public let cvrTower: MLP
    private let logits = Matrix(rows: 0, cols: 0)
    /// `click · conversion`: `B × 1`.
    private let ctcvrLabels = Matrix(rows: 0, cols: 0)
    public let parameterSlab: ParameterSlab

    public init(_ configuration: ModelConfiguration) throws {
        try configuration.validate()
        self.configuration = configuration
        input = EmbeddingInput(configuration)
        ctrTower = MLP(name: "tower.ctr", inputSize: input.outputSize, hiddenSizes: configuration.towerHidden,
                       outputSize: 1, group: .shared, batchNorm: configuration.batchNorm, dropout: configuration.dropout)
        cvrTower = MLP(name: "tower.cvr", inputSize: input.outputSize, hiddenSizes: configuration.towerHidden,
                       outputSize: 1, group: .task(1), batchNorm: configuration.batchNorm, dropout: configuration.dropout)
        for tower in [ctrTower, cvrTower] { tower.layers[0].foldingSource = input }
        parameterSlab = ParameterSlab(parameters: input.parameters + ctrTower.parameters + cvrTower.parameters)
    }

    public var lastInputGradient: MatrixView { input.outputGradient.view }

    public var taskCount: Int { 2 }
    public var outputNames: [String] { ["ctr", "cvr", "ctcvr"] }

    public var parameters: [Parameter] { parameterSlab.parameters }

    public var stateTensors: [(name: String, value: Matrix)] { ctrTower.stateTensors + cvrTower.stateTensors }

    /// The CTR tower's last hidden Linear weight (its output layer when it has no hidden layer).
    public var lastSharedLayerParameters: [Parameter] {
        let layers = ctrTower.layers
        return [layers.count >= 2 ? layers[layers.count - 2].weight : layers[0].weight]
    }

    public func initialize(using rng: inout RandomGenerator) {
        input.initialize(using: &rng, standardDeviation: configuration.embeddingInitStd, scheme: configuration.linearInit)
        ctrTower.initialize(using: &rng, scheme: configuration.linearInit)
        cvrTower.initialize(using: &rng, scheme: configuration.linearInit)
    }

    public func forward(_ batch: Batch, mode: ForwardMode) -> MatrixView {
        let x = input.forward(batch)
        logits.resize(rows: batch.size, cols: 2)
        copyColumn(ctrTower.forward(x, mode: mode), into: logits.view, column: 0)
        copyColumn(cvrTower.forward(x, mode: mode), into: logits.view, column: 1)
        return logits.view
    }

    /// `L_ctr` (block 0: only column `a`) and `L_ctcvr` (block 1: columns `a` and `b`).
    public func computeLosses(logits: MatrixView, labels: MatrixView, taskGradients: Matrix,
                              into losses: inout [Double]) {
        let batch = logits.rows
        precondition(logits.cols == 2 && labels.rows == batch && labels.cols >= 2 && losses.count == 2,
                     "ESMM loss: logits \(logits.rows)×\(logits.cols), labels \(labels.rows)×\(labels.cols)")
        taskGradients.resize(rows: 2 * batch, cols: 2)
        taskGradients.fill(0)
        let g = taskGradients.view
        // CTCVR label: click AND conversion (a conversion without a click does not count).
        ctcvrLabels.resize(rows: batch, cols: 1)
        for b in 0..<batch { ctcvrLabels[b, 0] = labels[b, 0] * labels[b, 1] }
        losses[0] = BinaryCrossEntropy.meanLoss(logits: logits.cols(0..<1), labels: labels.cols(0..<1),
                                                gradient: g.rows(0..<batch).cols(0..<1))
        let block = g.rows(batch..<(2 * batch))
        losses[1] = CTCVRCrossEntropy.meanLoss(ctrLogits: logits.cols(0..<1), cvrLogits: logits.cols(1..<2),
                                               labels: ctcvrLabels.view,
                                               ctrGradient: block.cols(0..<1), cvrGradient: block.cols(1..<2))
    }

    /// pCTR, pCVR, pCTCVR.
    public func predict(logits: MatrixView, into output: MatrixView) {
        precondition(output.rows == logits.rows && output.cols == 3)
        for b in 0..<logits.rows {
            let p = sigmoid(logits[b, 0])
            let q = sigmoid(logits[b, 1])
            output[b, 0] = p
            output[b, 1] = q
            output[b, 2] = p * q
        }
    }

    public func backward(_ upstream: LogitGradients) {
        let batch = upstream.batch
        let all = 0..<(upstream.stack * batch)
        let inputGradient = input.beginBackward(stack: upstream.stack).view
        // CTR tower: ∂L/∂a from both losses (shared); CVR tower: ∂L/∂b from L_ctcvr only.
        ctrTower.backward(upstream.column(0, rows: all), inputGradient: inputGradient)
        let cvrRows = stackedRows(for: .task(1), stack: upstream.stack, batch: batch)
        cvrTower.backward(upstream.column(1, rows: cvrRows), inputGradient: inputGradient.rows(cvrRows),
                          accumulateInput: true)
        input.backward(inputGradient)
    }
}
