import CRankerKernels
import Foundation

/// BatchNorm1d over the columns of a `B × n` pre-activation, with PyTorch's
/// semantics (ALGORITHMS.md 3.2.1). Forward and backward run in place.
///
/// Training mode, per column `j`, statistics in double-precision accumulators
/// (two passes: the mean, then the squared deviations):
///
///     mu_j  = mean_b z[b, j]
///     var_j = mean_b (z[b, j] - mu_j)²                 (biased)
///     inv_j = 1 / sqrt(var_j + eps)                    eps = 1e-5
///     xhat  = (z - mu) · inv
///     y     = gamma · xhat + beta
///     running_mean ← (1 - m) running_mean + m mu                 m = 0.1
///     running_var  ← (1 - m) running_var  + m var B / (B - 1)    (unbiased)
///
/// Evaluation mode uses `mu = running_mean`, `inv = 1 / sqrt(running_var + eps)`
/// and changes nothing (a fixed affine map).
///
/// Backward from `dY` (`S·B × n`: `S` stacked copies, as in `Dense`), for each
/// block `s` of `B` rows separately and with the statistics of the one forward
/// pass (the per-task rule of 3.2.1):
///
///     dbeta_s  = Σ_b dy;      dgamma_s = Σ_b dy · xhat
///     training:    dz = gamma · inv · (dy - dbeta_s / B - xhat · dgamma_s / B)
///     evaluation:  dz = gamma · inv · dy
///
/// which is the spec's `dz = inv/B (B dxhat - Σ dxhat - xhat Σ dxhat·xhat)`
/// with `dxhat = dy · gamma`.
///
/// `gamma` and `beta` (`<name>.gamma`, `<name>.beta`, `1 × n`, init 1 and 0)
/// are parameters of the layer's group, their gradients routed like a Dense
/// bias's (`writeStackedGradients`). The running statistics
/// (`<name>.running_mean`, `<name>.running_var`, `1 × n`, init 0 and 1) are
/// state: no gradient, no optimizer, but saved and restored with the model
/// (`stateTensors`).
///
/// With a `replicaReduction` (data-parallel training) the training-mode sums
/// run over the global batch of all replicas: `B` is the global row count and
/// `Σ_b` adds every replica's rows (`BatchStatisticsReduction`).
public final class BatchNorm {
    /// PyTorch's `momentum`: the weight of the new batch in the running statistics.
    public static let momentum = 0.1
    public static let epsilon = 1e-5

    public let name: String
    public let width: Int
    public let gamma: Parameter
    public let beta: Parameter
    public let runningMean: Matrix
    public let runningVariance: Matrix
    /// `xhat` of the last forward pass: `B × n`.
    private let normalized = Matrix(rows: 0, cols: 0)
    /// Whether the last forward pass ran in training mode.
    private var trainedLastForward = false
    /// Sums the training-mode statistics over data-parallel replicas (`nil`: this batch alone).
    public weak var replicaReduction: BatchStatisticsReduction?
    /// `B` of the last training forward pass: the local rows, or the global
    /// rows of all replicas with a reduction.
    private var statisticsRows = 0.0
    /// `5n` doubles: `mu` and `inv` of the last forward pass, then the two
    /// per-block sums of the backward pass (`Σ dy`, `Σ dy · xhat`) and
    /// `gamma · inv`.
    private let accumulators: UnsafeMutablePointer<Double>

    /// - Parameter name: the tensor-name prefix (an MLP's hidden layer `m.i` uses `m.i.bn`).
    public init(name: String, width: Int, group: ParameterGroup) {
        precondition(width > 0, "BatchNorm \(name): width must be positive")
        self.name = name
        self.width = width
        gamma = Parameter(name: name + ".gamma", rows: 1, cols: width, group: group)
        beta = Parameter(name: name + ".beta", rows: 1, cols: width, group: group)
        runningMean = Matrix(rows: 1, cols: width)
        runningVariance = Matrix(rows: 1, cols: width)
        accumulators = .allocate(capacity: 5 * width)
        accumulators.initialize(repeating: 0, count: 5 * width)
        initialize()
    }

    deinit { accumulators.deallocate() }

    /// `[gamma, beta]`.
    public var parameters: [Parameter] { [gamma, beta] }

    /// The running statistics, by tensor name.
    public var stateTensors: [(name: String, value: Matrix)] {
        [(name: name + ".running_mean", value: runningMean), (name: name + ".running_var", value: runningVariance)]
    }

    /// PyTorch's initial state: `gamma = 1`, `beta = 0`, `running_mean = 0`,
    /// `running_var = 1` (draws nothing).
    public func initialize() {
        gamma.value.fill(1)
        beta.value.fill(0)
        runningMean.fill(0)
        runningVariance.fill(1)
    }

