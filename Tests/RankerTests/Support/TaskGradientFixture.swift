@testable import Ranker

/// Parameters holding given per-task gradients, as the multi-gradient pass
/// leaves them: the `d` coordinates of a `T × d` matrix are split over a shared
/// dense tensor and a shared embedding table (touched rows in a scrambled
/// first-appearance order), and every task gets one task-specific tensor with
/// a known gradient. Used to check that combining through real `Parameter`s
/// equals the pure functions on the Gram matrix.
struct TaskGradientFixture {
    let taskCount: Int
    let dimension: Int
    /// Shared dense tensor: coordinates `0..<denseCount` of each row.
    let dense: Parameter
    /// Shared embedding table: the remaining coordinates, `cols` per touched row.
    let embedding: Parameter
    /// One task-specific tensor per task (`group = .task(k)`), gradient `k + 1, k + 2, …`.
    let taskSpecific: [Parameter]
    let denseCount: Int

    var parameters: [Parameter] { [embedding, dense] + taskSpecific }

    /// - Parameters:
    ///   - rows: `T` task gradients of length `d` (`d >= 1`).
    ///   - embeddingCols: width of the embedding table; it takes about half of
    ///     the coordinates (none when `d < 2 · embeddingCols`).
    init(rows: [[Double]], embeddingCols: Int = 2) {
        taskCount = rows.count
        dimension = rows[0].count
        let touchedRows = dimension / 2 / embeddingCols
        let embeddingCount = touchedRows * embeddingCols
        denseCount = dimension - embeddingCount
        dense = Parameter(name: "shared.dense", rows: 1, cols: denseCount, group: .shared)
        embedding = Parameter(name: "shared.embedding", rows: 3 * touchedRows + 3, cols: embeddingCols,
                              group: .shared, kind: .embedding)
        // Touched ids in a scrambled order, with a duplicate to exercise the summing path.
        var ids = (0..<touchedRows).map { (3 * $0 + 2) % (3 * touchedRows + 3) }.reversed().map { $0 }
        if let first = ids.first { ids.append(first) }
        embedding.sparseGrad!.set(ids: ids, rows: ids.map { _ in [Float](repeating: 0, count: embeddingCols) })
        precondition(embedding.gradientCount == embeddingCount)
        dense.prepareTaskGradients(tasks: taskCount)
        embedding.prepareTaskGradients(tasks: taskCount)
        for t in 0..<taskCount {
            for k in 0..<denseCount { dense.taskGradient(t)[k] = Float(rows[t][k]) }
            for k in 0..<embeddingCount { embedding.taskGradient(t)[k] = Float(rows[t][denseCount + k]) }
        }
        // Stale values where the combined gradient will go: must be overwritten.
        dense.grad.fill(.nan)
        embedding.sparseGrad!.values.fill(.nan)
        taskSpecific = (0..<rows.count).map { k in
            let p = Parameter(name: "tower\(k).weight", rows: 2, cols: 3, group: .task(k))
            for i in 0..<6 { p.grad.data[i] = Float(k + 1 + i) }
            return p
        }
    }

    /// The combined shared gradient the balancer wrote, in the order of the rows' coordinates.
    func combinedSharedGradient() -> [Double] {
        (0..<denseCount).map { Double(dense.grad.data[$0]) }
            + (0..<embedding.gradientCount).map { Double(embedding.sparseGrad!.values.data[$0]) }
    }

    /// Task `k`'s specific gradient divided by its original value (the factor applied).
    func taskSpecificFactors() -> [[Double]] {
        taskSpecific.enumerated().map { k, p in (0..<6).map { Double(p.grad.data[$0]) / Double(k + 1 + $0) } }
    }
}

/// Double-precision helpers on `T × d` gradient rows.
enum GradientRows {
    /// `P = G Gᵀ`, exact double dot products.
    static func gram(_ rows: [[Double]]) -> TaskGradientGram {
        let t = rows.count
        var values = [Double](repeating: 0, count: t * t)
        for i in 0..<t {
            for j in 0..<t {
                var s = 0.0
                for k in rows[i].indices { s += rows[i][k] * rows[j][k] }
                values[i * t + j] = s
            }
        }
        return TaskGradientGram(taskCount: t, values: values)
    }

    /// `Σ_t c_t rows[t]`.
    static func combine(_ rows: [[Double]], _ coefficients: [Double]) -> [Double] {
        var out = [Double](repeating: 0, count: rows[0].count)
        for t in rows.indices { for k in out.indices { out[k] += coefficients[t] * rows[t][k] } }
        return out
    }

    static func dot(_ a: [Double], _ b: [Double]) -> Double {
        var s = 0.0
        for k in a.indices { s += a[k] * b[k] }
        return s
    }

    static func norm(_ a: [Double]) -> Double { dot(a, a).squareRoot() }
}
