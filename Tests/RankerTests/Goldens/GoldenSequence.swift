import Foundation
@testable import Ranker

/// `sequence.json` (tools/goldens/sequence_reference.py, torch float64):
/// `PooledBag` against `torch.nn.EmbeddingBag` (sum, mean) and
/// `TargetAttention` against a DIN attention module with autograd, on ragged
/// batches with an empty list and repeated ids; then the same attention
/// cases through `EmbeddingInput` (the model's input layer, sparse row
/// gradients, a history sharing its target's table).
///
/// Inputs are the golden float64 values rounded to `Float`, so outputs and
/// gradients are compared at a float32 tolerance.
enum GoldenSequence {
    static let rtol = 1e-4
    static let atol = 1e-5

    static func check(_ json: GoldenValue, _ checker: GoldenChecker) throws {
        for (n, c) in json["bags"].array.enumerated() { checkBag(c, "bags[\(n)]", checker) }
        for (n, c) in json["attention"].array.enumerated() {
            checkAttention(c, "attention[\(n)]", checker)
            checkEmbeddingInput(c, "attention[\(n)] via EmbeddingInput", checker)
        }
    }

    static func checkBag(_ c: GoldenValue, _ name: String, _ checker: GoldenChecker) {
        let d = c["dimension"].int
        let table = c["table"].flatDoubles.map(Float.init)
        let ids = c["ids"].ints.map(Int32.init)
        let offsets = c["offsets"].ints.map(Int32.init)
        let batch = offsets.count - 1
        let mean = c["mode"].string == "mean"
        let output = Matrix(rows: batch, cols: d)
        table.withUnsafeBufferPointer { t in
            ids.withUnsafeBufferPointer { i in
                offsets.withUnsafeBufferPointer { o in
                    PooledBag.forward(table: t.baseAddress!, dimension: d, ids: i.baseAddress ?? UnsafePointer(bitPattern: 4)!,
                                      offsets: o.baseAddress!, batch: batch, mean: mean, into: output.view)
                }
            }
        }
        checker.close(output.toArray(), c["output"].flatDoubles, rtol: rtol, atol: atol, "\(name) output")
        // Slots = the ids themselves: the destination is the whole table's gradient.
        let upstream = matrix(c["upstream"], rows: batch, cols: d)
        var gradient = [Float](repeating: 0, count: table.count)
        ids.withUnsafeBufferPointer { i in
            offsets.withUnsafeBufferPointer { o in
                gradient.withUnsafeMutableBufferPointer { g in
                    PooledBag.backward(upstream.view, offsets: o.baseAddress!, slots: i.baseAddress ?? UnsafePointer(bitPattern: 4)!,
                                       mean: mean, into: g.baseAddress!)
                }
            }
        }
        checker.close(gradient, c["table_grad"].flatDoubles, rtol: rtol, atol: atol, "\(name) table gradient")
    }

    static func checkAttention(_ c: GoldenValue, _ name: String, _ checker: GoldenChecker) {
        let d = c["dimension"].int
        let shared = c["shared"].bool
        let table = c["table"].flatDoubles.map(Float.init)
        let queryTable = shared ? table : c["query_table"].flatDoubles.map(Float.init)
        let ids = c["ids"].ints.map(Int32.init)
        let offsets = c["offsets"].ints.map(Int32.init)
        let queryIDs = c["query_ids"].ints.map(Int32.init)
        let batch = offsets.count - 1
        let attention = TargetAttention(name: "attention.h", dimension: d, hiddenSizes: c["hidden"].ints,
                                        softmax: c["softmax"].bool)
        setWeights(attention.mlp, c)
        let queries = Matrix(rows: batch, cols: d)
        for b in 0..<batch { for k in 0..<d { queries[b, k] = queryTable[Int(queryIDs[b]) * d + k] } }
        let output = Matrix(rows: batch, cols: d)
        table.withUnsafeBufferPointer { t in
            ids.withUnsafeBufferPointer { i in
                offsets.withUnsafeBufferPointer { o in
                    attention.forward(table: t.baseAddress!, ids: i.baseAddress!, offsets: o.baseAddress!, batch: batch,
                                      queries: queries.view, into: output.view)
                }
            }
        }
        checker.close(output.toArray(), c["output"].flatDoubles, rtol: rtol, atol: atol, "\(name) output")
        checker.close(attention.lastWeights, c["attention_weights"].doubles, rtol: rtol, atol: atol, "\(name) weights")
        let upstream = matrix(c["upstream"], rows: batch, cols: d)
        var keyGradient = [Float](repeating: 0, count: table.count)
        var queryGradient = [Float](repeating: 0, count: queryTable.count)
        ids.withUnsafeBufferPointer { i in
            queryIDs.withUnsafeBufferPointer { q in
                keyGradient.withUnsafeMutableBufferPointer { k in
                    queryGradient.withUnsafeMutableBufferPointer { g in
                        // Shared: both go to one table gradient (the key buffer).
                        let queryDestination = shared ? k.baseAddress! : g.baseAddress!
                        attention.backward(upstream.view, keySlots: i.baseAddress!, querySlots: q.baseAddress!,
                                           queryStride: 1, keyGradient: { _ in k.baseAddress! },
                                           queryGradient: { _ in queryDestination })
                    }
                }
            }
        }
        checker.close(keyGradient, c["table_grad"].flatDoubles, rtol: rtol, atol: atol, "\(name) table gradient")
        if !shared {
            checker.close(queryGradient, c["query_table_grad"].flatDoubles, rtol: rtol, atol: atol,
                          "\(name) query table gradient")
        }
        checkMLPGradients(attention.mlp, c, name, checker)
    }

