import ArgumentParser
import Foundation
import Ranker
import RankerONNX

/// `ranker export`: a trained model's weights as a weights-only safetensors
/// file, or its whole scoring graph as an ONNX model.
struct ExportCommand: ParsableCommand {
    /// The file format written.
    enum Format: String, ExpressibleByArgument, CaseIterable {
        case safetensors
        case onnx
    }

    static let configuration = CommandConfiguration(
        commandName: "export",
        abstract: "Write a trained model as a weights-only safetensors file or as an ONNX scoring graph.",
        discussion: """
            The output is the export format of docs/EXPORT.md (format ranker-export/1): one F32 \
            tensor per parameter, named by the parameter, with the model configuration, the task \
            names and the output names in its metadata. `ranker predict`, ModelExport.loadModel and \
            tools/export_predict.py read it.

            From a run directory: --weights best (default) validates best.safetensors, which is \
            already an export, and copies it; --weights last exports the model tensors of \
            checkpoint.safetensors. From a file: a checkpoint is exported (its model configuration \
            comes from encoding.json beside it, else from the data its configuration names), an \
            export is validated and copied.

            Every tensor is checked before anything is written: its name, dtype and shape against \
            the model, its CRC-32C when the file has checksums, and its values — a tensor holding \
            NaN or an infinity is an error naming the file and the tensor, and nothing is written.

            --format onnx writes the complete evaluation-mode scoring graph instead (docs/EXPORT.md, \
            "ONNX"): inputs sparse_ids (int64, batch × sparse fields, the encoded ids) and dense \
            (float, batch × dense features, the transformed values), output probabilities (float, \
            batch × outputs), standard-domain operators of opset 17, the weights as float32 \
            initializers, and the task names, output order, Ranker version, model configuration and \
            run configuration in its metadata_props. --encoding also writes the run's frozen data \
            encoding (vocabularies, dense statistics) beside it as <out without .onnx>.encoding.json, \
            which turns raw rows into those inputs.
            """
    )

    @Argument(help: "Run directory, or a checkpoint or export .safetensors file.")
    var source: String

    @OptionGroup var weightsOption: WeightsOption

    @Option(help: ArgumentHelp("The export file to write.", valueName: "file"))
    var out: String

    @Option(help: "The file format: safetensors (weights only, the default) or onnx (the whole scoring graph).")
    var format: Format = .safetensors

    @Flag(help: "With --format onnx: also write the run's data encoding as <out without .onnx>.encoding.json.")
    var encoding = false

    /// Where `--encoding` writes: `model.onnx` → `model.encoding.json`.
    var encodingDestination: URL {
        let url = URL(fileURLWithPath: out)
        let stem = url.pathExtension == "onnx" ? url.deletingPathExtension() : url
        return stem.deletingLastPathComponent().appendingPathComponent(stem.lastPathComponent + ".encoding.json")
    }

    func validate() throws {
        var isDirectory: ObjCBool = false
        guard FileManager.default.fileExists(atPath: source, isDirectory: &isDirectory) else {
            throw ValidationError("\(source) does not exist")
        }
        if !isDirectory.boolValue && weightsOption.weights != nil {
            throw ValidationError("--weights applies to a run directory; \(source) is a file")
        }
        if out.isEmpty { throw ValidationError("--out needs a file name") }
        if encoding && format != .onnx { throw ValidationError("--encoding applies to --format onnx") }
    }

    func run() throws {
        var isDirectory: ObjCBool = false
        _ = FileManager.default.fileExists(atPath: source, isDirectory: &isDirectory)
        let file = isDirectory.boolValue
            ? try weightsFile(weightsOption.weights ?? .best, in: RunDirectory(path: source))
            : URL(fileURLWithPath: source)
        let destination = URL(fileURLWithPath: out)
        guard file.standardizedFileURL.path != destination.standardizedFileURL.path else {
            throw CommandError("--out is the source file \(file.path)")
        }
        if format == .onnx {
            try exportONNX(from: file, to: destination)
            return
        }
        let format = try SafeTensorsReader(url: file).metadata[ModelExport.Key.format]
        let model: MultiTaskModel
        switch format {
        case ModelExport.formatIdentifier:
            // Already an export: check that it rebuilds, then copy it byte for byte.
            model = try StateFileError.naming(file.path) { try ModelExport.loadModel(from: file) }
            try NonFiniteTensorError.check(model.savedTensors, from: file.path)
            let bytes: [UInt8]
            do {
                bytes = Array(try Data(contentsOf: file))
            } catch {
                throw FileIOError(path: file.path, operation: "read", message: error.localizedDescription)
            }
            try AtomicFile.write(to: destination) { try $0.write(bytes) }
        case Checkpoint.formatIdentifier:
            let checkpoint = try SafeTensorsReader(url: file)
            model = try checkpointModel(checkpoint, file: file)
            try NonFiniteTensorError.check(model.savedTensors, from: file.path)
            var metadata = ["source": file.lastPathComponent]
            if let step = checkpoint.metadata[Checkpoint.Key.step] { metadata["step"] = step }
            try ModelExport.write(model, to: destination, metadata: metadata)
        default:
            throw CheckpointError.wrongFormat(path: file.path,
                                              expected: "\(ModelExport.formatIdentifier) or \(Checkpoint.formatIdentifier)",
                                              found: format)
        }
        print("\(destination.path): \(model.configuration.model.rawValue), \(model.parameterCount) parameters, "
              + "outputs \(model.outputNames.joined(separator: ", ")) (from \(file.path))")
    }

