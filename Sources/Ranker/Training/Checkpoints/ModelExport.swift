import Foundation

/// A trained model's weights as a plain safetensors file that other tools can
/// load (numpy, PyTorch, the `safetensors` package) to rebuild the model.
///
/// Tensors: one per parameter, named by `Parameter.name` (no prefix), `F32`,
/// shape `[rows, cols]`, row-major, sorted by name:
///
/// * Dense layer `<layer>`: `<layer>.W` is `in × out` and `<layer>.b` is
///   `1 × out`, with `y = x W + b` (`x` a `B × in` row batch). An MLP named
///   `m` has layers `m.0`, `m.1`, …; ReLU follows every layer except a
///   tower's last (its output, the task logit).
/// * Embedding table of sparse field `f`: `embedding.<f>` is `vocabulary × dimension`;
///   row `id` is the field's vector for id `id`.
/// * The model input is `x = [E_1[id_1], …, E_F[id_F], dense]` (fields in
///   `model_config.sparse_fields` order, then the raw dense features).
/// * MMoE and PLE expert groups `g` (`experts`, `level<l>.specific.<task>`,
///   `level<l>.shared`): `g.0.W` is the *concatenated* first layer of all
///   `n` experts (`in × n·h_1`; expert `e` owns columns `e·h_1 ..< (e+1)·h_1`),
///   and `g.<e>.<i>` is layer `i + 2` of expert `e`. Gates `gate.<task>`
///   (`level<l>.gate.<task>`, `level<l>.shared_gate`) are Dense layers with a
///   softmax over the experts; `.b` exists only with `gate_bias`.
/// * BatchNorm (`batch_norm`, `gate_batch_norm`) of layer `<layer>`:
///   `<layer>.bn.gamma`, `.bn.beta`, `.bn.running_mean`, `.bn.running_var`,
///   each `1 × n`; in a hidden layer it sits between the Linear and the ReLU,
///   in a gate between the Linear and the softmax, and a prediction applies
///   `gamma (z - running_mean) / sqrt(running_var + 1e-5) + beta`
///   (ALGORITHMS.md 3.2.1). Dropout is not applied at prediction.
///
/// The forward equations are in `docs/EXPORT.md` (and ALGORITHMS.md 3);
/// `tools/export_predict.py` is a self-contained numpy implementation that
/// reproduces Ranker's predictions from an export.
///
/// Metadata (`__metadata__`):
///
/// | key | value |
/// |---|---|
/// | `format` | `ranker-export/1` |
/// | `ranker_version` | `RankerVersion.string` |
/// | `model_config` | `ModelConfiguration` as JSON (snake_case keys) |
/// | `tasks` | JSON array of the task names (logit columns) |
/// | `outputs` | JSON array of the prediction columns (`MultiTaskModel.outputNames`; ESMM: `ctr`, `cvr`, `ctcvr`) |
/// | `layout` | a one-line reminder of the conventions above |
/// | `crc32c_tensors`, `crc32c_header` | checksums of the tensors and the header (`SafeTensorsChecksums`) |
public enum ModelExport {
    /// The value of `__metadata__["format"]` in an export.
    public static let formatIdentifier = "ranker-export/1"

    /// The metadata keys of an export.
    public enum Key {
        public static let format = "format"
        public static let rankerVersion = "ranker_version"
        public static let modelConfiguration = "model_config"
        public static let tasks = "tasks"
        public static let outputs = "outputs"
        public static let layout = "layout"
    }

    /// The `layout` metadata text.
    public static let layoutDescription =
        "F32 row-major; Dense <layer>.W is in x out, <layer>.b is 1 x out, y = x W + b; "
        + "embedding.<field> is vocabulary x dimension; x = [embeddings in field order, dense]"

    /// Writes `model`'s weights and configuration to `url` (atomically).
    ///
    /// - Parameter metadata: extra `__metadata__` entries (they cannot replace
    ///   the keys above).
    /// - Throws: `FileIOError`, `CheckpointError.invalidMetadata`.
    public static func write(_ model: MultiTaskModel, to url: URL, metadata: [String: String] = [:]) throws {
        try write(parameters: model.parameters, state: model.stateTensors, configuration: model.configuration,
                  outputNames: model.outputNames, to: url, metadata: metadata)
    }

