import Foundation
import Ranker
import SwiftProtobuf

/// A trained model as a complete ONNX scoring graph (docs/EXPORT.md, "ONNX").
///
/// Inputs and output (`batch` is a symbolic dimension):
/// * `sparse_ids` int64 `[batch, F]`: the encoded id of each sparse field, in
///   the order of `model_config.sparse_fields` (the run's frozen encoding; id 0
///   for a value the train split never had) — what `ranker predict` feeds the model;
/// * `dense` float `[batch, D]`: the transformed dense values;
/// * per sequence field `<name>` (`model_config.sequence_fields`, in order):
///   `<name>_ids` int64 `[batch, max_length]`, the encoded ids of the list's last
///   `max_length` values (oldest first) padded on the right with any valid id, and
///   `<name>_mask` float `[batch, max_length]`, 1 for a present value, 0 for padding;
/// * `probabilities` float `[batch, outputs]`: `σ(z_k)` for binary tasks, `z_k`
///   for regression tasks; ESMM: pCTR, pCVR, pCTCVR = pCTR·pCVR.
///
/// The graph is the evaluation-mode forward pass of ALGORITHMS.md 3, written
/// from the parameter names of the safetensors export: Dense `y = x W + b` is
/// `Gemm` (`MatMul` for a bias-free gate), BatchNorm is
/// `BatchNormalization` with the running statistics (ε = 1e-5), dropout is
/// absent (the identity), a gate is `Softmax` then `Σ_e p_e·E_e` as
/// `Unsqueeze`/`Concat`/`Mul`/`ReduceSum`; a sequence field is pooled with
/// `Gather`, the mask and `ReduceSum` (`ScoringGraph.pooledSequence`). Every weight is an initializer
/// (float32, raw little-endian). Standard-domain operators only, opset 17.
public enum ONNXExport {
    /// `metadata_props["format"]`.
    public static let formatIdentifier = "ranker-onnx/1"
    /// The operator set version of the standard domain the graph uses.
    public static let opsetVersion: Int64 = 17
    /// The ONNX IR version written (ONNX 1.13+, onnxruntime 1.14+ read it).
    public static let irVersion: Int64 = 8

    /// Names of the graph's inputs and output.
    public enum Name {
        public static let sparseIDs = "sparse_ids"
        public static let dense = "dense"
        public static let probabilities = "probabilities"
        /// The padded ids of sequence field `field`.
        public static func sequenceIDs(_ field: String) -> String { field + "_ids" }
        /// The 0/1 mask of sequence field `field`.
        public static func sequenceMask(_ field: String) -> String { field + "_mask" }
    }

    /// Keys of `metadata_props` besides the model description the safetensors
    /// export also writes (`ModelExport.Key`: `format`, `ranker_version`,
    /// `model_config`, `tasks`, `outputs`; see `ModelExport.modelDescription`).
    public enum Key {
        public static let sparseFields = "sparse_fields"
        public static let denseFeatures = "dense_features"
        public static let sequenceFields = "sequence_fields"
        public static let runConfiguration = "run_config"
    }

