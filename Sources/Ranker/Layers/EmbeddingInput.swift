import CBLAS

/// One sparse (categorical) input field: a table of `vocabulary × dimension`.
public struct SparseField: Codable, Equatable, Sendable {
    public var name: String
    public var vocabulary: Int
    public var dimension: Int

    public init(name: String, vocabulary: Int, dimension: Int) {
        self.name = name
        self.vocabulary = vocabulary
        self.dimension = dimension
    }
}

/// The model input layer (ALGORITHMS.md 3.1): one embedding table per sparse field,
/// looked up and concatenated in field order, then one pooled vector per
/// sequence field, then the dense features appended as raw values:
///
///     x_b = [E_1[id_b1], …, E_F[id_bF], pool_1(b), …, pool_S(b), dense_b]     (B × D)
///
/// with `D = Σ k_f + Σ k_s + n_dense`. A sequence field's pool is `PooledBag`
/// (sum or mean) or `TargetAttention` (query: its target field's slice of
/// `x`) over the example's ids in its table: its own table, or — with
/// `shares_embedding_with` — the table of a sparse field (one `Parameter`, two readers).
///
/// Tables are `Parameter`s named `<name>.<field>` of kind `.embedding`, always
/// shared by all tasks; a sequence's attention MLP is `attention.<field>.<i>.{W,b}`.
/// Backward splits `dx` per field and scatter-adds each row into the table's
/// row-sparse gradient (duplicate ids summed, every reader of a table into the same rows).
public final class EmbeddingInput {
    public let fields: [SparseField]
    public let sequences: [SequenceField]
    public let denseCount: Int
    /// The tables: one per sparse field, then one per sequence field with a table of its own.
    public let tables: [Parameter]
    /// The table each sequence field reads (its own, or the shared field's).
    public let sequenceTables: [Parameter]
    /// The attention of each sequence field with `attention` pooling.
    public let attentions: [TargetAttention?]
    /// Column offset of each field's slice in `x`.
    public let offsets: [Int]
    /// Column offset of each sequence field's pooled slice in `x`.
    public let sequenceColumns: [Int]
    /// `D`, the width of `x`.
    public let outputSize: Int
    private let output = Matrix(rows: 0, cols: 0)
    /// For the last batch: the slot of each (example, field) id in its table's
    /// sparse gradient, field `f`'s `B` slots at `f·B` (the slot is also the
    /// row's index among field `f`'s distinct rows).
    private(set) var slots: [Int32] = []
    /// For the last batch, per sequence field: the offsets (`B + 1`) and the
    /// slot of every id in its table's sparse gradient.
    private var sequenceOffsets: [[Int32]]
    private var sequenceSlots: [[Int32]]
    /// The sparse field of each attention's query.
    private let targetFields: [Int?]
    private var batchSize = 0
    /// Whether the layers that read `x` fold their product into the
    /// embeddings (`EmbeddingFolding`; the default decides per batch).
    public var folding: EmbeddingFolding = .automatic
    /// The last batch's distinct rows per field, for the folded product
    /// (EmbeddingInputDistinctRows.swift): `U_f`, the rows themselves (field
    /// `f`'s `U_f × k_f` block at element offset `distinctStarts[f]`) and,
    /// `B × F`, each example's row among all fields' `Σ_f U_f` (field `f`'s
    /// from `Σ_{g<f} U_g`); valid when `foldsLastBatch`.
    var distinctCounts: [Int] = []
    var distinctStarts: [Int] = []
    var distinctRowIndex: [Int32] = []
    let distinctRows = Matrix(rows: 0, cols: 0)
    var foldsLastBatch = false
    /// `∂L/∂x` of the backward pass under way, stacked (`S·B × D`): the layers
    /// that read `x` write their input gradients into it after
    /// `beginBackward(stack:)`, and `backward(_:)` takes it into the tables.
    public let outputGradient = Matrix(rows: 0, cols: 0)
    /// The folded layers' `∂L/∂R_f` per stacked block (`S × Σ_f U_f·k_f`;
    /// block `t`'s field `f` from element `distinctStarts[f]` of row `t`),
    /// and `S` of the pass begun since the last forward (0: none).
    let foldedGradient = Matrix(rows: 0, cols: 0)
    var foldedGradientBlocks = 0
    /// Examples ahead whose embedding rows are prefetched.
    private let prefetchDistance = 8

