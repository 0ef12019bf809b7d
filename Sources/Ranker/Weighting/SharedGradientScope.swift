/// Which shared parameters a gradient-combination method (GradCraft, PCGrad)
/// builds its Gram matrix from and combines (ALGORITHMS.md 6.1.3).
public enum SharedGradientScope: String, TaskBalancerOptionValue {
    /// Every shared parameter, including the embedding rows touched in the batch
    /// (the project default; the rows every task shares).
    case allShared = "all_shared"
    /// Shared dense tensors only, for speed. Embedding tables are then left out
    /// of the Gram matrix (norms, conflicts, coefficients) and receive the plain
    /// unit-weight sum `Σ_t taskGradients[t]`, the gradient of `Σ_t L_t`.
    case denseShared = "dense_shared"

    /// Whether `parameter` (shared) enters the Gram matrix and the combination.
    public func includes(_ parameter: Parameter) -> Bool {
        parameter.group == .shared && (self == .allShared || parameter.kind == .dense)
    }

    /// Writes the combined gradient of every shared parameter after the
    /// multi-gradient pass: `Σ_t coefficients[t] · taskGradients[t]` into the
    /// parameters the scope includes and, for `.denseShared`, the unit-weight
    /// sum `Σ_t taskGradients[t]` into the embedding tables it leaves out
    /// (`TaskGradientMixing.writeCombination`; `scratch`: `T` floats).
    func writeCombination(coefficients: [Double], parameters: [Parameter], scratch: inout [Float]) {
        TaskGradientMixing.writeCombination(coefficients: coefficients, parameters: parameters,
                                            scratch: &scratch, include: includes)
        if self == .denseShared {
            let ones = [Double](repeating: 1, count: coefficients.count)
            TaskGradientMixing.writeCombination(coefficients: ones, parameters: parameters, scratch: &scratch,
                                                include: { $0.group == .shared && $0.kind == .embedding })
        }
    }
}
