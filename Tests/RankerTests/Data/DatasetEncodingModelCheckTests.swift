import Foundation
import XCTest
@testable import Ranker

/// `DatasetEncoding.mismatch(with:)`: the frozen encoding of the synthetic
/// history CSV (schemas/synthetic-history.json) against the model
/// configuration it makes, and against that configuration with one property
/// changed at a time — each change is named, field and key.
final class DatasetEncodingModelCheckTests: XCTestCase {
    func encoding() throws -> DatasetEncoding {
        var c = SyntheticClickLogConfig()
        c.rows = 200
        c.users = 30
        c.items = 60
        c.historyLength = 5
        c.historyPooling = .attention
        let log = try SyntheticClickLog(config: c)
        let path = FileManager.default.temporaryDirectory.appendingPathComponent("ranker-check-\(UUID().uuidString).csv")
        defer { try? FileManager.default.removeItem(at: path) }
        try Data(log.csvText().utf8).write(to: path)
        let dataset = try CSVDatasetLoader.load(schema: DataTestSupport.shippedSchema("synthetic-history"), path: path.path)
        return try XCTUnwrap(DatasetEncoding(dataset: dataset))
    }

    func model(_ e: DatasetEncoding) -> ModelConfiguration {
        ModelConfiguration(model: .mmoe, tasks: e.tasks, sparseFields: e.fields, denseFeatures: e.denseFeatures.count,
                           sequenceFields: e.sequenceFields.map(\.field))
    }

    func testTheModelOfAnEncodingAgrees() throws {
        let e = try encoding()
        XCTAssertEqual(e.sequenceFields.map(\.field.name), ["history"])
        XCTAssertNil(e.mismatch(with: model(e)))
    }

    func testEverySequenceFieldPropertyIsNamed() throws {
        let e = try encoding()
        let changes: [(String, (inout SequenceField) -> Void)] = [
            ("vocabulary is 1000 in the model and", { $0.vocabulary = 1000 }),
            ("dimension is 3 in the model and", { $0.dimension = 3 }),
            ("max_length is 12 in the model and 20 in the encoding", { $0.maxLength = 12 }),
            ("shares_embedding_with is none in the model and item_id in the encoding", { $0.sharesEmbeddingWith = nil }),
            ("pooling is mean in the model and attention in the encoding", { $0.pooling = .mean }),
            ("target is user_id in the model and item_id in the encoding", { $0.target = "user_id" }),
            ("attention_hidden is [8] in the model and [36] in the encoding", { $0.attentionHidden = [8] }),
            ("attention_softmax is true in the model and false in the encoding", { $0.attentionSoftmax = true }),
        ]
        for (expected, change) in changes {
            var m = model(e)
            change(&m.sequenceFields[0])
            let message = try XCTUnwrap(e.mismatch(with: m), expected)
            XCTAssertTrue(message.hasPrefix("sequence field \"history\": "), message)
            XCTAssertTrue(message.contains(expected), "\(message) should contain \(expected)")
        }
        var renamed = model(e)
        renamed.sequenceFields[0].name = "clicks"
        XCTAssertEqual(e.mismatch(with: renamed),
                       "sequence field 1 is \"clicks\" in the model and \"history\" in the encoding")
        var none = model(e)
        none.sequenceFields = []
        XCTAssertEqual(e.mismatch(with: none), "the model reads 0 sequence fields (), the encoding makes 1 (history)")
    }

    func testSparseAndDenseDifferencesAreNamed() throws {
        let e = try encoding()
        var m = model(e)
        m.sparseFields[1].vocabulary += 1
        XCTAssertEqual(e.mismatch(with: m), "sparse field \"item_id\": vocabulary is \(e.fields[1].vocabulary + 1) in the "
                       + "model and \(e.fields[1].vocabulary) in the encoding")
        m = model(e)
        m.denseFeatures = 3
        XCTAssertEqual(e.mismatch(with: m), "the model reads 3 dense features, the encoding makes 4")
        m = model(e)
        m.sparseFields.removeLast()
        XCTAssertTrue(e.mismatch(with: m)?.hasPrefix("the model reads 4 sparse fields") == true, "\(String(describing: e.mismatch(with: m)))")
    }
}
