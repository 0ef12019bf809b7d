import XCTest
import Ranker

/// The README's "Use it as a library" section, verbatim, so it keeps compiling
/// and keeps doing what it says (the loss goes down over a few steps).
final class ReadmeLibraryExampleTests: XCTestCase {
    func testReadmeSnippet() throws {
        // --- README snippet begins ---
        let config = ModelConfiguration(
            model: .mmoe,
            tasks: [TaskSpec(name: "click"), TaskSpec(name: "like")],
            sparseFields: [SparseField(name: "user", vocabulary: 1_000, dimension: 16),
                           SparseField(name: "item", vocabulary: 5_000, dimension: 16)],
            denseFeatures: 4,
            experts: 4, expertHidden: [64, 32], towerHidden: [16])
        let model = try makeModel(config)
        var rng = RandomGenerator(seed: 42)
        model.initialize(using: &rng)
        let optimizer = try ClippyAdagrad(preset: .project)   // λ_rel 0.5, λ_abs 1e-2

        let batch = Batch(size: 256, fieldCount: 2, denseCount: 4, labelCount: 2)
        // … fill batch.ids (via setIDs or withMutableIDs), batch.dense and batch.labels …
        let taskGradients = Matrix(rows: 0, cols: 0), logitGradient = Matrix(rows: 0, cols: 0)
        let parameters = model.parameters

        let logits = model.forward(batch)                                   // B × T
        let losses = model.computeLosses(logits: logits, labels: batch.labels.view,
                                         taskGradients: taskGradients)     // per-task means
        weightedLogitGradient(taskGradients: taskGradients.view, weights: [1, 1], into: logitGradient)
        model.backward(logitGradient: logitGradient.view)                 // fills every gradient
        let report = optimizer.step(parameters: parameters, learningRate: 0.05)
        print(losses, report.applied, optimizer.clippingFactor(named: "experts.0.W")!)
        // --- README snippet ends ---

        XCTAssertTrue(report.applied)
        XCTAssertEqual(losses.count, 2)
        // Keep training on the same (zero-id, zero-label) batch: the loss must fall.
        for _ in 0..<20 {
            let l = model.computeLosses(logits: model.forward(batch), labels: batch.labels.view, taskGradients: taskGradients)
            weightedLogitGradient(taskGradients: taskGradients.view, weights: [1, 1], into: logitGradient)
            model.backward(logitGradient: logitGradient.view)
            optimizer.step(parameters: parameters, learningRate: 0.05)
            _ = l
        }
        let after = model.computeLosses(logits: model.forward(batch), labels: batch.labels.view, taskGradients: taskGradients)
        XCTAssertLessThan(after.reduce(0, +), losses.reduce(0, +))
    }
}
