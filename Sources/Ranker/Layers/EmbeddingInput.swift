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
/// looked up and concatenated in field order, then the dense features appended
/// as raw values:
///
///     x_b = [E_1[id_b1], …, E_F[id_bF], dense_b]        (B × D, D = Σ k_f + n_dense)
///
/// Tables are `Parameter`s named `<name>.<field>` of kind `.embedding`, always
/// shared by all tasks. Backward splits `dx` per field and scatter-adds each
/// row into the table's row-sparse gradient (duplicate ids summed).
public final class EmbeddingInput {
    public let fields: [SparseField]
    public let denseCount: Int
    public let tables: [Parameter]
    /// Column offset of each field's slice in `x`.
    public let offsets: [Int]
    /// `D`, the width of `x`.
    public let outputSize: Int
    private let output = Matrix(rows: 0, cols: 0)
    /// For the last batch: the slot of each (example, field) id in its table's
    /// sparse gradient, `B × F` row-major.
    private var slots: [Int32] = []
    private var batchSize = 0
    /// Examples ahead whose embedding rows are prefetched.
    private let prefetchDistance = 8

    public init(name: String = "embedding", fields: [SparseField], denseCount: Int) {
        precondition(denseCount >= 0 && fields.allSatisfy { $0.vocabulary > 0 && $0.dimension > 0 })
        self.fields = fields
        self.denseCount = denseCount
        tables = fields.map {
            Parameter(name: "\(name).\($0.name)", rows: $0.vocabulary, cols: $0.dimension,
                      group: .shared, kind: .embedding)
        }
        var offsets: [Int] = []
        var d = 0
        for f in fields { offsets.append(d); d += f.dimension }
        self.offsets = offsets
        outputSize = d + denseCount
        precondition(outputSize > 0, "the model input has no features")
    }

    public var parameters: [Parameter] { tables }

    /// Embeddings drawn from `N(0, standardDeviation²)` (project default 0.01).
    public func initialize(using rng: inout RandomGenerator, standardDeviation: Double = 0.01) {
        for t in tables {
            let p = t.value.data
            for i in 0..<t.count { p[i] = Float(rng.normal(mean: 0, standardDeviation: standardDeviation)) }
        }
    }

    /// Builds `x` for a batch.
    ///
    /// - Parameters:
    ///   - ids: `B × F` row-major field ids, each in `0..<vocabulary_f`.
    ///   - dense: `B × denseCount` dense features.
    /// - Returns: `x` (`B × D`), valid until the next forward.
    public func forward(ids: UnsafePointer<Int32>, dense: MatrixView, batch: Int) -> MatrixView {
        precondition(dense.rows == batch && dense.cols == denseCount,
                     "EmbeddingInput: dense is \(dense.rows)×\(dense.cols), expected \(batch)×\(denseCount)")
        batchSize = batch
        output.resize(rows: batch, cols: outputSize)
        let x = output.view
        let fieldCount = fields.count
        for (f, table) in tables.enumerated() {
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
        if denseCount > 0 {
            let start = outputSize - denseCount
            for b in 0..<batch { x.row(b).advanced(by: start).update(from: dense.row(b), count: denseCount) }
        }
        // Register the batch's ids with each table's sparse gradient now, so the
        // touched-row set is known before backward.
        if slots.count < batch * fieldCount { slots = [Int32](repeating: 0, count: batch * fieldCount) }
        slots.withUnsafeMutableBufferPointer { sp in
            for (f, table) in tables.enumerated() {
                table.sparseGrad!.gather(ids: ids + f, count: batch, stride: fieldCount,
                                         slots: sp.baseAddress! + f * batch)
            }
        }
        return x
    }

    /// The `x` of the last forward pass.
    public var lastOutput: MatrixView { output.view }

    /// Scatter-adds `dx` (`S·B × D`, `S` stacked copies) into the tables'
    /// gradients: summed rows in `sparseGrad` when `S == 1`, otherwise `S`
    /// per-task gradients in `taskGradients` (rows in `sparseGrad.rowIDs` order).
    public func backward(_ dx: MatrixView) {
        let batch = batchSize
        precondition(dx.cols == outputSize && batch > 0 && dx.rows % batch == 0,
                     "EmbeddingInput backward: dx \(dx.rows)×\(dx.cols) does not stack batches of \(batch)×\(outputSize)")
        let stack = dx.rows / batch
        slots.withUnsafeBufferPointer { sp in
            for (f, table) in tables.enumerated() {
                let sparse = table.sparseGrad!
                let dim = fields[f].dimension
                let offset = offsets[f]
                let fieldSlots = sp.baseAddress! + f * batch
                if stack == 1 {
                    sparse.values.fill(0)
                    let values = sparse.values.data
                    for b in 0..<batch {
                        VectorKernels.add(dx.row(b) + offset, into: values + Int(fieldSlots[b]) * dim, count: dim)
                    }
                } else {
                    table.reserveTaskGradients(count: stack * batch * dim)  // the most distinct rows a batch can touch
                    table.prepareTaskGradients(tasks: stack)
                    table.taskGradients.fill(0)
                    for t in 0..<stack {
                        let values = table.taskGradient(t)
                        for b in 0..<batch {
                            VectorKernels.add(dx.row(t * batch + b) + offset, into: values + Int(fieldSlots[b]) * dim,
                                              count: dim)
                        }
                    }
                }
            }
        }
    }
}