    /// The input of a model: `configuration`'s sparse fields, sequence fields
    /// and dense features (every model kind builds its input this way).
    public convenience init(_ configuration: ModelConfiguration) {
        self.init(fields: configuration.sparseFields, sequences: configuration.sequenceFields,
                  denseCount: configuration.denseFeatures)
    }

    public init(name: String = "embedding", fields: [SparseField], sequences: [SequenceField] = [], denseCount: Int) {
        precondition(denseCount >= 0 && fields.allSatisfy { $0.vocabulary > 0 && $0.dimension > 0 })
        for sequence in sequences {
            if let problem = sequence.problem(sparseFields: fields) { preconditionFailure("EmbeddingInput: \(problem)") }
        }
        self.fields = fields
        self.sequences = sequences
        self.denseCount = denseCount
        let fieldTables = fields.map {
            Parameter(name: "\(name).\($0.name)", rows: $0.vocabulary, cols: $0.dimension,
                      group: .shared, kind: .embedding)
        }
        var ownTables: [Parameter] = []
        sequenceTables = sequences.map { sequence in
            if let shared = sequence.sharesEmbeddingWith {
                return fieldTables[fields.firstIndex { $0.name == shared }!]
            }
            let table = Parameter(name: "\(name).\(sequence.name)", rows: sequence.vocabulary, cols: sequence.dimension,
                                  group: .shared, kind: .embedding)
            ownTables.append(table)
            return table
        }
        tables = fieldTables + ownTables
        attentions = sequences.map { sequence in
            sequence.pooling == .attention
                ? TargetAttention(name: "attention.\(sequence.name)", dimension: sequence.dimension,
                                  hiddenSizes: sequence.attentionHidden, softmax: sequence.attentionSoftmax)
                : nil
        }
        targetFields = sequences.map { sequence in sequence.target.flatMap { t in fields.firstIndex { $0.name == t } } }
        var offsets: [Int] = []
        var d = 0
        for f in fields { offsets.append(d); d += f.dimension }
        self.offsets = offsets
        var sequenceColumns: [Int] = []
        for s in sequences { sequenceColumns.append(d); d += s.dimension }
        self.sequenceColumns = sequenceColumns
        outputSize = d + denseCount
        sequenceOffsets = sequences.map { _ in [] }
        sequenceSlots = sequences.map { _ in [0] }
        distinctCounts = [Int](repeating: 0, count: fields.count)
        distinctStarts = [Int](repeating: 0, count: fields.count)
        precondition(outputSize > 0, "the model input has no features")
    }

    /// The tables, then the attention MLPs' weights and biases.
    public var parameters: [Parameter] { tables + attentions.flatMap { $0?.parameters ?? [] } }

    /// Embeddings drawn from `N(0, standardDeviation²)` (project default 0.01),
    /// in table order; then the attention MLPs' Linear layers as `scheme` says.
    public func initialize(using rng: inout RandomGenerator, standardDeviation: Double = 0.01,
                           scheme: LinearInitialization = .glorotUniform) {
        for t in tables {
            let p = t.value.data
            for i in 0..<t.count { p[i] = Float(rng.normal(mean: 0, standardDeviation: standardDeviation)) }
        }
        for attention in attentions { attention?.initialize(using: &rng, scheme: scheme) }
    }

    /// Builds `x` for a batch (its ids, sequences and dense features).
    public func forward(_ batch: Batch) -> MatrixView {
        precondition(batch.sequenceCount == sequences.count,
                     "EmbeddingInput: the batch has \(batch.sequenceCount) sequence fields, the model \(sequences.count)")
        return batch.withIDs { forward(ids: $0, dense: batch.dense.view, batch: batch.size, sequenceBatch: batch) }
    }

    /// Builds `x` for a batch without sequence fields.
    ///
    /// - Parameters:
    ///   - ids: `B × F` row-major field ids, each in `0..<vocabulary_f`.
    ///   - dense: `B × denseCount` dense features.
    /// - Returns: `x` (`B × D`), valid until the next forward.
    public func forward(ids: UnsafePointer<Int32>, dense: MatrixView, batch: Int) -> MatrixView {
        precondition(sequences.isEmpty, "EmbeddingInput: a model with sequence fields reads them from a Batch")
        return forward(ids: ids, dense: dense, batch: batch, sequenceBatch: nil)
    }