    /// Writes `parameters` and the model's `state` tensors (BatchNorm running
    /// statistics) with the model description to `url` (atomically).
    public static func write(parameters: [Parameter], state: [(name: String, value: Matrix)] = [],
                             configuration: ModelConfiguration, outputNames: [String],
                             to url: URL, metadata extra: [String: String] = [:]) throws {
        var metadata = extra.merging(try modelDescription(format: formatIdentifier, configuration: configuration,
                                                          outputNames: outputNames)) { $1 }
        metadata[Key.layout] = layoutDescription
        try SafeTensorsWriter.write(tensors: parameters.map { (name: $0.name, value: $0.value) } + state,
                                    metadata: metadata, to: url, checksums: true)
    }

    /// The metadata entries that describe the model, shared by this export and
    /// the ONNX export's `metadata_props`: `format` (the given identifier),
    /// `ranker_version`, `model_config` (JSON, sorted keys), `tasks` and
    /// `outputs` (JSON arrays).
    ///
    /// - Throws: `CheckpointError.invalidMetadata` when a value cannot be encoded.
    public static func modelDescription(format: String, configuration: ModelConfiguration,
                                        outputNames: [String]) throws -> [String: String] {
        func json<T: Encodable>(_ value: T, _ key: String) throws -> String {
            let encoder = JSONEncoder()
            encoder.outputFormatting = [.sortedKeys, .withoutEscapingSlashes]
            do {
                return String(decoding: try encoder.encode(value), as: UTF8.self)
            } catch {
                throw CheckpointError.invalidMetadata(key: key, reason: "cannot encode: \(error)")
            }
        }
        return [
            Key.format: format,
            Key.rankerVersion: RankerVersion.string,
            Key.modelConfiguration: try json(configuration, Key.modelConfiguration),
            Key.tasks: try json(configuration.tasks.map(\.name), Key.tasks),
            Key.outputs: try json(outputNames, Key.outputs),
        ]
    }

    /// The configuration stored in an export.
    ///
    /// - Throws: `FileIOError`, `SafeTensorsError`, `CheckpointError`
    ///   (`wrongFormat`, `missingMetadata`, `invalidMetadata`).
    public static func configuration(of reader: SafeTensorsReader) throws -> ModelConfiguration {
        let format = reader.metadata[Key.format]
        guard format == formatIdentifier else {
            throw CheckpointError.wrongFormat(path: reader.path, expected: formatIdentifier, found: format)
        }
        guard let text = reader.metadata[Key.modelConfiguration] else {
            throw CheckpointError.missingMetadata(key: Key.modelConfiguration)
        }
        do {
            return try JSONDecoder().decode(ModelConfiguration.self, from: Data(text.utf8))
        } catch {
            throw CheckpointError.invalidMetadata(key: Key.modelConfiguration, reason: "\(error)")
        }
    }

    /// Rebuilds the model of an export: `makeModel(model_config)`, then every
    /// parameter and state tensor read from its tensor (names and shapes
    /// validated first).
    ///
    /// - Throws: as `configuration(of:)`; `ModelConfigurationError`;
    ///   `CheckpointError` (`missingTensor`, `unexpectedTensor`, `shapeMismatch`).
    public static func loadModel(from url: URL) throws -> MultiTaskModel {
        let reader = try SafeTensorsReader(url: url)
        let model = try makeModel(try configuration(of: reader))
        let saved = model.savedTensors
        let names = Set(saved.map(\.name))
        for t in saved {
            guard let entry = reader.header.entry(named: t.name) else {
                throw CheckpointError.missingTensor(name: t.name)
            }
            guard entry.shape == [t.value.rows, t.value.cols] else {
                throw CheckpointError.shapeMismatch(name: t.name, expected: [t.value.rows, t.value.cols],
                                                    found: entry.shape)
            }
        }
        for name in reader.tensorNames where !names.contains(name) {
            throw CheckpointError.unexpectedTensor(name: name)
        }
        for t in saved { try reader.readMatrix(named: t.name, into: t.value) }
        return model
    }
}
