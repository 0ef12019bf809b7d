import CRankerKernels
import Foundation

/// A fully connected layer `y = x W + b` (ALGORITHMS.md 3.2).
///
/// Storage: `W` is `inputSize × outputSize` row-major (ALGORITHMS.md conventions: `in × out`
/// layout, so column `j` of `W` holds the weights of output unit `j`), `b` is
/// `1 × outputSize`. Both are `Parameter`s named `<name>.W` and `<name>.b`.
///
/// Shapes: `x` is `B × in`, `y` is `B × out`. In backward, `dY` may hold `S`
/// stacked copies of the upstream gradient (`S·B × out`, copy `t` in rows
/// `t·B ..< (t+1)·B`): this is the multi-gradient pass, where `S` is the number
/// of tasks. Then `dX = dY Wᵀ` is still one GEMM over all `S·B` rows, a shared
/// parameter receives `S` per-task gradients in `taskGradients` (for a model's
/// tensor: its columns of the model's `TaskGradientMatrix`), and a parameter
/// specific to task `k` receives block `k`'s gradient in `grad`.
public final class Dense {
    public let inputSize: Int
    public let outputSize: Int
    /// `inputSize × outputSize`.
    public let weight: Parameter
    /// `1 × outputSize`, or `nil` for a bias-free layer.
    public let bias: Parameter?

    /// The input of the last forward pass (a view into the caller's buffer,
    /// which must stay untouched until `backward`).
    private var input: MatrixView?
    /// The model input this layer reads, when a model set it: then a batch
    /// that `source.folding` folds is multiplied through its distinct
    /// embedding rows (`DistinctRowProduct`, ALGORITHMS.md 3.1.1).
    var foldingSource: EmbeddingInput? {
        didSet { foldedProduct = foldingSource == nil ? nil : DistinctRowProduct() }
    }
    private var foldedProduct: DistinctRowProduct?
    /// Whether the last forward pass was folded.
    private var foldedLastForward = false

    public init(name: String, inputSize: Int, outputSize: Int, group: ParameterGroup, hasBias: Bool = true) {
        precondition(inputSize > 0 && outputSize > 0, "Dense \(name): sizes must be positive")
        self.inputSize = inputSize
        self.outputSize = outputSize
        weight = Parameter(name: name + ".W", rows: inputSize, cols: outputSize, group: group)
        bias = hasBias ? Parameter(name: name + ".b", rows: 1, cols: outputSize, group: group) : nil
    }

    /// The layer's parameters: `[W, b]` (or `[W]`).
    public var parameters: [Parameter] { bias.map { [weight, $0] } ?? [weight] }

    /// Weights and bias drawn as `scheme` says (ALGORITHMS.md 3.2; by default
    /// Glorot-uniform weights, `U(-a, a)` with `a = sqrt(6 / (fanIn + fanOut))`,
    /// and a zero bias), with the fans of the layer's own sizes unless given: a
    /// layer that holds several concatenated layers side by side (MMoE's first
    /// expert layer) passes the fan of one of them.
    public func initialize(using rng: inout RandomGenerator, fanIn: Int? = nil, fanOut: Int? = nil,
                           scheme: LinearInitialization = .glorotUniform) {
        let (a, biasBound) = scheme.bounds(fanIn: fanIn ?? inputSize, fanOut: fanOut ?? outputSize)
        let w = weight.value.data
        for i in 0..<weight.count { w[i] = Float(rng.uniform(-a, a)) }
        guard let bias else { return }
        if biasBound == 0 {
            bias.value.fill(0)
        } else {
            let b = bias.value.data
            for i in 0..<bias.count { b[i] = Float(rng.uniform(-biasBound, biasBound)) }
        }
    }

    /// `y = x W + b`. `x`: `B × in`, `y`: `B × out` (overwritten).
    public func forward(_ x: MatrixView, into y: MatrixView) {
        precondition(x.cols == inputSize && y.cols == outputSize && y.rows == x.rows,
                     "Dense forward: x \(x.rows)×\(x.cols), y \(y.rows)×\(y.cols), layer \(inputSize)→\(outputSize)")
        input = x
        if let b = bias {
            let bp = b.value.data
            for r in 0..<y.rows { y.row(r).update(from: bp, count: outputSize) }
        }
        if let source = foldingSource, source.foldsProduct(of: x), let product = foldedProduct {
            foldedLastForward = true
            if bias == nil { y.fill(0) }
            product.forward(x, weight: weight.value.view, source: source, into: y)
        } else {
            foldedLastForward = false
            BLAS.gemm(x, weight.value.view, into: y, beta: bias == nil ? 0 : 1)
        }
    }

    /// Backward from `dY` (`S·B × out`, `S ≥ 1` stacked copies).
    ///
    /// Writes the parameter gradients (see the type's documentation) and, when
    /// `dX` is given (`S·B × in`), the input gradient `dX = dY Wᵀ`; with
    /// `accumulateInput` it is added to what `dX` holds.
    public func backward(_ dY: MatrixView, inputGradient dX: MatrixView?, accumulateInput: Bool = false) {
        guard let x = input else { preconditionFailure("Dense backward called before forward") }
        let batch = x.rows
        precondition(dY.cols == outputSize && batch > 0 && dY.rows % batch == 0,
                     "Dense backward: dY \(dY.rows)×\(dY.cols) does not stack batches of \(batch) × \(outputSize)")
        let stack = dY.rows / batch
        if let dX { precondition(dX.rows == dY.rows && dX.cols == inputSize, "Dense backward: dX must be \(dY.rows) × \(inputSize)") }
        if foldedLastForward, let source = foldingSource, let product = foldedProduct {
            product.backward(x, upstream: dY, weight: weight, source: source, inputGradient: dX,
                             accumulateInput: accumulateInput)
        } else {
            weight.writeStackedGradients(stack: stack) { t, destination in
                // dW = xᵀ dY_t   (in × B)(B × out)
                BLAS.gemm(x, dY.rows(t * batch ..< (t + 1) * batch), into: destination, transposeA: true)
            }
            if let dX {
                // dX = dY Wᵀ over all stacked rows in one GEMM.
                BLAS.gemm(dY, weight.value.view, into: dX, transposeB: true, beta: accumulateInput ? 1 : 0)
            }
        }
        if let b = bias {
            b.writeStackedGradients(stack: stack) { t, destination in
                columnSums(of: dY.rows(t * batch ..< (t + 1) * batch), into: destination.data)
            }
        }
    }
}

/// `sums[c] = Σ_r v[r, c]` in single precision, rows added in order
/// (overwrites `sums`, `v.cols` entries; `ranker_column_sums` of CRankerKernels).
public func columnSums(of v: MatrixView, into sums: UnsafeMutablePointer<Float>) {
    ranker_column_sums(v.data, v.ld, v.rows, v.cols, sums)
}
