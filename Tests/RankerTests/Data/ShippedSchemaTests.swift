import Foundation
import XCTest
@testable import Ranker

/// Each schema in `schemas/` loads its sample files from the shared data
/// folder; counts are those of `shared/data/README.md` or computed in Python.
final class ShippedSchemaTests: XCTestCase {
    func load(_ schemaName: String, _ files: [(String, DatasetPart?)]) throws -> Dataset {
        let schema = try DataTestSupport.shippedSchema(schemaName)
        let sources = try files.map { CSVSource(path: try DataTestSupport.sharedFile($0.0), part: $0.1) }
        return try CSVDatasetLoader.load(schema: schema, sources: sources)
    }

    func sum(_ d: Dataset, task: Int, _ rows: [Int]) -> Int {
        Int(rows.reduce(Float(0)) { $0 + d.labels[task][$1] })
    }

    func testEverySchemaFileDecodesAndValidates() throws {
        for name in ["census-income", "ali-ccp-torch-rechub", "ali-ccp-aitm", "aliexpress", "kuairand", "synthetic-history"] {
            let schema = try DataTestSupport.shippedSchema(name)
            XCTAssertEqual(schema.name, name)
        }
    }

    func testAliCCPTorchRechub() throws {
        let d = try load("ali-ccp-torch-rechub", [("ali-ccp/torch-rechub/ali_ccp_train_sample.csv", .train),
                                                  ("ali-ccp/torch-rechub/ali_ccp_val_sample.csv", .valid),
                                                  ("ali-ccp/torch-rechub/ali_ccp_test_sample.csv", .test)])
        XCTAssertEqual([d.splits.train.count, d.splits.valid.count, d.splits.test.count], [100, 50, 50])
        XCTAssertEqual(d.tasks.map(\.name), ["click", "purchase"])
        XCTAssertEqual([sum(d, task: 0, d.splits.train), sum(d, task: 0, d.splits.valid), sum(d, task: 0, d.splits.test)], [7, 3, 2])
        XCTAssertEqual([sum(d, task: 1, d.splits.train), sum(d, task: 1, d.splits.valid), sum(d, task: 1, d.splits.test)], [1, 1, 1])
        // This format drops purchase-without-click rows.
        XCTAssertFalse((0..<d.count).contains { d.labels[1][$0] == 1 && d.labels[0][$0] == 0 })
        XCTAssertEqual(d.fields.count, 23)
        XCTAssertEqual(d.fields.first?.name, "101")
        XCTAssertEqual(d.denseNames.count, 8)
        XCTAssertEqual(Set(d.users ?? []), [1])
        XCTAssertNil(d.days)
    }

    func testAliCCPAITM() throws {
        let d = try load("ali-ccp-aitm", [("ali-ccp/paddlerec-aitm/train.csv", .train),
                                          ("ali-ccp/paddlerec-aitm/test.csv", .test)])
        XCTAssertEqual([d.splits.train.count, d.splits.test.count], [48, 50])
        XCTAssertEqual([sum(d, task: 0, d.splits.train), sum(d, task: 0, d.splits.test)], [3, 3])
        XCTAssertEqual([sum(d, task: 1, d.splits.train), sum(d, task: 1, d.splits.test)], [3, 3])
        // This format keeps purchase=1, click=0 rows: 2 in train, 3 in test.
        XCTAssertEqual((0..<d.count).filter { d.labels[1][$0] == 1 && d.labels[0][$0] == 0 }.count, 5)
        XCTAssertEqual(d.denseNames, [])
        // Train vocabularies (Python: distinct train values + 1) and 432 unseen test values → 0.
        XCTAssertEqual(d.fields.map(\.vocabulary), [5, 4, 4, 3, 3, 3, 2, 2, 3, 34, 36, 47, 37, 28, 14, 18, 16, 3])
        var unseen = 0
        for f in d.fields.indices { for r in d.splits.test where d.ids[f][r] == 0 { unseen += 1 } }
        XCTAssertEqual(unseen, 432)
        XCTAssertEqual(Set(d.splits.train.map { d.users![$0] }).count, 4)
    }

    func testAliExpressTorchRechub() throws {
        let d = try load("aliexpress", [("aliexpress/torch-rechub/aliexpress_train_sample.csv", .train),
                                        ("aliexpress/torch-rechub/aliexpress_test_sample.csv", .test)])
        XCTAssertEqual([d.splits.train.count, d.splits.test.count], [100, 20])
        XCTAssertEqual(d.tasks.map(\.name), ["click", "conversion"])
        XCTAssertEqual([sum(d, task: 0, d.splits.train), sum(d, task: 0, d.splits.test)], [60, 10])
        XCTAssertEqual([sum(d, task: 1, d.splits.train), sum(d, task: 1, d.splits.test)], [2, 2])
        XCTAssertEqual(d.fields.count, 16)
        XCTAssertEqual(d.denseNames.count, 63)
        XCTAssertFalse(d.fields.contains { $0.name == "search_id" })
        XCTAssertEqual(Set(d.splits.train.map { d.users![$0] }).count, 41)
    }

    func testAliExpressFuxiCTR() throws {
        let d = try load("aliexpress", [("aliexpress/fuxictr-tiny_mtl/train.csv", .train),
                                        ("aliexpress/fuxictr-tiny_mtl/test.csv", .test)])
        XCTAssertEqual([d.splits.train.count, d.splits.test.count], [100, 100])
        XCTAssertEqual([sum(d, task: 0, d.splits.train), sum(d, task: 0, d.splits.test)], [3, 6])
        XCTAssertEqual([sum(d, task: 1, d.splits.train), sum(d, task: 1, d.splits.test)], [2, 1])
        XCTAssertEqual(Set(d.splits.train.map { d.users![$0] }).count, 51)
        XCTAssertEqual(Set(d.splits.test.map { d.users![$0] }).count, 50)
    }

    func testKuaiRand() throws {
        let d = try load("kuairand", [("kuairand-1k/log_random_4_22_to_5_08_1k.users0-3.csv", nil)])
        XCTAssertEqual(d.count, 211)
        XCTAssertEqual(d.tasks.map(\.name), ["is_click", "long_view", "is_like", "is_follow", "is_comment", "is_forward", "is_hate"])
        XCTAssertEqual(d.labels.map { Int($0.reduce(0, +)) }, [30, 20, 0, 0, 0, 0, 0])
        // by_day: before 2022-05-06 train, 05-06 and 05-07 valid, 05-08 test (Python counts).
        XCTAssertEqual([d.splits.train.count, d.splits.valid.count, d.splits.test.count], [109, 66, 36])
        XCTAssertEqual(d.fields.map(\.name), ["user_id", "video_id", "hourmin", "tab"])
        XCTAssertEqual(d.fields.map(\.vocabulary), [5, 110, 19, 2])
        XCTAssertEqual(d.denseNames, [])
        XCTAssertEqual(Set(d.users ?? []), [0, 1, 2, 3])
        // 2022-04-22 … 2022-05-08 as days since 1970-01-01: 19104 … 19120.
        XCTAssertEqual(d.days?.min(), 19104)
        XCTAssertEqual(d.days?.max(), 19120)
        XCTAssertEqual(d.rowsByDay(d.splits.test).map(\.day), [19120])
    }
}
