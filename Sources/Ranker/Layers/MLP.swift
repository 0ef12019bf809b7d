/// A stack of `Linear → ReLU` layers, optionally followed by a final linear
/// layer without activation (ALGORITHMS.md 3.2).
///
/// * `hiddenSizes = [h1, …, hm]`, `outputSize = nil`: an expert or bottom MLP;
///   ReLU after every layer, including the last.
/// * `outputSize = 1`: a tower; its output is the task logit.
///
/// Layer `i` is named `<name>.<i>` (so its parameters are `<name>.<i>.W`,
/// `<name>.<i>.b`). The MLP owns its activation and gradient buffers; they
/// are reshaped on demand and keep their capacity, so a steady-state step
/// allocates nothing.
public final class MLP {
    public let inputSize: Int
    public let hiddenSizes: [Int]
    /// Size of the final linear layer without activation, if any.
    public let linearOutputSize: Int?
    public let layers: [Dense]
    /// Output of layer `i` (after its activation): `B × size_i`.
    private var activations: [Matrix]
    /// Gradient w.r.t. the output of layer `i`, stacked: `S·B × size_i`.
    private var gradients: [Matrix]

    public init(name: String, inputSize: Int, hiddenSizes: [Int], outputSize: Int? = nil, group: ParameterGroup) {
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
        activations = sizes.map { Matrix(rows: 0, cols: $0) }
        gradients = sizes.map { Matrix(rows: 0, cols: $0) }
    }

    /// Width of the output.
    public var outputSize: Int { layers.last!.outputSize }

    public var parameters: [Parameter] { layers.flatMap { $0.parameters } }

    public func initialize(using rng: inout RandomGenerator) {
        for layer in layers { layer.initialize(using: &rng) }
    }

    private func isActivated(_ i: Int) -> Bool { linearOutputSize == nil || i < layers.count - 1 }

    /// Forward `x` (`B × in`); returns the output view (`B × outputSize`), valid
    /// until the next forward.
    @discardableResult
    public func forward(_ x: MatrixView) -> MatrixView {
        var h = x
        for (i, layer) in layers.enumerated() {
            activations[i].resize(rows: x.rows, cols: layer.outputSize)
            let y = activations[i].view
            layer.forward(h, into: y)
            if isActivated(i) { ReLU.forward(y) }
            h = y
        }
        return h
    }

    /// The output of the last forward pass.
    public var output: MatrixView { activations[layers.count - 1].view }

    /// Backward from `dOutput` (`S·B × outputSize`). Writes every parameter
    /// gradient and, if `dX` is given (`S·B × in`), the input gradient (added to
    /// `dX` when `accumulateInput`). `dOutput` is not modified.
    public func backward(_ dOutput: MatrixView, inputGradient dX: MatrixView?, accumulateInput: Bool = false) {
        let n = layers.count
        // Gradient w.r.t. the pre-activation of the top layer.
        gradients[n - 1].resize(rows: dOutput.rows, cols: outputSize)
        var dZ = gradients[n - 1].view
        dZ.copy(from: dOutput)
        if isActivated(n - 1) { ReLU.backward(gradient: dZ, output: activations[n - 1].view) }
        for i in stride(from: n - 1, through: 0, by: -1) {
            if i == 0 {
                layers[0].backward(dZ, inputGradient: dX, accumulateInput: accumulateInput)
            } else {
                gradients[i - 1].resize(rows: dOutput.rows, cols: layers[i - 1].outputSize)
                let dH = gradients[i - 1].view
                layers[i].backward(dZ, inputGradient: dH)
                ReLU.backward(gradient: dH, output: activations[i - 1].view)
                dZ = dH
            }
        }
    }
}