    /// The model of a training checkpoint (`checkpoint`, read from `file`):
    /// built from the run configuration in its metadata and the run
    /// directory's encoding, its weights loaded and checked.
    func checkpointModel(_ checkpoint: SafeTensorsReader, file: URL) throws -> MultiTaskModel {
        guard let text = checkpoint.metadata[Checkpoint.Key.configuration] else {
            throw CheckpointError.missingMetadata(key: Checkpoint.Key.configuration)
        }
        let configuration: RunConfiguration
        do {
            configuration = try JSONDecoder().decode(RunConfiguration.self, from: Data(text.utf8))
        } catch {
            throw CheckpointError.invalidMetadata(key: Checkpoint.Key.configuration, reason: "\(error)")
        }
        let directory = RunDirectory(url: file.deletingLastPathComponent())
        let model = try makeModel(try directory.modelConfiguration(for: configuration))
        try StateFileError.naming(file.path) { try ModelWeights.load(into: model, from: file) }
        return model
    }

    /// `--format onnx`: the model of `file` (an export, or a checkpoint with its
    /// run's configuration) as an ONNX scoring graph, with the run's
    /// `config.json` in its metadata when there is one beside the file; with
    /// `--encoding`, the run's `encoding.json` beside it.
    func exportONNX(from file: URL, to destination: URL) throws {
        let reader = try SafeTensorsReader(url: file)
        let directory = RunDirectory(url: file.deletingLastPathComponent())
        let model: MultiTaskModel
        var metadata = ["source": file.lastPathComponent]
        switch reader.metadata[ModelExport.Key.format] {
        case ModelExport.formatIdentifier:
            model = try StateFileError.naming(file.path) { try ModelExport.loadModel(from: file) }
        case Checkpoint.formatIdentifier:
            model = try checkpointModel(reader, file: file)
            if let step = reader.metadata[Checkpoint.Key.step] { metadata["step"] = step }
        case let found:
            throw CheckpointError.wrongFormat(path: file.path,
                                              expected: "\(ModelExport.formatIdentifier) or \(Checkpoint.formatIdentifier)",
                                              found: found)
        }
        try NonFiniteTensorError.check(model.savedTensors, from: file.path)

        // The run's configuration, as its config.json holds it.
        var runConfiguration: String?
        if FileManager.default.fileExists(atPath: directory.configurationURL.path) {
            do {
                runConfiguration = String(decoding: try Data(contentsOf: directory.configurationURL), as: UTF8.self)
            } catch {
                throw FileIOError(path: directory.configurationURL.path, operation: "read",
                                  message: error.localizedDescription)
            }
        }

        // The encoding is checked against the model before anything is written.
        var frozen: DatasetEncoding?
        if encoding {
            guard FileManager.default.fileExists(atPath: directory.encodingURL.path) else {
                throw CommandError("--encoding: \(directory.encodingURL.path) does not exist (the run's data came "
                                   + "from code, not from a CSV schema: there is no encoding to write)")
            }
            let loaded = try DatasetEncoding.load(path: directory.encodingURL.path)
            // Sparse, dense and sequence fields, each property by name.
            if let mismatch = loaded.mismatch(with: model.configuration) {
                throw CommandError("\(file.path) and \(directory.encodingURL.path) do not belong together: \(mismatch)")
            }
            frozen = loaded
        }
        try ONNXExport.write(model, to: destination, runConfiguration: runConfiguration, metadata: metadata)
        print("\(destination.path): ONNX opset \(ONNXExport.opsetVersion), \(model.configuration.model.rawValue), "
              + "\(model.parameterCount) parameters, outputs \(model.outputNames.joined(separator: ", ")) (from \(file.path))")
        if let frozen {
            try frozen.write(to: encodingDestination)
            print("\(encodingDestination.path): the data encoding (\(frozen.sparseFields.count) sparse fields, "
                  + "\(frozen.denseFeatures.count) dense features)")
        }
    }
}
