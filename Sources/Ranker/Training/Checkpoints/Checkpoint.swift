import Foundation

/// Everything a resumed run needs, as named tensors and string metadata,
/// stored as one safetensors file (`checkpoint.safetensors`,
/// `best.safetensors` of the run directory).
///
/// Tensors (all `F32`, shape `[rows, cols]`, laid out sorted by name):
///
/// | name | what |
/// |---|---|
/// | `model/<parameter name>` | every model parameter (`Parameter.name`, e.g. `model/experts.0.W`) |
/// | `model/<state name>` | every model state tensor (BatchNorm running statistics, e.g. `model/bottom.0.bn.running_mean`) |
/// | `optimizer/<parameter name>` | the optimizer's state tensor of that parameter (Adagrad accumulator) |
/// | `optimizer/<parameter name>/<state>` | each of several state tensors (Adam's `m`, `v`) |
/// | `weighting/<name>` | extra tensors of the loss-weighting layer |
///
/// Metadata (`__metadata__`, string to string; all but `format` and
/// `ranker_version` hold JSON texts):
///
/// | key | value |
/// |---|---|
/// | `format` | `ranker-checkpoint/1` |
/// | `ranker_version` | `RankerVersion.string` of the writer |
/// | `config` | the run configuration (JSON) |
/// | `step`, `epoch` | integers |
/// | `rng` | `RandomGenerator` state (`{"state": [w0, w1, w2, w3]}`) |
/// | `optimizer` | `OptimizerScalarState` |
/// | `weighting` | the loss-weighting layer's `Codable` state |
/// | `trainer` | any further trainer state (best metric, data cursor, …) |
///
/// A `Checkpoint` is a value holding references to `Matrix` storage:
/// `init(parameters:optimizer:weightingTensors:)` shares the live matrices
/// (no copy) so that `write(to:)` can stream them straight to disk — write
/// before the next training step, or take `deepCopy()` to keep a snapshot in
/// memory. Values are copied bit for bit everywhere (NaN payloads, `-0.0`,
/// subnormals), so a restored run continues bitwise identically.
public struct Checkpoint {
    /// The value of `__metadata__["format"]` in a checkpoint.
    public static let formatIdentifier = "ranker-checkpoint/1"

    /// The metadata keys Ranker uses.
    public enum Key {
        public static let format = "format"
        public static let rankerVersion = "ranker_version"
        public static let configuration = "config"
        public static let step = "step"
        public static let epoch = "epoch"
        public static let randomGenerator = "rng"
        public static let optimizer = "optimizer"
        public static let weighting = "weighting"
        public static let trainer = "trainer"
    }

    /// Name prefixes of the three tensor groups.
    public enum Prefix {
        public static let model = "model/"
        public static let optimizer = "optimizer/"
        public static let weighting = "weighting/"
    }

    /// `__metadata__`: string keys to string values.
    public var metadata: [String: String]
    /// Tensors by full name (with prefix).
    public var tensors: [String: Matrix]

    /// A checkpoint with the given contents; `format` and `ranker_version`
    /// are filled in when `metadata` does not have them.
    public init(metadata: [String: String] = [:], tensors: [String: Matrix] = [:]) {
        self.metadata = metadata
        self.tensors = tensors
        if self.metadata[Key.format] == nil { self.metadata[Key.format] = Checkpoint.formatIdentifier }
        if self.metadata[Key.rankerVersion] == nil { self.metadata[Key.rankerVersion] = RankerVersion.string }
    }

    /// A copy whose tensors own their storage (a snapshot that later training
    /// steps do not change).
    public func deepCopy() -> Checkpoint {
        Checkpoint(metadata: metadata, tensors: tensors.mapValues { $0.clone() })
    }

    // MARK: metadata

    /// The metadata string `key`.
    ///
    /// - Throws: `CheckpointError.missingMetadata`.
    public func string(forKey key: String) throws -> String {
        guard let value = metadata[key] else { throw CheckpointError.missingMetadata(key: key) }
        return value
    }

    /// Decodes the JSON text of metadata entry `key` (e.g.
    /// `decode(Int.self, forKey: Checkpoint.Key.step)`).
    ///
    /// - Throws: `CheckpointError.missingMetadata`, `.invalidMetadata`.
    public func decode<T: Decodable>(_ type: T.Type, forKey key: String) throws -> T {
        let text = try string(forKey: key)
        do {
            return try JSONDecoder().decode(T.self, from: Data(text.utf8))
        } catch {
            throw CheckpointError.invalidMetadata(key: key, reason: "cannot decode \(T.self) from \(text.prefix(200))")
        }
    }

    /// Stores `value` as JSON text (sorted keys) under `key`.
    ///
    /// - Throws: `CheckpointError.invalidMetadata` when `value` cannot be encoded.
    public mutating func encode<T: Encodable>(_ value: T, forKey key: String) throws {
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.sortedKeys, .withoutEscapingSlashes]
        do {
            metadata[key] = String(decoding: try encoder.encode(value), as: UTF8.self)
        } catch {
            throw CheckpointError.invalidMetadata(key: key, reason: "cannot encode \(T.self): \(error)")
        }
    }

    /// The training step (`step`).
    public func step() throws -> Int { try decode(Int.self, forKey: Key.step) }

    /// The epoch (`epoch`).
    public func epoch() throws -> Int { try decode(Int.self, forKey: Key.epoch) }

    /// The random generator (`rng`): four words, not all zero.
    public func randomGenerator() throws -> RandomGenerator {
        let generator = try decode(RandomGenerator.self, forKey: Key.randomGenerator)
        guard generator.state.count == 4, generator.state.contains(where: { $0 != 0 }) else {
            throw CheckpointError.invalidMetadata(key: Key.randomGenerator,
                                                  reason: "state must be 4 words, not all zero")
        }
        return generator
    }

    /// The optimizer's counters (`optimizer`).
    public func optimizerScalarState() throws -> OptimizerScalarState {
        try decode(OptimizerScalarState.self, forKey: Key.optimizer)
    }

    // MARK: files

    /// Writes the checkpoint to `url` atomically (`AtomicFile`), streaming
    /// every tensor from its storage, with the CRC-32C of every tensor and of
    /// the header — which holds the non-tensor state — in `__metadata__`
    /// (`SafeTensorsChecksums`; `read(from:)` verifies them).
    ///
    /// - Throws: `FileIOError`.
    public func write(to url: URL) throws {
        try SafeTensorsWriter.write(tensors: tensors.map { (name: $0.key, value: $0.value) },
                                    metadata: metadata, to: url, checksums: true)
    }

    /// Reads and validates a checkpoint file (its checksums too, when it has them).
    ///
    /// - Throws: `FileIOError`, `SafeTensorsError` (invalid file, a tensor
    ///   that is not an `F32` matrix, a checksum that does not match),
    ///   `CheckpointError.wrongFormat`.
    public static func read(from url: URL) throws -> Checkpoint {
        let reader = try SafeTensorsReader(url: url)
        let format = reader.metadata[Key.format]
        guard format == formatIdentifier else {
            throw CheckpointError.wrongFormat(path: url.path, expected: formatIdentifier, found: format)
        }
        return Checkpoint(metadata: reader.metadata, tensors: try reader.readAllMatrices())
    }
}
