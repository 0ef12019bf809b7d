/// The JSON form of a `ModelConfiguration` (snake_case keys, as it is read).
///
/// `batch_norm`, `gate_batch_norm`, `dropout` and `linear_init` are written only
/// when they differ from their defaults (off, off, 0, `glorot_uniform`), so a configuration without them
/// encodes to exactly the text it had before they existed: the `config` of
/// checkpoints and the `model_config` of exports stay byte for byte the same,
/// and files written by older versions describe the same model.
extension ModelConfiguration {
    public func encode(to encoder: Encoder) throws {
        var c = encoder.container(keyedBy: CodingKeys.self)
        try c.encode(model, forKey: .model)
        try c.encode(tasks, forKey: .tasks)
        try c.encode(sparseFields, forKey: .sparseFields)
        if !sequenceFields.isEmpty { try c.encode(sequenceFields, forKey: .sequenceFields) }
        try c.encode(denseFeatures, forKey: .denseFeatures)
        try c.encode(bottomHidden, forKey: .bottomHidden)
        try c.encode(experts, forKey: .experts)
        try c.encode(expertHidden, forKey: .expertHidden)
        try c.encode(gateBias, forKey: .gateBias)
        try c.encode(levels, forKey: .levels)
        try c.encode(specificExperts, forKey: .specificExperts)
        try c.encode(sharedExperts, forKey: .sharedExperts)
        try c.encode(towerHidden, forKey: .towerHidden)
        try c.encode(embeddingInitStd, forKey: .embeddingInitStd)
        if batchNorm { try c.encode(batchNorm, forKey: .batchNorm) }
        if gateBatchNorm { try c.encode(gateBatchNorm, forKey: .gateBatchNorm) }
        if dropout != 0 { try c.encode(dropout, forKey: .dropout) }
        if linearInit != .glorotUniform { try c.encode(linearInit, forKey: .linearInit) }
    }
}