    /// The same case as a model input: a sparse field `item` (the query table)
    /// and a sequence `history` attending to it (sharing its table when the case does).
    static func checkEmbeddingInput(_ c: GoldenValue, _ name: String, _ checker: GoldenChecker) {
        let d = c["dimension"].int
        let shared = c["shared"].bool
        let table = c["table"].flatDoubles.map(Float.init)
        let queryTable = shared ? table : c["query_table"].flatDoubles.map(Float.init)
        let offsets = c["offsets"].ints.map(Int32.init)
        let batch = offsets.count - 1
        let item = SparseField(name: "item", vocabulary: queryTable.count / d, dimension: d)
        let history = SequenceField(name: "history", vocabulary: table.count / d, dimension: d, maxLength: 10,
                                    sharesEmbeddingWith: shared ? "item" : nil, pooling: .attention, target: "item",
                                    attentionHidden: c["hidden"].ints, attentionSoftmax: c["softmax"].bool)
        let input = EmbeddingInput(fields: [item], sequences: [history], denseCount: 0)
        input.tables[0].value.copy(from: queryTable)
        if !shared { input.tables[1].value.copy(from: table) }
        setWeights(input.attentions[0]!.mlp, c)
        let batchData = Batch(size: batch, fieldCount: 1, denseCount: 0, labelCount: 1, sequenceCount: 1)
        batchData.setIDs(example: 0, [0])
        for (b, q) in c["query_ids"].ints.enumerated() { batchData.setIDs(example: b, [Int32(q)]) }
        let ids = c["ids"].ints.map(Int32.init)
        batchData.setSequence(0, lists: (0..<batch).map { Array(ids[Int(offsets[$0])..<Int(offsets[$0 + 1])]) })
        let x = input.forward(batchData)
        checker.close((0..<batch).flatMap { b in (0..<d).map { x[b, d + $0] } }, c["output"].flatDoubles,
                      rtol: rtol, atol: atol, "\(name) pooled slice of x")
        // dx: zero on the item slice (only the attention's query gradient reaches the item table), G on the history slice.
        let upstream = c["upstream"].flatDoubles
        let dx = Matrix(rows: batch, cols: 2 * d)
        for b in 0..<batch { for k in 0..<d { dx[b, d + k] = Float(upstream[b * d + k]) } }
        input.backward(dx.view)
        func full(_ p: Parameter) -> [Float] {
            var out = [Float](repeating: 0, count: p.count)
            let sparse = p.sparseGrad!
            for (slot, id) in sparse.rowIDs.enumerated() {
                for k in 0..<d { out[Int(id) * d + k] += sparse.values[slot, k] }
            }
            return out
        }
        checker.close(full(input.tables[0]), c[shared ? "table_grad" : "query_table_grad"].flatDoubles,
                      rtol: rtol, atol: atol, "\(name) item table gradient")
        if !shared {
            checker.close(full(input.tables[1]), c["table_grad"].flatDoubles, rtol: rtol, atol: atol,
                          "\(name) history table gradient")
        }
        checkMLPGradients(input.attentions[0]!.mlp, c, name, checker)
    }

    static func setWeights(_ mlp: MLP, _ c: GoldenValue) {
        for (j, layer) in mlp.layers.enumerated() {
            layer.weight.value.copy(from: c["weights"][j].flatDoubles.map(Float.init))
            layer.bias!.value.copy(from: c["biases"][j].flatDoubles.map(Float.init))
        }
    }

    static func checkMLPGradients(_ mlp: MLP, _ c: GoldenValue, _ name: String, _ checker: GoldenChecker) {
        for (j, layer) in mlp.layers.enumerated() {
            checker.close(layer.weight.grad.toArray(), c["weight_grads"][j].flatDoubles, rtol: rtol, atol: atol,
                          "\(name) layer \(j) weight gradient")
            checker.close(layer.bias!.grad.toArray(), c["bias_grads"][j].flatDoubles, rtol: rtol, atol: atol,
                          "\(name) layer \(j) bias gradient")
        }
    }

    static func matrix(_ v: GoldenValue, rows: Int, cols: Int) -> Matrix {
        let m = Matrix(rows: rows, cols: cols)
        m.copy(from: v.flatDoubles.map(Float.init))
        return m
    }
}
