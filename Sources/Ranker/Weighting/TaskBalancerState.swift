/// The checkpointed state of a `TaskBalancer`: the method's name and its own
/// `State`, encoded as `{"method": "dwa", "state": {...}}`. Decoding looks the
/// method up in `TaskBalancerRegistry` and decodes its `State` type, so a
/// registered outside method's state round-trips through a checkpoint too.
public struct TaskBalancerState: Codable, Equatable, Sendable {
    /// The configuration name of the method the state belongs to.
    public let methodName: String
    /// The method's `State`.
    let value: any TaskBalancerMethodState

    init(methodName: String, value: any TaskBalancerMethodState) {
        self.methodName = methodName
        self.value = value
    }

    enum CodingKeys: String, CodingKey { case method, state }

    public init(from decoder: Decoder) throws {
        let c = try decoder.container(keyedBy: CodingKeys.self)
        methodName = try c.decode(String.self, forKey: .method)
        guard let method = TaskBalancerRegistry.method(named: methodName) else {
            throw DecodingError.dataCorruptedError(
                forKey: .method, in: c,
                debugDescription: "balancer state of unknown method \"\(methodName)\"; registered: "
                    + TaskBalancerRegistry.methodNames().joined(separator: ", "))
        }
        value = try method.decodeState(from: c, forKey: .state)
    }

    public func encode(to encoder: Encoder) throws {
        var c = encoder.container(keyedBy: CodingKeys.self)
        try c.encode(methodName, forKey: .method)
        try c.encode(value, forKey: .state)
    }

    public static func == (lhs: TaskBalancerState, rhs: TaskBalancerState) -> Bool {
        lhs.methodName == rhs.methodName && lhs.value.isEqual(to: rhs.value)
    }
}

extension TaskBalancerMethodState {
    /// `==` across type-erased states.
    func isEqual(to other: any TaskBalancerMethodState) -> Bool {
        (other as? Self) == self
    }
}
