/// The checkpointed state of a `TaskBalancer`, one case per method.
///
/// Encoded as `{"<method>": {"state": {...}}}` (Swift's synthesised form for
/// enums with associated values); each method's `State` lists its fields.
public enum TaskBalancerState: Codable, Equatable, Sendable {
    case fixed(state: FixedWeighting.State)
    case dynamicWeightAverage(state: DynamicWeightAverage.State)
    case gradNorm(state: GradNorm.State)
    case uncertainty(state: UncertaintyWeighting.State)
    case gradCraft(state: GradCraft.State)
    case pcGrad(state: PCGrad.State)

    /// The configuration name of the method the state belongs to.
    public var methodName: String {
        switch self {
        case .fixed: return "fixed"
        case .dynamicWeightAverage: return "dwa"
        case .gradNorm: return "gradnorm"
        case .uncertainty: return "uw"
        case .gradCraft: return "gradcraft"
        case .pcGrad: return "pcgrad"
        }
    }
}