    /// The ONNX model of `model`'s evaluation-mode scoring graph.
    ///
    /// - Parameters:
    ///   - runConfiguration: the run's configuration JSON (`config.json`), stored
    ///     as `metadata_props["run_config"]` when given.
    ///   - metadata: extra `metadata_props` entries (they cannot replace the keys above).
    /// - Throws: `ONNXExportError` when a tensor the architecture needs is
    ///   missing or has another shape, or a tensor is left unused.
    public static func model(of model: MultiTaskModel, runConfiguration: String? = nil,
                             metadata extra: [String: String] = [:]) throws -> Onnx_ModelProto {
        let configuration = model.configuration
        var graph = ScoringGraph(configuration: configuration, tensors: model.savedTensors)
        let probabilities = try graph.build()
        try graph.checkEveryTensorUsed()

        var proto = Onnx_GraphProto()
        proto.name = "ranker_\(configuration.model.rawValue)"
        proto.node = graph.builder.nodes
        proto.initializer = graph.builder.initializers
        proto.input = [
            ONNXValueInfo.tensor(Name.sparseIDs, .int64, shape: [.symbolic("batch"), .fixed(configuration.sparseFields.count)]),
            ONNXValueInfo.tensor(Name.dense, .float, shape: [.symbolic("batch"), .fixed(configuration.denseFeatures)]),
        ] + configuration.sequenceFields.flatMap { field in [
            ONNXValueInfo.tensor(Name.sequenceIDs(field.name), .int64, shape: [.symbolic("batch"), .fixed(field.maxLength)]),
            ONNXValueInfo.tensor(Name.sequenceMask(field.name), .float, shape: [.symbolic("batch"), .fixed(field.maxLength)]),
        ] }
        precondition(probabilities == Name.probabilities)
        proto.output = [
            ONNXValueInfo.tensor(Name.probabilities, .float, shape: [.symbolic("batch"), .fixed(model.outputNames.count)]),
        ]
        proto.docString = "Ranker \(configuration.model.rawValue): probabilities[batch, \(model.outputNames.count)] = "
            + "outputs \(model.outputNames) of sparse_ids[batch, \(configuration.sparseFields.count)] (encoded ids, "
            + "fields \(configuration.sparseFields.map(\.name))) and dense[batch, \(configuration.denseFeatures)] "
            + "(transformed values)"
            + configuration.sequenceFields.map {
                ", \($0.name)_ids and \($0.name)_mask[batch, \($0.maxLength)] (\($0.pooling.rawValue)-pooled list)"
            }.joined()

        var metadata = extra.merging(try ModelExport.modelDescription(
            format: formatIdentifier, configuration: configuration, outputNames: model.outputNames)) { $1 }
        metadata[Key.sparseFields] = try json(configuration.sparseFields.map(\.name))
        metadata[Key.denseFeatures] = String(configuration.denseFeatures)
        metadata[Key.sequenceFields] = try json(configuration.sequenceFields.map(SequenceInput.init))
        if let runConfiguration { metadata[Key.runConfiguration] = runConfiguration }

        var onnx = Onnx_ModelProto()
        onnx.irVersion = irVersion
        onnx.producerName = "ranker"
        onnx.producerVersion = RankerVersion.string
        onnx.modelVersion = 1
        var opset = Onnx_OperatorSetIdProto()
        opset.domain = ""
        opset.version = opsetVersion
        onnx.opsetImport = [opset]
        onnx.graph = proto
        onnx.metadataProps = metadata.keys.sorted().map { key in
            var entry = Onnx_StringStringEntryProto()
            entry.key = key
            entry.value = metadata[key]!
            return entry
        }
        return onnx
    }

    /// Writes `model(of:…)` to `url` atomically (serialized protocol buffer).
    ///
    /// - Throws: as `model(of:…)`; `FileIOError`.
    public static func write(_ model: MultiTaskModel, to url: URL, runConfiguration: String? = nil,
                             metadata: [String: String] = [:]) throws {
        let bytes: [UInt8] = try Self.model(of: model, runConfiguration: runConfiguration, metadata: metadata)
            .serializedBytes()
        try AtomicFile.write(to: url) { try $0.write(bytes) }
    }

    private static func json<T: Encodable>(_ value: T) throws -> String {
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.sortedKeys, .withoutEscapingSlashes]
        return String(decoding: try encoder.encode(value), as: UTF8.self)
    }
}

/// One entry of `metadata_props["sequence_fields"]`: a sequence field's inputs and pooling.
struct SequenceInput: Encodable {
    var name: String
    var maxLength: Int
    var pooling: String
    var idsInput: String
    var maskInput: String
    var table: String
    var target: String?
    var attentionSoftmax: Bool?

    init(_ field: SequenceField) {
        name = field.name
        maxLength = field.maxLength
        pooling = field.pooling.rawValue
        idsInput = ONNXExport.Name.sequenceIDs(field.name)
        maskInput = ONNXExport.Name.sequenceMask(field.name)
        table = "embedding.\(field.sharesEmbeddingWith ?? field.name)"
        target = field.target
        attentionSoftmax = field.pooling == .attention ? field.attentionSoftmax : nil
    }

    enum CodingKeys: String, CodingKey {
        case name, pooling, table, target
        case maxLength = "max_length"
        case idsInput = "ids_input"
        case maskInput = "mask_input"
        case attentionSoftmax = "attention_softmax"
    }
}

/// A tensor the graph needs is missing or misshapen, or a tensor is left over.
public struct ONNXExportError: Error, CustomStringConvertible, Equatable {
    public let message: String
    public var description: String { "ONNX export: \(message)" }
}
