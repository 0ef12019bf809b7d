/// A stack of hidden layers, optionally followed by a final linear layer
/// without activation (ALGORITHMS.md 3.2, 3.2.1).
///
/// * `hiddenSizes = [h1, …, hm]`, `outputSize = nil`: an expert or bottom MLP;
///   every layer is hidden, including the last.
/// * `outputSize = 1`: a tower; its output is the task logit.
///
/// A hidden layer is `Linear → ReLU`, or with the options
/// `Linear → BatchNorm → ReLU → Dropout` (torch-rechub's order; either part
/// optional). The final linear layer has neither.
///
/// Layer `i` is named `<name>.<i>` (so its parameters are `<name>.<i>.W`,
/// `<name>.<i>.b`, and with BatchNorm `<name>.<i>.bn.gamma`, `.bn.beta` and
/// the state `<name>.<i>.bn.running_mean`, `.bn.running_var`). The MLP owns
/// its activation and gradient buffers; they are reshaped on demand and keep
/// their capacity, so a steady-state step allocates nothing.
public final class MLP {
    public let inputSize: Int
    public let hiddenSizes: [Int]
    /// Size of the final linear layer without activation, if any.
    public let linearOutputSize: Int?
    public let layers: [Dense]
    /// BatchNorm of layer `i` (hidden layers only, with the option).
    public let batchNorms: [BatchNorm?]
    /// Dropout after layer `i`'s ReLU (hidden layers only, rate > 0).
    public let dropouts: [Dropout?]
    /// Output of layer `i` (after its activation and dropout): `B × size_i`.
    private var activations: [Matrix]
    /// Gradient w.r.t. the output of layer `i`, stacked: `S·B × size_i`.
    private var gradients: [Matrix]

    public init(name: String, inputSize: Int, hiddenSizes: [Int], outputSize: Int? = nil, group: ParameterGroup,
                batchNorm: Bool = false, dropout: Float = 0) {
        precondition(inputSize > 0 && hiddenSizes.allSatisfy { $0 > 0 })
        precondition(!hiddenSizes.isEmpty || outputSize != nil, "MLP \(name) needs at least one layer")
        self.inputSize = inputSize
        self.hiddenSizes = hiddenSizes
        self.linearOutputSize = outputSize
        let sizes = hiddenSizes + (outputSize.map { [$0] } ?? [])
        var layers: [Dense] = []
        var d = inputSize
        for (i, h) in sizes.enumerated() {
            layers.append(Dense(name: "\(name).\(i)", inputSize: d, outputSize: h, group: group))
            d = h
        }
        self.layers = layers
        batchNorms = hiddenSizes.indices.map { i in
            batchNorm ? BatchNorm(name: "\(name).\(i).bn", width: hiddenSizes[i], group: group) : nil
        } + (outputSize == nil ? [] : [nil])
        dropouts = sizes.indices.map { i in i < hiddenSizes.count && dropout > 0 ? Dropout(rate: dropout) : nil }
        activations = sizes.map { Matrix(rows: 0, cols: $0) }
        gradients = sizes.map { Matrix(rows: 0, cols: $0) }
    }

    /// Width of the output.
    public var outputSize: Int { layers.last!.outputSize }

    /// Per layer: `W`, `b`, then BatchNorm's `gamma`, `beta`.
    public var parameters: [Parameter] {
        zip(layers, batchNorms).flatMap { layer, bn in layer.parameters + (bn?.parameters ?? []) }
    }

    /// The BatchNorm running statistics, in layer order.
    public var stateTensors: [(name: String, value: Matrix)] { batchNorms.flatMap { $0?.stateTensors ?? [] } }

    /// Every Linear layer as `scheme` says (ALGORITHMS.md 3.2), BatchNorm at
    /// PyTorch's initial state (which draws nothing from `rng`).
    public func initialize(using rng: inout RandomGenerator, scheme: LinearInitialization = .glorotUniform) {
        for layer in layers { layer.initialize(using: &rng, scheme: scheme) }
        for bn in batchNorms { bn?.initialize() }
    }

    private func isActivated(_ i: Int) -> Bool { linearOutputSize == nil || i < layers.count - 1 }

    /// Forward `x` (`B × in`); returns the output view (`B × outputSize`), valid
    /// until the next forward. `mode` decides BatchNorm's statistics and
    /// dropout (`ForwardMode`).
    @discardableResult
    public func forward(_ x: MatrixView, mode: ForwardMode = .evaluation) -> MatrixView {
        var h = x
        for (i, layer) in layers.enumerated() {
            activations[i].resize(rows: x.rows, cols: layer.outputSize)
            let y = activations[i].view
            layer.forward(h, into: y)
            if isActivated(i) {
                if let bn = batchNorms[i] { bn.forward(y, mode: mode, relu: true) } else { ReLU.forward(y) }
                dropouts[i]?.forward(y, mode: mode)
            }
            h = y
        }
        return h
    }

    /// The output of the last forward pass.
    public var output: MatrixView { activations[layers.count - 1].view }

    /// Takes `gradient` (stacked, w.r.t. hidden layer `i`'s output) back to
    /// layer `i`'s Linear output, in place: dropout, ReLU, BatchNorm backward.
    /// ReLU's mask is the output after dropout: a dropped entry's gradient is
    /// already zero, a kept one is positive exactly when ReLU passed it.
    private func backwardActivation(_ i: Int, _ gradient: MatrixView) {
        dropouts[i]?.backward(gradient)
        if let bn = batchNorms[i] {
            bn.backward(gradient, reluOutput: activations[i].view)  // ReLU's mask and BatchNorm in one pass
        } else {
            ReLU.backward(gradient: gradient, output: activations[i].view)
        }
    }

    /// Backward from `dOutput` (`S·B × outputSize`). Writes every parameter
    /// gradient and, if `dX` is given (`S·B × in`), the input gradient (added to
    /// `dX` when `accumulateInput`). `dOutput` is not modified.
    public func backward(_ dOutput: MatrixView, inputGradient dX: MatrixView?, accumulateInput: Bool = false) {
        let n = layers.count
        // Gradient w.r.t. the pre-activation of the top layer.
        gradients[n - 1].resize(rows: dOutput.rows, cols: outputSize)
        var dZ = gradients[n - 1].view
        dZ.copy(from: dOutput)
        if isActivated(n - 1) { backwardActivation(n - 1, dZ) }
        for i in stride(from: n - 1, through: 0, by: -1) {
            if i == 0 {
                layers[0].backward(dZ, inputGradient: dX, accumulateInput: accumulateInput)
            } else {
                gradients[i - 1].resize(rows: dOutput.rows, cols: layers[i - 1].outputSize)
                let dH = gradients[i - 1].view
                layers[i].backward(dZ, inputGradient: dH)
                backwardActivation(i - 1, dH)
                dZ = dH
            }
        }
    }
}
