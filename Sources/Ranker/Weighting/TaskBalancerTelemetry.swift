/// What the balancing layer did in the last step, for the trainer's telemetry.
///
/// Gradient statistics are over the task gradients the method looked at
/// (GradCraft/PCGrad: their scope of shared parameters; GradNorm: its layer);
/// they are empty for methods that never see per-task gradients.
public struct TaskBalancerTelemetry: Codable, Equatable, Sendable {
    /// Steps finished so far (`finishStep` calls, restored from checkpoints).
    public var step: Int
    /// Loss weights `w_k` used by the step (set by `lossWeights`; loss weighting
    /// and GradNorm), or the coefficients `c_k` of the raw task gradients in the
    /// combined shared gradient (set by `combine`; GradCraft, PCGrad). `T` values.
    public var weights: [Double]
    /// `||g_k||` of each task's unweighted gradient (empty when not computed).
    public var gradientNorms: [Double] = []
    /// `T × T` cosines `<g_i, g_j> / (||g_i|| ||g_j||)`; NaN where a norm is 0
    /// (empty when not computed).
    public var gradientCosines: [[Double]] = []
    /// Number of task pairs `i < j` with `<g_i, g_j> < 0`.
    public var conflictingPairs = 0
    /// Small systems solved through the pseudo-inverse in this step (GradCraft).
    public var pseudoInverseFallbacks = 0
    /// Same, summed over the run.
    public var pseudoInverseFallbacksTotal = 0

    /// The telemetry of a balancer that has taken `step` steps with `weights`
    /// and computed no gradient statistics yet.
    public init(step: Int = 0, weights: [Double] = []) {
        self.step = step
        self.weights = weights
    }

    /// Fills the gradient statistics from a Gram matrix of the raw task gradients.
    mutating func setGradientStatistics(from gram: TaskGradientGram) {
        let t = gram.taskCount
        gradientNorms = (0..<t).map { gram.norm($0) }
        gradientCosines = (0..<t).map { i in (0..<t).map { j in gram.cosine(i, j) } }
        conflictingPairs = gram.conflictingPairCount
    }
}
