/// How every Linear layer of a model starts (`linear_init` in the model
/// configuration; ALGORITHMS.md 3.2). Biases and weights are drawn from the
/// run's seeded generator, weights first, row-major.
public enum LinearInitialization: String, ConfigurationEnum {
    /// Glorot (Xavier) uniform weights, `W ~ U(-a, a)` with
    /// `a = sqrt(6 / (fan_in + fan_out))`, and zero biases. The default.
    case glorotUniform = "glorot_uniform"
    /// `torch.nn.Linear`'s own start (`reset_parameters`: Kaiming-uniform with
    /// `a = sqrt 5`), which torch-rechub's and DeepCTR-Torch's models keep:
    /// `W ~ U(-a, a)` and `b ~ U(-a, a)` with `a = 1 / sqrt(fan_in)`.
    case pytorch

    /// The bounds `(weight, bias)` of the uniform draws for a layer with the
    /// given fans; a bias bound of 0 means the bias is set to 0 without a draw.
    public func bounds(fanIn: Int, fanOut: Int) -> (weight: Double, bias: Double) {
        switch self {
        case .glorotUniform:
            return ((6.0 / Double(fanIn + fanOut)).squareRoot(), 0)
        case .pytorch:
            let a = 1 / Double(fanIn).squareRoot()
            return (a, a)
        }
    }
}
