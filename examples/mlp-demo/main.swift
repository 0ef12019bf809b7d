// A small end-to-end demo of the foundation: an MLP classifier trained with
// Clippy Adagrad on generated binary-labelled data, evaluated by exact AUC.
//
//     swift run -c release mlp-demo
//
// Data: x ~ N(0, I_8); the label is 1 with probability σ(w·x + 0.5·x0·x1),
// a fixed random direction w plus an interaction the MLP has to learn.
import Ranker

// OpenBLAS's generic kernels on a CPU it does not know: run again on the fitting ones.
BLASKernelChoice.relaunchOnFittingKernels()
let inputSize = 8, trainSize = 20_000, testSize = 5_000, batchSize = 256, epochs = 5
var rng = RandomGenerator(seed: 2024)
let direction = (0..<inputSize).map { _ in rng.normal() }

func makeData(_ n: Int) -> (x: Matrix, y: [Float]) {
    let x = Matrix(rows: n, cols: inputSize)
    var y = [Float](repeating: 0, count: n)
    for i in 0..<n {
        var score = 0.0
        for j in 0..<inputSize {
            let v = rng.normal()
            x[i, j] = Float(v)
            score += direction[j] * v
        }
        score += 0.5 * Double(x[i, 0] * x[i, 1])
        y[i] = rng.nextDouble() < sigmoid(score) ? 1 : 0
    }
    return (x, y)
}

let train = makeData(trainSize), test = makeData(testSize)
let mlp = MLP(name: "mlp", inputSize: inputSize, hiddenSizes: [32, 16], outputSize: 1, group: .task(0))
mlp.initialize(using: &rng)
let optimizer = try ClippyAdagrad(preset: .project)
let parameters = mlp.parameters
let logitGradient = Matrix(rows: batchSize, cols: 1)
let labels = Matrix(rows: batchSize, cols: 1)
let xb = Matrix(rows: batchSize, cols: inputSize)

func testAUC() throws -> Double {
    let logits = mlp.forward(test.x.view)
    return try Metrics.auc(scores: logits.toArray(), labels: test.y)
}

print("epoch  train-loss  test-AUC")
for epoch in 0..<epochs {
    var order = Array(0..<trainSize)
    rng.shuffle(&order)
    var totalLoss = 0.0, batches = 0
    for start in stride(from: 0, to: trainSize - batchSize + 1, by: batchSize) {
        for (r, i) in order[start..<(start + batchSize)].enumerated() {
            xb.view.row(r).update(from: train.x.view.row(i), count: inputSize)
            labels[r, 0] = train.y[i]
        }
        let logits = mlp.forward(xb.view)
        totalLoss += BinaryCrossEntropy.meanLoss(logits: logits, labels: labels.view, gradient: logitGradient.view)
        mlp.backward(logitGradient.view, inputGradient: nil)
        optimizer.step(parameters: parameters, learningRate: 0.05)
        batches += 1
    }
    print(String(format: "%5d  %10.4f  %8.4f", epoch + 1, totalLoss / Double(batches), try testAUC()))
}
print("test AUC: \(String(format: "%.4f", try testAUC()))")
