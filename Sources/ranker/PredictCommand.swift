import ArgumentParser
import Foundation
import Ranker

/// `ranker predict`: scores of new CSV rows with a trained model.
struct PredictCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "predict",
        abstract: "Score the rows of a CSV file with a trained model.",
        discussion: """
            Reads --input with the run's frozen data encoding (encoding.json: the schema, the train \
            vocabularies and dense statistics; a value the train split never had gets id 0), runs \
            the model exported in --model (best.safetensors of a run, or the output of `ranker \
            export`) in batches and writes a CSV file: a header with the kept columns, then the \
            model's outputs (its task names; ESMM: ctr, cvr, ctcvr), and one row per input row \
            with the probabilities (the raw value for regression tasks), written as the shortest \
            decimal that reads back as the same 32-bit float.

            The input has the columns of the training files (same format, header or not). Label, \
            user and day columns are not read and may be left out (a file without a header may \
            only lack trailing ones). Errors name the file, line and column.

            --run DIR stands for --model DIR/best.safetensors --encoding DIR/encoding.json.
            """
    )

    @Option(name: .customLong("run"),
            help: ArgumentHelp("Run directory: uses its best.safetensors and encoding.json unless --model or --encoding is given.",
                               valueName: "dir"))
    var runDirectory: String?

    @Option(help: ArgumentHelp("Model weights in the export format (best.safetensors, or a file written by `ranker export`).",
                               valueName: "file"))
    var model: String?

    @Option(help: ArgumentHelp("Data encoding of the run (encoding.json of its run directory).", valueName: "file"))
    var encoding: String?

    @Option(help: ArgumentHelp("CSV file to score (plain or gzip).", valueName: "file"))
    var input: String

    @Option(help: ArgumentHelp("CSV file to write the predictions to (- for standard output).", valueName: "file"))
    var output: String

    @Option(help: ArgumentHelp("Input column to copy into the output before the predictions, by header name "
                               + "(or 0-based index for a file without a header); repeatable.", valueName: "column"))
    var keep: [String] = []

    @Option(help: "Rows per forward pass.")
    var batchSize: Int = 4096

    @Option(help: "OpenBLAS threads.")
    var threads: Int = 1

    var modelPath: String? { model ?? runDirectory.map { RunDirectory(path: $0).bestURL.path } }
    var encodingPath: String? { encoding ?? runDirectory.map { RunDirectory(path: $0).encodingURL.path } }

    func validate() throws {
        if modelPath == nil { throw ValidationError("give --model FILE (or --run DIR)") }
        if encodingPath == nil { throw ValidationError("give --encoding FILE (or --run DIR)") }
        if batchSize < 1 { throw ValidationError("--batch-size must be at least 1") }
        if threads < 1 { throw ValidationError("--threads must be at least 1") }
        if keep.contains(where: \.isEmpty) { throw ValidationError("--keep needs a column name") }
        if let runDirectory {
            var isDirectory: ObjCBool = false
            guard FileManager.default.fileExists(atPath: runDirectory, isDirectory: &isDirectory) else {
                throw ValidationError("the run directory \(runDirectory) does not exist")
            }
            guard isDirectory.boolValue else { throw ValidationError("--run \(runDirectory) is not a directory") }
        }
        if output != "-" && sameFile(output, input) {
            throw ValidationError("--output \(output) is the input file \(input): writing it would destroy the rows "
                                  + "being read; choose another output file")
        }
    }

    /// Whether `a` and `b` name the same file: the same device and inode
    /// when both exist (through a symbolic link, `..` or another spelling),
    /// else the same path once symbolic links and `.`/`..` are resolved.
    func sameFile(_ a: String, _ b: String) -> Bool {
        var first = stat(), second = stat()
        if stat(a, &first) == 0 && stat(b, &second) == 0 {
            return first.st_dev == second.st_dev && first.st_ino == second.st_ino
        }
        func canonical(_ path: String) -> String { URL(fileURLWithPath: path).resolvingSymlinksInPath().standardizedFileURL.path }
        return canonical(a) == canonical(b)
    }

    func run() throws {
        BLAS.threadCount = threads
        let encodingFile = encodingPath!
        guard FileManager.default.fileExists(atPath: encodingFile) else {
            throw CommandError("\(encodingFile) does not exist"
                               + (encoding == nil ? " (the run's data came from code, not from a CSV schema: nothing to predict on)" : ""))
        }
        let frozen = try DatasetEncoding.load(path: encodingFile)
        // A tensor or metadata that does not fit is a CheckpointError naming the tensor; the file is named here.
        let loaded: MultiTaskModel = try StateFileError.naming(modelPath!) {
            do {
                return try ModelExport.loadModel(from: URL(fileURLWithPath: modelPath!))
            } catch CheckpointError.wrongFormat(let path, let expected, let found) {
                throw CommandError("\(path) is not a model export (format \(found ?? "none"), expected \(expected))"
                                   + (found == Checkpoint.formatIdentifier ? "; make one with `ranker export`" : ""))
            }
        }
        let c = loaded.configuration
        // Field by field, naming the first property that differs (as `ranker export --encoding` does).
        if let mismatch = frozen.mismatch(with: c) {
            throw CommandError("\(modelPath!) and \(encodingFile) do not belong together: \(mismatch)")
        }
        let keepColumns = keep.map { name -> ColumnReference in
            if !frozen.schema.format.header, let index = Int(name), index >= 0 { return .index(index) }
            return .name(name)
        }
        let rows = try CSVDatasetLoader.load(encoding: frozen, path: input, labels: .ignored, keep: keepColumns,
                                             encodingSource: encodingFile)
        let dataset = rows.dataset
        if let skip = dataset.report.skips.first {
            throw CommandError("\(skip.firstFile):\(skip.firstLine): missing value in \(skip.column), and the schema "
                               + "skips such rows (\"missing\": \"skip_row\"); predict writes one output row per input "
                               + "row: fill the value or give the column a default")
        }
        var unseen: [String] = []
        for (f, field) in frozen.sparseFields.enumerated() where field.encoding == .vocabulary {
            let zeros = dataset.ids[f].reduce(0) { $0 + ($1 == 0 ? 1 : 0) }
            if zeros > 0 { unseen.append("\(field.name) \(zeros)") }
        }

        let outputs = loaded.outputNames
        let header = (keep + outputs).map(csvField).joined(separator: ",") + "\n"
        func writeRows(_ write: (String) throws -> Void) throws {
            try write(header)
            let batch = dataset.makeBatch(capacity: min(batchSize, max(dataset.count, 1)))
            let predictions = Matrix(rows: 0, cols: outputs.count)
            let order = Array(0..<dataset.count)
            var start = 0
            while start < dataset.count {
                let end = min(dataset.count, start + batchSize)
                dataset.fill(batch, rows: order[start..<end])
                let logits = loaded.forward(batch)
                predictions.resize(rows: end - start, cols: outputs.count)
                loaded.predict(logits: logits, into: predictions.view)
                var text = ""
                for b in 0..<(end - start) {
                    var cells = rows.keptColumns.map { csvField($0[start + b]) }
                    for k in 0..<outputs.count { cells.append("\(predictions[b, k])") }
                    text += cells.joined(separator: ",") + "\n"
                }
                try write(text)
                start = end
            }
        }
        if output == "-" {
            try writeRows { FileHandle.standardOutput.write(Data($0.utf8)) }
            return
        }
        try AtomicFile.write(to: URL(fileURLWithPath: output)) { sink in
            try writeRows { try sink.write(Array($0.utf8)) }
        }
        print("\(dataset.count) rows of \(input) scored with \(c.model.rawValue) → \(output) (\(outputs.joined(separator: ", ")))")
        if !unseen.isEmpty {
            print("values the train split never had (id 0), rows per field: " + unseen.joined(separator: ", "))
        }
    }
}

/// A CSV field: quoted (with `"` doubled) when it holds a comma, a quote or a line break.
func csvField(_ text: String) -> String {
    guard text.contains(where: { $0 == "," || $0 == "\"" || $0 == "\n" || $0 == "\r" }) else { return text }
    return "\"" + text.replacingOccurrences(of: "\"", with: "\"\"") + "\""
}