    private func forward(ids: UnsafePointer<Int32>, dense: MatrixView, batch: Int, sequenceBatch: Batch?) -> MatrixView {
        precondition(dense.rows == batch && dense.cols == denseCount,
                     "EmbeddingInput: dense is \(dense.rows)×\(dense.cols), expected \(batch)×\(denseCount)")
        batchSize = batch
        output.resize(rows: batch, cols: outputSize)
        let x = output.view
        let fieldCount = fields.count
        for f in fields.indices {
            let table = tables[f]
            let dim = fields[f].dimension
            let vocabulary = fields[f].vocabulary
            let offset = offsets[f]
            let values = table.value.data
            for b in 0..<batch {
                let id = Int(ids[b * fieldCount + f])
                precondition(id >= 0 && id < vocabulary,
                             "field \(fields[f].name): id \(id) outside 0..<\(vocabulary) (example \(b))")
                // Rows are scattered over the table: ask for a later one early.
                if b + prefetchDistance < batch {
                    let ahead = Int(ids[(b + prefetchDistance) * fieldCount + f])
                    if ahead >= 0 && ahead < vocabulary { ranker_prefetch_for_write(values + ahead * dim) }
                }
                VectorKernels.copy(values + id * dim, into: x.row(b) + offset, count: dim)
            }
        }
        if let sequenceBatch { poolSequences(sequenceBatch, into: x) }
        if denseCount > 0 {
            let start = outputSize - denseCount
            for b in 0..<batch { x.row(b).advanced(by: start).update(from: dense.row(b), count: denseCount) }
        }
        // Register the batch's ids with each table's sparse gradient now, so the
        // touched-row set is known before backward. Field tables first: a
        // sequence sharing one appends its ids to the rows the field registered.
        if slots.count < batch * fieldCount { slots = [Int32](repeating: 0, count: batch * fieldCount) }
        slots.withUnsafeMutableBufferPointer { sp in
            for f in fields.indices {
                tables[f].sparseGrad!.gather(ids: ids + f, count: batch, stride: fieldCount,
                                             slots: sp.baseAddress! + f * batch)
                distinctCounts[f] = tables[f].sparseGrad!.rowCount
            }
        }
        gatherDistinctRows(batch: batch)
        if let sequenceBatch {
            for s in sequences.indices {
                let n = sequenceBatch.sequenceIDs[s].count
                if sequenceSlots[s].count < n {
                    sequenceSlots[s].append(contentsOf: repeatElement(0, count: n - sequenceSlots[s].count))
                }
                sequenceBatch.sequenceIDs[s].withUnsafeBufferPointer { ids in
                    sequenceSlots[s].withUnsafeMutableBufferPointer { sp in
                        sequenceTables[s].sparseGrad!.gather(ids: ids.baseAddress ?? UnsafePointer(bitPattern: 4)!,
                                                             count: n, stride: 1, slots: sp.baseAddress!,
                                                             appending: sequences[s].sharesEmbeddingWith != nil)
                    }
                }
            }
        }
        return x
    }

    /// Writes every sequence field's pooled vector into its slice of `x`.
    private func poolSequences(_ batch: Batch, into x: MatrixView) {
        let b = batch.size
        for (s, sequence) in sequences.enumerated() {
            let columns = sequenceColumns[s]..<(sequenceColumns[s] + sequence.dimension)
            let offsets = batch.sequenceOffsets[s]
            precondition(offsets.count == b + 1 && offsets[0] == 0 && Int(offsets[b]) == batch.sequenceIDs[s].count,
                         "sequence field \(sequence.name): \(offsets.count) offsets for \(b) examples")
            let vocabulary = sequence.vocabulary
            for id in batch.sequenceIDs[s] {
                precondition(id >= 0 && Int(id) < vocabulary, "sequence field \(sequence.name): id \(id) outside 0..<\(vocabulary)")
            }
            sequenceOffsets[s].removeAll(keepingCapacity: true)
            sequenceOffsets[s].append(contentsOf: offsets)
            let table = UnsafePointer(sequenceTables[s].value.data)
            offsets.withUnsafeBufferPointer { o in
                batch.sequenceIDs[s].withUnsafeBufferPointer { ids in
                    let idPointer = ids.baseAddress ?? UnsafePointer(bitPattern: 4)!
                    if let attention = attentions[s] {
                        let target = fieldColumns(targetFields[s]!)
                        attention.forward(table: table, ids: idPointer, offsets: o.baseAddress!, batch: b,
                                          queries: x.cols(target), into: x.cols(columns))
                    } else {
                        PooledBag.forward(table: table, dimension: sequence.dimension, ids: idPointer,
                                          offsets: o.baseAddress!, batch: b, mean: sequence.pooling == .mean,
                                          into: x.cols(columns))
                    }
                }
            }
        }
    }

