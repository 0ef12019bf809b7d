/// A multitask ranking model with hand-written forward and backward passes.
///
/// One training step (ALGORITHMS.md 7):
/// 1. `forward(batch, mode: .training(dropout:))` → logits `B × T` (evaluation
///    and prediction use `forward(batch)`, the evaluation mode: BatchNorm's
///    running statistics, no dropout; ALGORITHMS.md 3.2.1);
/// 2. `computeLosses(logits:labels:taskGradients:)` → the `T` unweighted mean
///    task losses and, stacked, each task's gradient w.r.t. all logits
///    (`T·B × T`, block `t` = `∂L_t/∂logits`);
/// 3. either `backward(logitGradient:)` with `Σ_t w_t ∂L_t/∂logits` (`B × T`):
///    every parameter gets the gradient of the weighted loss; or
///    `backwardPerTask(taskLogitGradients:)` with the stacked blocks: every
///    shared parameter gets `T` per-task gradients in `taskGradients` and every
///    task-specific parameter its own task's gradient (see `Parameter`). The
///    shared part runs once over `T·B` stacked rows (one GEMM per Dense).
public protocol MultiTaskModel: AnyObject {
    var configuration: ModelConfiguration { get }
    /// Number of task losses `T`.
    var taskCount: Int { get }
    /// The input layer that builds `x` (ALGORITHMS.md 3.1); its `folding`
    /// says whether the layers reading `x` fold their product into the
    /// embeddings (ALGORITHMS.md 3.1.1).
    var input: EmbeddingInput { get }
    /// Every parameter, in a stable order (checkpoints and optimizers use it):
    /// `parameterSlab.parameters`.
    var parameters: [Parameter] { get }
    /// Non-trainable state saved and restored with the parameters: the
    /// BatchNorm running statistics (`<layer>.bn.running_mean`,
    /// `<layer>.bn.running_var`, `1 × n`), in a stable order; empty without
    /// BatchNorm. No gradient, no optimizer.
    var stateTensors: [(name: String, value: Matrix)] { get }
    /// The dense parameters and gradients in contiguous slabs, and the
    /// `T × d` per-task gradients of the shared ones (built by the model's
    /// initializer from `parameters`).
    var parameterSlab: ParameterSlab { get }
    /// GradNorm's default `W` (ALGORITHMS.md 5.3): the weights of the last shared layer.
    var lastSharedLayerParameters: [Parameter] { get }
    /// Names of the prediction columns (`T` of them; ESMM: pCTR, pCVR, pCTCVR).
    var outputNames: [String] { get }

    /// Seeded initialisation: Glorot-uniform weights, zero biases, embeddings `N(0, σ²)`.
    func initialize(using rng: inout RandomGenerator)

    /// Logits `B × T` for `batch` (valid until the next forward). `mode`
    /// decides BatchNorm's statistics and dropout (`ForwardMode`); a training
    /// pass moves the running statistics.
    func forward(_ batch: Batch, mode: ForwardMode) -> MatrixView

    /// Per-task mean losses (unweighted) and their logit gradients.
    ///
    /// - Parameters:
    ///   - logits: `B × T` from `forward`.
    ///   - labels: `B × L` label columns of the batch.
    ///   - taskGradients: resized to `T·B × T`; block `t` receives `∂L_t/∂logits`.
    ///   - losses: receives the `T` losses (`losses.count == T`; no allocation).
    func computeLosses(logits: MatrixView, labels: MatrixView, taskGradients: Matrix, into losses: inout [Double])

    /// One backward pass of the weighted loss from `∂L/∂logits` (`B × T`).
    func backward(logitGradient: MatrixView)

    /// The multi-gradient pass from the stacked per-task logit gradients
    /// (`T·B × T`, unit weights). Needs `T ≥ 2`.
    func backwardPerTask(taskLogitGradients: MatrixView)

    /// `∂L/∂x` of the last backward pass (`B × D`, or `T·B × D` stacked after
    /// `backwardPerTask`), where `x` is the model input of ALGORITHMS.md 3.1.
    /// When the batch was folded (`input.folding`), the sparse fields' columns
    /// hold only what layers that did not fold wrote (the tables' gradients
    /// are complete either way); with `.never` they are all of `∂L/∂x`.
    var lastInputGradient: MatrixView { get }

    /// Predictions from logits into `output` (`B × outputNames.count`):
    /// probabilities for binary tasks, raw values for regression tasks.
    func predict(logits: MatrixView, into output: MatrixView)
}

extension MultiTaskModel {
    /// Logits in evaluation mode (running statistics, no dropout): what
    /// evaluation, prediction and export compute. Changes no state.
    public func forward(_ batch: Batch) -> MatrixView { forward(batch, mode: .evaluation) }

    /// The parameters' values and the state tensors, by name: everything a
    /// checkpoint, an export or the kept best state saves of the model.
    public var savedTensors: [(name: String, value: Matrix)] {
        parameters.map { (name: $0.name, value: $0.value) } + stateTensors
    }

    /// The parameter with the given name, if any.
    public func parameter(named name: String) -> Parameter? {
        parameters.first { $0.name == name }
    }

