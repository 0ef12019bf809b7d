import Foundation
import XCTest
@testable import Ranker
@testable import RankerONNX

/// Models with sequence (list) fields and the ONNX export.
final class ONNXSequenceTests: XCTestCase {
    /// Until the graph pools the lists, a model with sequence fields is refused with an error
    /// naming them, not exported as a graph whose `x` lacks the pooled slices.
    func testAModelWithSequenceFieldsIsRefusedNamingThem() throws {
        let fields = [SparseField(name: "item", vocabulary: 20, dimension: 4), SparseField(name: "user", vocabulary: 9, dimension: 4)]
        let sequences = [
            SequenceField(name: "history", vocabulary: 20, dimension: 4, maxLength: 5, sharesEmbeddingWith: "item",
                          pooling: .attention, target: "item", attentionHidden: [6]),
            SequenceField(name: "tags", vocabulary: 7, dimension: 3, maxLength: 4, pooling: .mean),
        ]
        let configuration = ModelConfiguration(model: .mmoe, tasks: [TaskSpec(name: "a"), TaskSpec(name: "b")],
                                               sparseFields: fields, denseFeatures: 2, experts: 2, expertHidden: [4],
                                               towerHidden: [2], sequenceFields: sequences)
        let model = try makeModel(configuration)
        XCTAssertThrowsError(try ONNXExport.model(of: model)) { error in
            let message = "\(error)"
            XCTAssertTrue(message.contains("sequence fields (history, attention pooling; tags, mean pooling)"), message)
            XCTAssertTrue(message.contains("does not support"), message)
        }
        let file = FileManager.default.temporaryDirectory.appendingPathComponent("ranker-onnx-seq-\(UUID().uuidString).onnx")
        XCTAssertThrowsError(try ONNXExport.write(model, to: file))
        XCTAssertFalse(FileManager.default.fileExists(atPath: file.path), "nothing is written")
    }
}
