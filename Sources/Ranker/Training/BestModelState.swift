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
    mutating func load(from url: URL, model: MultiTaskModel) throws {
        guard FileManager.default.fileExists(atPath: url.path) else { return }
        let reader = try SafeTensorsReader(url: url)
        var best = Checkpoint()
        for t in model.savedTensors {
            best.tensors[Checkpoint.Prefix.model + t.name] = try reader.readMatrix(named: t.name)
        }
        parameters = best
    }

    /// Copies the kept parameters into `model` (nothing when none was kept).
    func restore(into model: MultiTaskModel) {
        guard let best = parameters else { return }
        for t in model.savedTensors {
            if let m = best.tensors[Checkpoint.Prefix.model + t.name] { t.value.copy(from: m) }
        }
    }
}