    /// Per-task mean losses (allocating convenience over `computeLosses(…, into:)`).
    public func computeLosses(logits: MatrixView, labels: MatrixView, taskGradients: Matrix) -> [Double] {
        var losses = [Double](repeating: 0, count: taskCount)
        computeLosses(logits: logits, labels: labels, taskGradients: taskGradients, into: &losses)
        return losses
    }

    /// Number of trainable scalars.
    public var parameterCount: Int { parameters.reduce(0) { $0 + $1.count } }
}

/// Builds the model a configuration describes (validating it first).
public func makeModel(_ configuration: ModelConfiguration) throws -> MultiTaskModel {
    switch configuration.model {
    case .sharedBottom: return try SharedBottom(configuration)
    case .mmoe: return try MMoE(configuration)
    case .ple: return try PLE(configuration)
    case .esmm: return try ESMM(configuration)
    }
}

/// The rows of a stacked gradient buffer a component reads and writes.
///
/// In the weighted pass (`stack == 1`) every component works on rows
/// `0..<B`. In the multi-gradient pass (`stack == T`) a shared component works
/// on all `T·B` rows, and a component specific to task `k` only on block `k`
/// (only task `k`'s loss reaches it, so the other blocks are zero).
@inlinable
func stackedRows(for group: ParameterGroup, stack: Int, batch: Int) -> Range<Int> {
    if stack == 1 { return 0..<batch }
    switch group {
    case .shared: return 0..<(stack * batch)
    case .task(let k): return (k * batch)..<((k + 1) * batch)
    }
}

/// The upstream logit gradients of a backward pass: `B × T` (the weighted
/// pass, `stack == 1`) or `T·B × T` (the multi-gradient pass, `stack == T`,
/// block `t` = `∂L_t/∂logits`).
public struct LogitGradients {
    public let matrix: MatrixView
    /// 1 or `T`.
    public let stack: Int
    public let batch: Int

    public init(matrix: MatrixView, stack: Int) {
        precondition(stack >= 1 && matrix.rows % stack == 0, "LogitGradients: \(matrix.rows) rows, stack \(stack)")
        self.matrix = matrix
        self.stack = stack
        batch = matrix.rows / stack
    }

    /// Gradient of logit column `column` coming from the losses that the rows
    /// `rows` stand for (`B` or `T·B` rows, see `stackedRows`).
    public func column(_ column: Int, rows: Range<Int>) -> MatrixView {
        matrix.rows(rows).cols(column..<(column + 1))
    }
}

/// A model whose weighted and multi-gradient backward passes are one routine
/// over 1 or `T` stacked copies of the upstream gradient.
public protocol StackedBackwardModel: MultiTaskModel {
    /// Backward from `upstream` (either pass): writes every parameter gradient.
    func backward(_ upstream: LogitGradients)
}

extension StackedBackwardModel {
    public func backward(logitGradient: MatrixView) {
        backward(LogitGradients(matrix: logitGradient, stack: 1))
    }

    public func backwardPerTask(taskLogitGradients: MatrixView) {
        precondition(taskCount >= 2, "the multi-gradient pass needs at least two tasks")
        backward(LogitGradients(matrix: taskLogitGradients, stack: taskCount))
    }
}

/// A model whose tasks are independent: task `t`'s loss reads logit column `t`
/// and label column `t` only (Shared-Bottom, MMoE, PLE).
public protocol IndependentTasksModel: MultiTaskModel {
    var lossHead: TaskLossHead { get }
}

extension IndependentTasksModel {
    public var outputNames: [String] { configuration.tasks.map(\.name) }

    public func computeLosses(logits: MatrixView, labels: MatrixView, taskGradients: Matrix,
                              into losses: inout [Double]) {
        lossHead.computeLosses(logits: logits, labels: labels, taskGradients: taskGradients, into: &losses)
    }

    public func predict(logits: MatrixView, into output: MatrixView) {
        lossHead.predict(logits: logits, into: output)
    }
}

/// Writes the `B × 1` output of task `k`'s tower into logit column `k`.
@inlinable
func copyColumn(_ source: MatrixView, into logits: MatrixView, column: Int) {
    for b in 0..<source.rows { logits[b, column] = source[b, 0] }
}

/// The weighted logit gradient `Σ_t w_t ∂L_t/∂logits` (`B × T`) from the
/// stacked task gradients of `computeLosses` (`T·B × T`): the input of
/// `MultiTaskModel.backward(logitGradient:)` for loss weights `w`.
///
/// `output` is resized to `B × T` (no allocation once it has the capacity).
public func weightedLogitGradient(taskGradients: MatrixView, weights: [Double], into output: Matrix) {
    let taskCount = taskGradients.cols
    precondition(weights.count == taskCount && taskGradients.rows % max(taskCount, 1) == 0,
                 "weightedLogitGradient: \(weights.count) weights for \(taskCount) tasks")
    let batch = taskGradients.rows / taskCount
    output.resize(rows: batch, cols: taskCount)
    output.fill(0)
    let out = output.view
    for t in 0..<taskCount {
        let w = Float(weights[t])
        if w == 0 { continue }
        for b in 0..<batch {
            let src = taskGradients.row(t * batch + b)
            let dst = out.row(b)
            for j in 0..<taskCount { dst[j] += w * src[j] }
        }
    }
}
