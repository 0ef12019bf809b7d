/// `n` experts that read the same input; each is an MLP with ReLU on every
/// layer and hidden sizes `[h_1, …, h_m]` (ALGORITHMS.md 3.4, 3.5).
///
/// The first layers of all experts are one `Dense` of `in × (n·h_1)` (named
/// `<name>.0`; expert `e` owns columns `e·h_1 ..< (e+1)·h_1` of its `W` and
/// `b`), so the group's first layer is one GEMM. Layers 2…m are one MLP per
/// expert, named `<name>.<e>` (`<name>.<e>.0.W` is expert `e`'s second layer).
/// Expert `e`'s output is `B × h_m`.
///
/// With BatchNorm every hidden layer is `Linear → BatchNorm → ReLU → Dropout`
/// (ALGORITHMS.md 3.2.1); the first layers' BatchNorm is one layer over the
/// `n·h_1` concatenated columns (`<name>.0.bn.*`; BatchNorm is per column, so
/// expert `e` owns columns `e·h_1 ..< (e+1)·h_1` of its tensors too).
///
/// Backward: consumers (gates) add `∂L/∂E_e` into `outputGradient(e, rows:)`
/// after `beginBackward(rows:)`; then `backward(rows:…)` takes it through the
/// experts into the group's input gradient.
final class ExpertGroup {
    let count: Int
    let inputSize: Int
    let hiddenSizes: [Int]
    let group: ParameterGroup
    /// The concatenated first layers.
    let first: Dense
    /// The first layers' BatchNorm and dropout (with the options).
    let firstBatchNorm: BatchNorm?
    let firstDropout: Dropout?
    /// Layers 2…m of each expert (empty when the experts have one layer).
    let rest: [MLP]
    /// Output of the first layer after ReLU: `B × n·h_1`.
    private let firstActivation = Matrix(rows: 0, cols: 0)
    /// Gradient w.r.t. the first layer's output: `S·B × n·h_1`.
    private let firstGradient = Matrix(rows: 0, cols: 0)
    /// Gradient w.r.t. the experts' outputs, expert `e` in column block `e`:
    /// `S·B × n·h_m` (aliases `firstGradient` when the experts have one layer).
    private let restGradient = Matrix(rows: 0, cols: 0)

    init(name: String, count: Int, inputSize: Int, hiddenSizes: [Int], group: ParameterGroup,
         batchNorm: Bool = false, dropout: Float = 0) {
        precondition(count >= 1 && !hiddenSizes.isEmpty)
        self.count = count
        self.inputSize = inputSize
        self.hiddenSizes = hiddenSizes
        self.group = group
        first = Dense(name: "\(name).0", inputSize: inputSize, outputSize: count * hiddenSizes[0], group: group)
        firstBatchNorm = batchNorm ? BatchNorm(name: "\(name).0.bn", width: count * hiddenSizes[0], group: group) : nil
        firstDropout = dropout > 0 ? Dropout(rate: dropout) : nil
        if hiddenSizes.count > 1 {
            rest = (0..<count).map {
                MLP(name: "\(name).\($0)", inputSize: hiddenSizes[0], hiddenSizes: Array(hiddenSizes.dropFirst()),
                    group: group, batchNorm: batchNorm, dropout: dropout)
            }
        } else {
            rest = []
        }
    }

    /// Width of each expert's output.
    var outputSize: Int { hiddenSizes.last! }

    var parameters: [Parameter] {
        first.parameters + (firstBatchNorm?.parameters ?? []) + rest.flatMap { $0.parameters }
    }

    /// The BatchNorm running statistics (first layers, then each expert's later layers).
    var stateTensors: [(name: String, value: Matrix)] {
        (firstBatchNorm?.stateTensors ?? []) + rest.flatMap { $0.stateTensors }
    }

    /// The weights of every expert's last Linear layer (GradNorm's default scope).
    var lastLayerWeights: [Parameter] {
        rest.isEmpty ? [first.weight] : rest.map { $0.layers.last!.weight }
    }

    func initialize(using rng: inout RandomGenerator, scheme: LinearInitialization = .glorotUniform) {
        // The fan of one expert's first layer, not of the concatenation.
        first.initialize(using: &rng, fanIn: inputSize, fanOut: hiddenSizes[0], scheme: scheme)
        firstBatchNorm?.initialize()
        for mlp in rest { mlp.initialize(using: &rng, scheme: scheme) }
    }

    /// Runs every expert on `x` (`B × in`) in `mode` (`ForwardMode`).
    func forward(_ x: MatrixView, mode: ForwardMode) {
        firstActivation.resize(rows: x.rows, cols: first.outputSize)
        let h = firstActivation.view
        first.forward(x, into: h)
        if let bn = firstBatchNorm { bn.forward(h, mode: mode, relu: true) } else { ReLU.forward(h) }
        firstDropout?.forward(h, mode: mode)
        let h1 = hiddenSizes[0]
        for (e, mlp) in rest.enumerated() {
            mlp.forward(h.cols(e * h1 ..< (e + 1) * h1), mode: mode)
        }
    }

    /// Expert `e`'s output of the last forward pass (`B × outputSize`).
    func output(_ e: Int) -> MatrixView {
        if rest.isEmpty {
            let w = outputSize
            return firstActivation.view.cols(e * w ..< (e + 1) * w)
        }
        return rest[e].output
    }

    private var outputGradientMatrix: Matrix { rest.isEmpty ? firstGradient : restGradient }

    /// Shapes the output-gradient buffer for `rows` stacked rows and zeroes it.
    func beginBackward(rows: Int) {
        let m = outputGradientMatrix
        m.resize(rows: rows, cols: count * outputSize)
        m.fill(0)
    }

    /// Where consumers add `∂L/∂E_e` for the stacked rows `rows`.
    func outputGradient(_ e: Int, rows: Range<Int>) -> MatrixView {
        let w = outputSize
        return outputGradientMatrix.view.rows(rows).cols(e * w ..< (e + 1) * w)
    }

    /// Backward over the stacked rows `rows` (see `stackedRows`). Writes the
    /// parameter gradients and `dX` (`rows.count × in`), added to `dX` when
    /// `accumulateInput`.
    func backward(rows: Range<Int>, inputGradient dX: MatrixView?, accumulateInput: Bool) {
        let h1 = hiddenSizes[0]
        if !rest.isEmpty {
            firstGradient.resize(rows: outputGradientMatrix.rows, cols: count * h1)
            let dH = firstGradient.view.rows(rows)
            for (e, mlp) in rest.enumerated() {
                mlp.backward(outputGradient(e, rows: rows),
                             inputGradient: dH.cols(e * h1 ..< (e + 1) * h1))
            }
        }
        let dH = firstGradient.view.rows(rows)
        firstDropout?.backward(dH)
        if let bn = firstBatchNorm {
            bn.backward(dH, reluOutput: firstActivation.view)  // ReLU's mask and BatchNorm in one pass
        } else {
            ReLU.backward(gradient: dH, output: firstActivation.view)
        }
        first.backward(dH, inputGradient: dX, accumulateInput: accumulateInput)
    }
}
