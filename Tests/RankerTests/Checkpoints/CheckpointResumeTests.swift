import Foundation
import XCTest
@testable import Ranker
import RankerTestSupport

/// A run interrupted after a checkpoint and resumed into a fresh model and
/// optimizer (differently initialised) continues bitwise identically to the
/// uninterrupted run: parameters, optimizer state and counters, and the
/// data order drawn from the checkpointed random generator.
final class CheckpointResumeTests: TemporaryDirectoryTestCase {
    let configuration = CheckpointTests.configuration
    let learningRate: Float = 0.05

    /// One training step on a batch drawn from `rng`.
    func trainStep(_ model: MultiTaskModel, _ optimizer: Optimizer, _ rng: inout RandomGenerator) {
        let batch = ModelFixtures.batch(for: configuration, size: 8, seed: rng.nextUInt64())
        ModelFixtures.weightedBackward(model, batch, weights: [1, 0.7])
        let report = optimizer.step(parameters: model.parameters, learningRate: learningRate)
        XCTAssertTrue(report.applied)
    }

    func checkResume(_ optimizerConfiguration: OptimizerConfiguration) throws {
        let totalSteps = 6, interruptedAt = 3

        // The uninterrupted run.
        let reference = try ModelFixtures.model(configuration, seed: 11)
        let referenceOptimizer = try optimizerConfiguration.makeOptimizer()
        var referenceRNG = RandomGenerator(seed: 5)
        for _ in 0..<totalSteps { trainStep(reference, referenceOptimizer, &referenceRNG) }

        // The interrupted run: same start, checkpoint after `interruptedAt` steps.
        let first = try ModelFixtures.model(configuration, seed: 11)
        let firstOptimizer = try optimizerConfiguration.makeOptimizer()
        var firstRNG = RandomGenerator(seed: 5)
        for _ in 0..<interruptedAt { trainStep(first, firstOptimizer, &firstRNG) }
        var checkpoint = try Checkpoint(parameters: first.parameters, optimizer: firstOptimizer)
        try checkpoint.encode(firstRNG, forKey: Checkpoint.Key.randomGenerator)
        try checkpoint.encode(interruptedAt, forKey: Checkpoint.Key.step)
        let url = file("checkpoint.safetensors")
        try checkpoint.write(to: url)

        // A new process: another initialisation, a fresh optimizer, state from the file.
        let resumed = try ModelFixtures.model(configuration, seed: 12345)
        let resumedOptimizer = try optimizerConfiguration.makeOptimizer()
        XCTAssertNotEqual(bitPatterns(resumed.parameters[0].value), bitPatterns(reference.parameters[0].value))
        let loaded = try Checkpoint.read(from: url)
        try loaded.restore(into: resumed.parameters, optimizer: resumedOptimizer)
        var resumedRNG = try loaded.randomGenerator()
        XCTAssertEqual(try loaded.step(), interruptedAt)
        for _ in interruptedAt..<totalSteps { trainStep(resumed, resumedOptimizer, &resumedRNG) }

        XCTAssertEqual(resumedRNG, referenceRNG)
        for (a, b) in zip(reference.parameters, resumed.parameters) {
            XCTAssertEqual(a.name, b.name)
            XCTAssertEqual(bitPatterns(a.value), bitPatterns(b.value), "parameter \(a.name)")
        }
        for (a, b) in zip(referenceOptimizer.stateTensors(), resumedOptimizer.stateTensors()) {
            XCTAssertEqual(bitPatterns(a.value), bitPatterns(b.value), "accumulator \(a.name)")
        }
        XCTAssertEqual(resumedOptimizer.scalarState, OptimizerScalarState(stepCount: totalSteps, skippedStepCount: 0))
        XCTAssertEqual(resumedOptimizer.clippingFactors.map(\.bitPattern),
                       referenceOptimizer.clippingFactors.map(\.bitPattern))
        // The run did move the weights (the comparison above is not between untouched copies).
        let w = reference.parameter(named: "experts.0.W")!
        let untrained = try ModelFixtures.model(configuration, seed: 11).parameter(named: "experts.0.W")!
        XCTAssertNotEqual(bitPatterns(w.value), bitPatterns(untrained.value))
    }

    func testAdagradResumesBitwise() throws {
        try checkResume(.adagrad(learningRate: learningRate))
    }

    func testClippyAdagradResumesBitwise() throws {
        try checkResume(.clippy(learningRate: learningRate))
    }
}