    /// `z` (`B × n`) ← `y`, or `max(y, 0)` with `relu` (the ReLU that follows
    /// a hidden layer's BatchNorm, in the same pass: `ReLU.forward` on `y`
    /// gives the same numbers). Training mode needs `B ≥ 2` and moves the
    /// running statistics; evaluation mode changes no state but the saved `xhat`.
    public func forward(_ z: MatrixView, mode: ForwardMode, relu: Bool = false) {
        let batch = z.rows
        let n = width
        precondition(z.cols == n, "BatchNorm \(name): input has \(z.cols) columns, the layer \(n)")
        let mean = accumulators
        let inverse = accumulators + n
        trainedLastForward = mode.isTraining
        if trainedLastForward {
            let reduction = replicaReduction
            precondition(reduction != nil || batch >= 2, "BatchNorm \(name): a training batch needs at least 2 rows, got \(batch)")
            let squares = accumulators + 2 * n
            mean.update(repeating: 0, count: n)
            squares.update(repeating: 0, count: n)
            ranker_bn_column_sums(z.data, z.ld, batch, n, mean)
            var rows = Double(batch)
            if let reduction {
                reduction.sum(mean, count: n)
                reduction.sum(&rows, count: 1)
                precondition(rows >= 2, "BatchNorm \(name): a training batch needs at least 2 rows, got \(rows) over all replicas")
            }
            statisticsRows = rows
            for j in 0..<n { mean[j] /= rows }
            ranker_bn_squared_deviations(z.data, z.ld, batch, n, mean, squares)
            reduction?.sum(squares, count: n)
            let m = BatchNorm.momentum
            let rm = runningMean.data
            let rv = runningVariance.data
            for j in 0..<n {
                let variance = squares[j] / rows
                inverse[j] = 1 / (variance + BatchNorm.epsilon).squareRoot()
                rm[j] = Float((1 - m) * Double(rm[j]) + m * mean[j])
                rv[j] = Float((1 - m) * Double(rv[j]) + m * variance * rows / (rows - 1))
            }
        } else {
            for j in 0..<n {
                mean[j] = Double(runningMean.data[j])
                inverse[j] = 1 / (Double(runningVariance.data[j]) + BatchNorm.epsilon).squareRoot()
            }
        }
        normalized.resize(rows: batch, cols: n)
        let xhat = normalized.view
        // xhat = Float((z − mu) · inv); z = gamma · xhat + beta (CRankerKernels).
        ranker_bn_normalize(z.data, z.ld, xhat.data, xhat.ld, batch, n, mean, inverse,
                            gamma.value.data, beta.value.data, relu ? 1 : 0)
    }

    /// `gradient` (`S·B × n`, `S` stacked copies of `∂L/∂y`) ← `∂L/∂z`, block
    /// by block; writes the gradients of `gamma` and `beta` (see the type's
    /// documentation). With `reluOutput` (`B × n`, the output of a ReLU after
    /// this layer, the forward pass's `relu`) each block is first masked by
    /// `reluOutput > 0`, as `ReLU.backward` would (the same numbers).
    public func backward(_ gradient: MatrixView, reluOutput: MatrixView? = nil) {
        let batch = normalized.rows
        let n = width
        precondition(batch > 0 && gradient.cols == n && gradient.rows % batch == 0,
                     "BatchNorm \(name) backward: gradient \(gradient.rows)×\(gradient.cols) does not stack batches of \(batch) × \(n)")
        let stack = gradient.rows / batch
        if let reluOutput {
            precondition(reluOutput.rows == batch && reluOutput.cols == n,
                         "BatchNorm \(name) backward: ReLU output \(reluOutput.rows)×\(reluOutput.cols), expected \(batch) × \(n)")
        }
        let inverse = accumulators + n
        let sumDy = accumulators + 2 * n
        let sumDyXhat = accumulators + 3 * n
        let scale = accumulators + 4 * n
        let xhat = normalized.view
        let g = gamma.value.data
        let count = trainedLastForward ? statisticsRows : Double(batch)
        for j in 0..<n { scale[j] = Double(g[j]) * inverse[j] }
        gamma.beginStackedGradients(stack: stack)
        beta.beginStackedGradients(stack: stack)
        for s in 0..<stack {
            let block = gradient.rows(s * batch ..< (s + 1) * batch)
            sumDy.update(repeating: 0, count: n)
            sumDyXhat.update(repeating: 0, count: n)
            ranker_bn_gradient_sums(block.data, block.ld, xhat.data, xhat.ld, reluOutput?.data, reluOutput?.ld ?? 0,
                                    batch, n, sumDy, sumDyXhat)
            if let d = gamma.stackedGradientDestination(block: s, stack: stack) {
                for j in 0..<n { d.data[j] = Float(sumDyXhat[j]) }
            }
            if let d = beta.stackedGradientDestination(block: s, stack: stack) {
                for j in 0..<n { d.data[j] = Float(sumDy[j]) }
            }
            if trainedLastForward {
                // Global sums (gamma and beta keep the local ones: the trainer adds the replicas' gradients).
                replicaReduction?.sum(sumDy, count: 2 * n)
                // dz = scale·dy − scale·Σdy/B − xhat · scale·Σ(dy·xhat)/B, the two terms per column first.
                for j in 0..<n {
                    sumDy[j] = scale[j] * sumDy[j] / count
                    sumDyXhat[j] = scale[j] * sumDyXhat[j] / count
                }
                // dy ← Float(scale·dy − term₁ − xhat · term₂) (CRankerKernels).
                ranker_bn_input_gradient(block.data, block.ld, xhat.data, xhat.ld, batch, n, scale, sumDy, sumDyXhat)
            } else {
                // dy ← Float(scale · dy).
                ranker_bn_input_gradient(block.data, block.ld, nil, 0, batch, n, scale, nil, nil)
            }
        }
    }
}
