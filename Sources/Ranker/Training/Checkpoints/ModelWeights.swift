import Foundation

/// Reads a model's weights from either kind of file a run writes, into a
/// model built for them:
///
/// * an export (`ranker-export/1`: `best.safetensors`, `ranker export`):
///   tensors named by `Parameter.name` and by the model's state tensor names
///   (BatchNorm running statistics); its `model_config` must equal the
///   model's configuration;
/// * a checkpoint (`ranker-checkpoint/1`: `checkpoint.safetensors`): the
///   `model/<name>` tensors (optimizer and weighting tensors are not read).
///
/// Every parameter's and state tensor's tensor must be there with its shape,
/// and no other model tensor may be (checked before anything is read), and
/// every tensor is read — its checksum verified when the file has checksums —
/// before any is copied in, so a failed load leaves the model as it was.
public enum ModelWeights {
    /// Fills `model`'s parameters from `url` and returns the file's metadata.
    ///
    /// - Throws: `FileIOError`, `SafeTensorsError`, `CheckpointError`
    ///   (`wrongFormat` for any other file, `invalidMetadata` when an export
    ///   describes another model, `missingTensor`, `unexpectedTensor`,
    ///   `shapeMismatch` with the full tensor name).
    @discardableResult
    public static func load(into model: MultiTaskModel, from url: URL) throws -> [String: String] {
        let reader = try SafeTensorsReader(url: url)
        let prefix: String
        switch reader.metadata[ModelExport.Key.format] {
        case ModelExport.formatIdentifier:
            prefix = ""
            let stored = try ModelExport.configuration(of: reader)
            guard stored == model.configuration else {
                throw CheckpointError.invalidMetadata(key: ModelExport.Key.modelConfiguration, reason:
                    "\(url.path) holds a \(stored.model.rawValue) model for tasks \(stored.tasks.map(\.name)) with "
                    + "\(stored.sparseFields.count) sparse fields and \(stored.denseFeatures) dense features; it does not "
                    + "match the \(model.configuration.model.rawValue) model built from the run configuration and its data")
            }
        case Checkpoint.formatIdentifier:
            prefix = Checkpoint.Prefix.model
        case let other:
            throw CheckpointError.wrongFormat(path: url.path,
                                              expected: "\(ModelExport.formatIdentifier) or \(Checkpoint.formatIdentifier)",
                                              found: other)
        }
        let saved = model.savedTensors
        for t in saved {
            let name = prefix + t.name
            guard let entry = reader.header.entry(named: name) else { throw CheckpointError.missingTensor(name: name) }
            guard entry.shape == [t.value.rows, t.value.cols] else {
                throw CheckpointError.shapeMismatch(name: name, expected: [t.value.rows, t.value.cols], found: entry.shape)
            }
        }
        let expected = Set(saved.map { prefix + $0.name })
        for name in reader.tensorNames where name.hasPrefix(prefix) && !expected.contains(name) {
            throw CheckpointError.unexpectedTensor(name: name)
        }
        // Read everything (each tensor's checksum verified) before the model changes.
        let values = try saved.map { try reader.readMatrix(named: prefix + $0.name, rows: $0.value.rows, cols: $0.value.cols) }
        for (t, value) in zip(saved, values) { t.value.copy(from: value) }
        return reader.metadata
    }
}
