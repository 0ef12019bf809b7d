import ArgumentParser
import Foundation
import Ranker

/// `ranker export`: a trained model's weights as a weights-only safetensors file.
struct ExportCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "export",
        abstract: "Write a trained model's weights as a weights-only safetensors file.",
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
            """
    )

    @Argument(help: "Run directory, or a checkpoint or export .safetensors file.")
    var source: String

    @OptionGroup var weightsOption: WeightsOption

    @Option(help: ArgumentHelp("The export file to write.", valueName: "file"))
    var out: String

    func validate() throws {
        var isDirectory: ObjCBool = false
        guard FileManager.default.fileExists(atPath: source, isDirectory: &isDirectory) else {
            throw ValidationError("\(source) does not exist")
        }
        if !isDirectory.boolValue && weightsOption.weights != nil {
            throw ValidationError("--weights applies to a run directory; \(source) is a file")
        }
        if out.isEmpty { throw ValidationError("--out needs a file name") }
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
            model = try makeModel(try directory.modelConfiguration(for: configuration))
            try StateFileError.naming(file.path) { try ModelWeights.load(into: model, from: file) }
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
}