    /// The columns of sparse field `f` in `x`.
    func fieldColumns(_ f: Int) -> Range<Int> { offsets[f]..<(offsets[f] + fields[f].dimension) }

    /// The `x` of the last forward pass.
    public var lastOutput: MatrixView { output.view }

    /// Scatter-adds `dx` (`S·B × D`, `S` stacked copies) into the tables'
    /// gradients: summed rows in `sparseGrad` when `S == 1`, otherwise `S`
    /// per-task gradients in `taskGradients` (rows in `sparseGrad.rowIDs` order).
    /// When `dx` is `outputGradient`, the folded layers' field gradients of
    /// the pass are added too (`beginBackward(stack:)`).
    public func backward(_ dx: MatrixView) {
        let batch = batchSize
        precondition(dx.cols == outputSize && batch > 0 && dx.rows % batch == 0,
                     "EmbeddingInput backward: dx \(dx.rows)×\(dx.cols) does not stack batches of \(batch)×\(outputSize)")
        let stack = dx.rows / batch
        let addsFoldedGradients = dx.data == outputGradient.data && foldedGradientBlocks > 0
        precondition(!addsFoldedGradients || foldedGradientBlocks == stack,
                     "EmbeddingInput backward: \(stack) stacked blocks after beginBackward(stack: \(foldedGradientBlocks))")
        // Every table's gradient is zeroed once, then each reader adds to it.
        for table in tables {
            if stack == 1 {
                table.sparseGrad!.values.fill(0)
            } else {
                // The most distinct rows a batch can touch in this table.
                let readers = batch * (tables.prefix(fields.count).contains { $0 === table } ? 1 : 0)
                    + zip(sequences, sequenceTables).reduce(0) { $0 + ($1.1 === table ? batch * $1.0.maxLength : 0) }
                table.reserveTaskGradients(count: stack * min(readers, table.rows) * table.cols)
                table.prepareTaskGradients(tasks: stack)
                table.taskGradients.fill(0)
            }
        }
        func destination(_ table: Parameter, _ t: Int) -> UnsafeMutablePointer<Float> {
            stack == 1 ? table.sparseGrad!.values.data : table.taskGradient(t)
        }
        slots.withUnsafeBufferPointer { sp in
            for f in fields.indices {
                let table = tables[f]
                let dim = fields[f].dimension
                let offset = offsets[f]
                let fieldSlots = sp.baseAddress! + f * batch
                for t in 0..<stack {
                    let values = destination(table, t)
                    for b in 0..<batch {
                        VectorKernels.add(dx.row(t * batch + b) + offset, into: values + Int(fieldSlots[b]) * dim,
                                          count: dim)
                    }
                    // Slot s is row s of the field's distinct rows and of its table's gradient.
                    if addsFoldedGradients {
                        VectorKernels.add(foldedFieldGradient(block: t, field: f).data, into: values,
                                          count: distinctCounts[f] * dim)
                    }
                }
            }
            for (s, sequence) in sequences.enumerated() {
                let table = sequenceTables[s]
                let columns = sequenceColumns[s]..<(sequenceColumns[s] + sequence.dimension)
                sequenceOffsets[s].withUnsafeBufferPointer { o in
                    sequenceSlots[s].withUnsafeBufferPointer { keySlots in
                        if let attention = attentions[s] {
                            let target = targetFields[s]!
                            attention.backward(dx.cols(columns), keySlots: keySlots.baseAddress!,
                                               querySlots: sp.baseAddress! + target * batch, queryStride: 1,
                                               keyGradient: { destination(table, $0) },
                                               queryGradient: { destination(self.tables[target], $0) })
                        } else {
                            for t in 0..<stack {
                                PooledBag.backward(dx.rows((t * batch)..<((t + 1) * batch)).cols(columns),
                                                   offsets: o.baseAddress!, slots: keySlots.baseAddress!,
                                                   mean: sequence.pooling == .mean, into: destination(table, t))
                            }
                        }
                    }
                }
            }
        }
    }
}
