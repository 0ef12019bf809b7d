/// Whether a task is a binary classification (BCE) or a regression (MSE).
public enum TaskKind: String, ConfigurationEnum {
    case binary
    case regression
}

/// One task of a model or a dataset: its name and kind (`TaskKind`: binary
/// with BCE-with-logits and output `σ(logit)`, or regression with squared
/// error and the raw logit as output).
public struct TaskSpec: Codable, Equatable, Sendable {
    public var name: String
    public var kind: TaskKind

    public init(name: String, kind: TaskKind = .binary) {
        self.name = name
        self.kind = kind
    }

    enum CodingKeys: String, CodingKey, CaseIterable { case name, kind }

    public init(from decoder: Decoder) throws {
        let c = try StrictDecoding.container(decoder, CodingKeys.self, section: "task")
        name = try c.decodeChecked(String.self, forKey: .name) ?? c.decode(String.self, forKey: .name)
        kind = try c.decode(.kind, default: .binary)
    }
}
