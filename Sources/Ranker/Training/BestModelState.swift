import Foundation

/// The best valid state of a run: a copy of the model parameters and state
/// tensors (BatchNorm running statistics) in memory (tested at the end in
/// epoch mode) and `best.safetensors` on disk (export format), with the
/// evaluation that made it best.
struct BestModelState {
    /// The parameters and state tensors, as `Checkpoint.Prefix.model + name` tensors.
    private(set) var parameters: Checkpoint?
    /// The valid evaluation of the kept state (nil after a resume until the next improvement).
    private(set) var evaluation: Evaluation?

    /// Keeps the model's current parameters as the best and writes them to
    /// `url` (`nil`: in memory only, a data-parallel replica other than rank 0).
    mutating func keep(_ model: MultiTaskModel, evaluation: Evaluation, step: Int, to url: URL?) throws {
        var best = Checkpoint()
        for t in model.savedTensors { best.tensors[Checkpoint.Prefix.model + t.name] = t.value.clone() }
        parameters = best
        self.evaluation = evaluation
        guard let url else { return }
        try ModelExport.write(model, to: url,
                              metadata: ["step": "\(step)", "valid_mean_auc": "\(evaluation.meanAUC)"])
    }

    /// On resume: the best parameters written before, when `url` exists.
    ///
    /// Every tensor is checked before use: the file must be an export
    /// holding exactly the model's tensors, each `F32` of its tensor's shape
    /// (a file copied from a run with another vocabulary, or with a
    /// transposed matrix of the same size, is refused), with matching
    /// checksums when the file has them.
    ///
    /// - Throws: `SafeTensorsError` (`shapeMismatch`, `tensorNotFound`,
    ///   `unsupportedDType`, `checksumMismatch`, …) or `StateFileError`
    ///   (`wrongFormat`, `unexpectedTensor`), naming the file and the tensor.
    mutating func load(from url: URL, model: MultiTaskModel) throws {
        guard FileManager.default.fileExists(atPath: url.path) else { return }
        let reader = try SafeTensorsReader(url: url)
        let format = reader.metadata[ModelExport.Key.format]
        guard format == ModelExport.formatIdentifier else {
            throw CheckpointError.wrongFormat(path: url.path, expected: ModelExport.formatIdentifier, found: format)
        }
        let saved = model.savedTensors
        for t in saved { _ = try reader.matrixEntry(named: t.name, rows: t.value.rows, cols: t.value.cols) }
        let names = Set(saved.map(\.name))
        for name in reader.tensorNames where !names.contains(name) {
            throw StateFileError(path: url.path, error: .unexpectedTensor(name: name))
        }
        var best = Checkpoint()
        for t in saved {
            best.tensors[Checkpoint.Prefix.model + t.name] = try reader.readMatrix(named: t.name, rows: t.value.rows,
                                                                                   cols: t.value.cols)
        }
        parameters = best
    }

    /// Copies the kept parameters into `model` (nothing when none was kept;
    /// their shapes were checked when they were kept or loaded).
    func restore(into model: MultiTaskModel) {
        guard let best = parameters else { return }
        for t in model.savedTensors {
            if let m = best.tensors[Checkpoint.Prefix.model + t.name] {
                precondition(m.rows == t.value.rows && m.cols == t.value.cols, "best state \(t.name): shape checked on load")
                t.value.copy(from: m)
            }
        }
    }
}
