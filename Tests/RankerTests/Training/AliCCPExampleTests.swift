import Foundation
import XCTest
@testable import Ranker
@testable import RankerExperiments
@testable import RankerReport

/// `examples/aliccp-esmm` on the torch-rechub Ali-CCP sample: ESMM's test
/// metrics are computed on the right rows. The rows are selected here from
/// the CSV files read as plain text, and the AUCs recomputed with
/// `Metrics.auc`: CTR over all impressions, CVR over the clicked impressions
/// only, CTCVR (score pCTR·pCVR, label click·purchase) over all impressions.
final class AliCCPExampleTests: XCTestCase {
    /// `(click, purchase)` of every data row of a torch-rechub Ali-CCP CSV file,
    /// read without the data layer.
    func labels(ofFile path: String) throws -> [(click: Float, purchase: Float)] {
        let lines = try String(contentsOfFile: path, encoding: .utf8).split(separator: "\n")
        XCTAssertTrue(lines[0].hasPrefix("click,purchase,"), path)
        return lines.dropFirst().map { line in
            let fields = line.split(separator: ",", maxSplits: 2)
            return (Float(String(fields[0]))!, Float(String(fields[1]))!)
        }
    }

    /// Logits of `rows` (column 0: CTR tower, column 1: CVR tower).
    func logits(_ model: MultiTaskModel, _ dataset: Dataset, rows: [Int]) -> [(ctr: Double, cvr: Double)] {
        let batch = dataset.makeBatch(capacity: rows.count)
        dataset.fill(batch, rows: rows)
        let z = model.forward(batch)
        return (0..<rows.count).map { (Double(z[$0, 0]), Double(z[$0, 1])) }
    }

    /// The three AUCs computed here from rows, labels and logits.
    func independentAUC(labels: [(click: Float, purchase: Float)], logits: [(ctr: Double, cvr: Double)])
        throws -> (ctr: Double, cvr: Double, ctcvr: Double, cvrOverAllRows: Double, clicked: Int)
    {
        let ctr = try Metrics.auc(scores: logits.map(\.ctr), labels: labels.map(\.click))
        let clicked = labels.indices.filter { labels[$0].click == 1 }
        let cvr = try Metrics.auc(scores: clicked.map { logits[$0].cvr }, labels: clicked.map { labels[$0].purchase })
        let ctcvr = try Metrics.auc(scores: logits.map { sigmoid($0.ctr) * sigmoid($0.cvr) },
                                    labels: labels.map { $0.click * $0.purchase })
        let wrong = try Metrics.auc(scores: logits.map(\.cvr), labels: labels.map(\.purchase))
        return (ctr, cvr, ctcvr, wrong, clicked.count)
    }

    func testESMMMetricsAreComputedOnTheRightRows() throws {
        let root = DataLocation.repositoryRoot(from: #filePath)!
        var configuration = try RunConfiguration.load(path: root + "/examples/aliccp-esmm/config.json")
        XCTAssertEqual(configuration.model.model, .esmm)
        configuration.output.progress = .none
        configuration.output.report = false
        let files = try XCTUnwrap(configuration.data.files)
        XCTAssertEqual(files.map(\.part), [.train, .valid, .test])
        var paths: [String] = []
        for f in files {
            let path = try RunData.resolve(f.path)
            guard FileManager.default.fileExists(atPath: path) else {
                throw XCTSkip("\(f.path) not found under the data roots (set RANKER_DATA)")
            }
            paths.append(path)
        }
        let dataset = try RunData.load(configuration.data)
        let directory = FileManager.default.temporaryDirectory.appendingPathComponent("ranker-esmm-example-\(UUID().uuidString)")
        defer { try? FileManager.default.removeItem(at: directory) }
        let run = try ModelRun.train(configuration, dataset: dataset, runDirectory: directory)
        let test = try XCTUnwrap(run.summary.test)

        // The test rows are the test file's rows, in file order.
        let fileLabels = try paths.map { try labels(ofFile: $0) }
        let testLabels = fileLabels[2]
        XCTAssertEqual(dataset.splits.test.count, testLabels.count)
        for (i, row) in dataset.splits.test.enumerated() {
            XCTAssertEqual(dataset.labels[0][row], testLabels[i].click)
            XCTAssertEqual(dataset.labels[1][row], testLabels[i].purchase)
        }

        // Test split: the trainer's numbers against the independent ones.
        let expected = try independentAUC(labels: testLabels, logits: logits(run.trainer.model, dataset, rows: dataset.splits.test))
        XCTAssertEqual(test.task(named: "ctr")?.examples, testLabels.count)
        XCTAssertEqual(test.task(named: "cvr")?.examples, expected.clicked)
        XCTAssertEqual(test.task(named: "ctcvr")?.examples, testLabels.count)
        XCTAssertEqual(try XCTUnwrap(test.task(named: "ctr")?.auc), expected.ctr, accuracy: 1e-12)
        XCTAssertEqual(try XCTUnwrap(test.task(named: "ctcvr")?.auc), expected.ctcvr, accuracy: 1e-12)
        let cvr = try XCTUnwrap(test.task(named: "cvr")?.auc)
        if expected.cvr.isNaN { XCTAssertTrue(cvr.isNaN) } else { XCTAssertEqual(cvr, expected.cvr, accuracy: 1e-12) }
        XCTAssertEqual(run.testAUC.map(\.output), ["ctr", "cvr", "ctcvr"])
        // The report reads ESMM's telemetry: step lines carry the two losses
        // of the run line's tasks (ctr, ctcvr), cvr appears in eval lines only.
        XCTAssertNoThrow(try TrainingReport.writeReport(runDirectory: directory))

        // The test split has only 2 clicked rows; all 200 rows of the sample
        // (12 clicked, 3 purchases) check the CVR row selection more sharply.
        let all = Array(0..<dataset.count)
        let allLabels = fileLabels.flatMap { $0 }
        XCTAssertEqual(all.map { dataset.labels[0][$0] }, allLabels.map(\.click), "rows are the files in order")
        let everywhere = Evaluator(model: run.trainer.model, dataset: dataset).evaluate(rows: all, split: "all")
        let reference = try independentAUC(labels: allLabels, logits: logits(run.trainer.model, dataset, rows: all))
        XCTAssertEqual(reference.clicked, 12)
        XCTAssertEqual(everywhere.task(named: "cvr")?.examples, 12)
        XCTAssertEqual(everywhere.task(named: "cvr")?.positives, 3)
        XCTAssertEqual(try XCTUnwrap(everywhere.task(named: "ctr")?.auc), reference.ctr, accuracy: 1e-12)
        XCTAssertEqual(try XCTUnwrap(everywhere.task(named: "cvr")?.auc), reference.cvr, accuracy: 1e-12)
        XCTAssertEqual(try XCTUnwrap(everywhere.task(named: "ctcvr")?.auc), reference.ctcvr, accuracy: 1e-12)
        // CVR over every impression (the wrong rows) gives another number,
        // so the comparison above can tell the two selections apart.
        XCTAssertNotEqual(reference.cvr, reference.cvrOverAllRows, accuracy: 1e-6)
    }
}
