/// A softmax gate and the mixture it produces (ALGORITHMS.md 3.4):
///
///     a = u Wg (+ bg)            (B × n gate logits; u is the gate's input)
///     p = softmax_rows(a)
///     f = Σ_e p[:, e] · E_e      (B × H)
///
/// Backward, for an upstream `df` over some stacked rows:
///
///     dp[r, e] = <df[r, :], E_e[r mod B, :]>
///     dE_e    += p[r mod B, e] · df[r, :]
///     da       = p ∘ (dp − rowsum(p ∘ dp))          (softmax backward, ALGORITHMS.md 1.3)
///     dWg = uᵀ da;  dbg = colsum(da);  du (+)= da Wgᵀ
///
/// With `gate_batch_norm` (torch-rechub's gate, ALGORITHMS.md 3.2.1) the gate
/// logits go through BatchNorm before the softmax, `p = softmax(BN(u Wg + bg))`,
/// named `<name>.bn.*`; its backward runs between the softmax's and the
/// Linear's, per stacked block.
final class Gate {
    let expertCount: Int
    let group: ParameterGroup
    /// `Wg` (`in × n`), `bg` optional.
    let linear: Dense
    /// BatchNorm of the gate logits (with `gate_batch_norm`).
    let batchNorm: BatchNorm?
    /// Softmax output of the last forward pass: `B × n`.
    private let probabilities = Matrix(rows: 0, cols: 0)
    /// `dp`, then `da`, for the stacked rows of the last backward: `S·B × n`.
    private let logitGradient = Matrix(rows: 0, cols: 0)
    /// Mixture output `f`: `B × H`.
    private let mixture = Matrix(rows: 0, cols: 0)

    init(name: String, inputSize: Int, expertCount: Int, hasBias: Bool, group: ParameterGroup,
         batchNorm: Bool = false) {
        self.expertCount = expertCount
        self.group = group
        linear = Dense(name: name, inputSize: inputSize, outputSize: expertCount, group: group, hasBias: hasBias)
        self.batchNorm = batchNorm ? BatchNorm(name: name + ".bn", width: expertCount, group: group) : nil
    }

    var parameters: [Parameter] { linear.parameters + (batchNorm?.parameters ?? []) }

    /// The BatchNorm running statistics (with `gate_batch_norm`).
    var stateTensors: [(name: String, value: Matrix)] { batchNorm?.stateTensors ?? [] }

    func initialize(using rng: inout RandomGenerator, scheme: LinearInitialization = .glorotUniform) {
        linear.initialize(using: &rng, scheme: scheme)
        batchNorm?.initialize()
    }

    /// The probabilities of the last forward pass (`B × n`).
    var lastProbabilities: MatrixView { probabilities.view }

    /// The mixture of the last forward pass (`B × H`).
    var output: MatrixView { mixture.view }

    /// Gate probabilities from `u` and the mixture of `expert(0..<n)` outputs.
    ///
    /// - Parameters:
    ///   - u: gate input, `B × in`.
    ///   - mode: BatchNorm's mode (`ForwardMode`).
    ///   - expert: expert `e`'s output (`B × H`), for `e` in `0..<expertCount`.
    @discardableResult
    func forward(_ u: MatrixView, mode: ForwardMode, experts expert: (Int) -> MatrixView) -> MatrixView {
        let batch = u.rows
        probabilities.resize(rows: batch, cols: expertCount)
        let p = probabilities.view
        linear.forward(u, into: p)
        batchNorm?.forward(p, mode: mode)
        RowSoftmax.forward(p)
        let width = expert(0).cols
        mixture.resize(rows: batch, cols: width)
        let f = mixture.view
        f.fill(0)
        for e in 0..<expertCount {
            let ex = expert(e)
            precondition(ex.rows == batch && ex.cols == width, "Gate: expert \(e) output is \(ex.rows)×\(ex.cols)")
            for b in 0..<batch {
                VectorKernels.addScaled(ex.row(b), by: p[b, e], into: f.row(b), count: width)
            }
        }
        return f
    }

    /// Backward for the upstream mixture gradient `df` over stacked rows.
    ///
    /// - Parameters:
    ///   - df: `R × H`, where `R` is `B` or a multiple of it (stacked copies).
    ///   - expert: expert `e`'s forward output (`B × H`).
    ///   - expertGradient: where to add `∂L/∂E_e` for the same `R` rows.
    ///   - inputGradient: where the gate writes `du` (`R × in`), added when
    ///     `accumulateInput`.
    func backward(_ df: MatrixView,
                  experts expert: (Int) -> MatrixView,
                  expertGradients expertGradient: (Int) -> MatrixView,
                  inputGradient du: MatrixView, accumulateInput: Bool) {
        let p = probabilities.view
        let batch = p.rows
        let rowCount = df.rows
        precondition(batch > 0 && rowCount % batch == 0, "Gate backward: \(rowCount) rows do not stack batches of \(batch)")
        logitGradient.resize(rows: rowCount, cols: expertCount)
        let dp = logitGradient.view
        let width = df.cols
        for e in 0..<expertCount {
            let ex = expert(e)
            let dEx = expertGradient(e)
            for r in 0..<rowCount {
                let b = r % batch
                let g = df.row(r)
                dp[r, e] = VectorKernels.dot(g, ex.row(b), count: width)
                VectorKernels.addScaled(g, by: p[b, e], into: dEx.row(r), count: width)
            }
        }
        RowSoftmax.backward(gradient: dp, probabilities: p)
        batchNorm?.backward(dp)
        linear.backward(dp, inputGradient: du, accumulateInput: accumulateInput)
    }
}
