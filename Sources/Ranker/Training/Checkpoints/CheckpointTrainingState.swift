import Foundation

/// Building a checkpoint from the training state, and restoring it.
extension Checkpoint {
    /// The checkpoint of a model's parameters, its optimizer's state and the
    /// loss-weighting layer's extra tensors. The tensors share the live
    /// storage (see the type's documentation); the metadata gets `format`,
    /// `ranker_version` and `optimizer` (scalar state). The caller adds
    /// `config`, `step`, `epoch`, `rng`, `weighting` and `trainer` with
    /// `encode(_:forKey:)`.
    ///
    /// - Parameters:
    ///   - parameters: the model's parameters (`MultiTaskModel.parameters`), unique names.
    ///   - optimizer: bound to `parameters` (it is bound by `prepare(for:)` if
    ///     it has not stepped yet), or `nil` for a weights-and-metadata checkpoint.
    ///   - modelState: the model's state tensors (`MultiTaskModel.stateTensors`,
    ///     the BatchNorm running statistics), stored as `model/<name>` beside
    ///     the parameters.
    ///   - weightingTensors: named matrices, stored as `weighting/<name>`.
    /// - Throws: `CheckpointError.invalidMetadata` if the optimizer's counters
    ///   cannot be encoded.
    public init(parameters: [Parameter], modelState: [(name: String, value: Matrix)] = [], optimizer: Optimizer?,
                weightingTensors: [(name: String, value: Matrix)] = []) throws {
        var tensors: [String: Matrix] = [:]
        for p in parameters {
            precondition(tensors.updateValue(p.value, forKey: Prefix.model + p.name) == nil,
                         "parameter name \(p.name) appears twice")
        }
        for s in modelState {
            precondition(tensors.updateValue(s.value, forKey: Prefix.model + s.name) == nil,
                         "model state name \(s.name) appears twice")
        }
        for w in weightingTensors {
            precondition(tensors.updateValue(w.value, forKey: Prefix.weighting + w.name) == nil,
                         "weighting tensor name \(w.name) appears twice")
        }
        self.init(tensors: tensors)
        if let optimizer {
            optimizer.prepare(for: parameters)
            for s in optimizer.stateTensors() {
                precondition(self.tensors.updateValue(s.value, forKey: Prefix.optimizer + s.name) == nil,
                             "optimizer state name \(s.name) appears twice")
            }
            try encode(optimizer.scalarState, forKey: Key.optimizer)
        }
    }

    /// Copies the checkpoint into `parameters`, the model's state tensors
    /// `modelState` and, when given, `optimizer`.
    ///
    /// Everything is validated before anything changes: every parameter and
    /// state tensor has its `model/<name>` tensor of the same shape and every
    /// `model/` tensor is one of them; with an optimizer, the same holds for
    /// `optimizer/<state tensor name>` (`Optimizer.stateTensorNames(forParameter:)`,
    /// each of its parameter's shape) and
    /// the `optimizer` metadata decodes. Tensors outside the `model/`,
    /// `optimizer/` and `weighting/` groups are unexpected. Without an
    /// optimizer, `optimizer/` tensors are ignored (loading weights only).
    /// `weighting/` tensors and the remaining metadata are for the caller
    /// (`weightingTensors()`, `decode(_:forKey:)`).
    ///
    /// Values are copied bit for bit, so training continues exactly as the
    /// run that wrote the checkpoint.
    ///
    /// - Throws: `CheckpointError` naming the tensor or key; on error neither
    ///   the parameters nor the optimizer have changed.
    public func restore(into parameters: [Parameter], modelState: [(name: String, value: Matrix)] = [],
                        optimizer: Optimizer?) throws {
        try validate(group: Prefix.model, against: parameters.map { (name: $0.name, rows: $0.rows, cols: $0.cols) }
                                                   + modelState.map { (name: $0.name, rows: $0.value.rows, cols: $0.value.cols) })
        for name in tensors.keys.sorted()
        where ![Prefix.model, Prefix.optimizer, Prefix.weighting].contains(where: { name.hasPrefix($0) }) {
            throw CheckpointError.unexpectedTensor(name: name)
        }
        if let optimizer {
            let expected = parameters.flatMap { p in
                optimizer.stateTensorNames(forParameter: p.name).map { (name: $0, parameter: p) }
            }
            try validate(group: Prefix.optimizer, against: expected.map { (name: $0.name, rows: $0.parameter.rows,
                                                                           cols: $0.parameter.cols) })
            let scalars = try optimizerScalarState()
            let state = expected.map { (name: $0.name, value: tensors[Prefix.optimizer + $0.name]!) }
            do {
                try optimizer.restoreState(tensors: state, scalars: scalars, parameters: parameters)
            } catch let error as OptimizerStateError {
                throw CheckpointError.invalidOptimizerState(error)
            }
        }
        for p in parameters {
            p.value.copy(from: tensors[Prefix.model + p.name]!)
        }
        for s in modelState {
            s.value.copy(from: tensors[Prefix.model + s.name]!)
        }
    }

    /// The `weighting/` tensors with the prefix removed, sorted by name.
    public func weightingTensors() -> [(name: String, value: Matrix)] {
        tensors.keys.filter { $0.hasPrefix(Prefix.weighting) }.sorted().map {
            (name: String($0.dropFirst(Prefix.weighting.count)), value: tensors[$0]!)
        }
    }

    /// Checks that the tensors of `group` are exactly the `expected` names,
    /// each of its expected shape.
    private func validate(group prefix: String, against expectedTensors: [(name: String, rows: Int, cols: Int)]) throws {
        var expected = Set<String>()
        for (tensor, rows, cols) in expectedTensors {
            let name = prefix + tensor
            precondition(expected.insert(name).inserted, "tensor name \(name) appears twice")
            guard let m = tensors[name] else { throw CheckpointError.missingTensor(name: name) }
            guard m.rows == rows, m.cols == cols else {
                throw CheckpointError.shapeMismatch(name: name, expected: [rows, cols], found: [m.rows, m.cols])
            }
        }
        for name in tensors.keys.sorted() where name.hasPrefix(prefix) && !expected.contains(name) {
            throw CheckpointError.unexpectedTensor(name: name)
        }
    }
}
