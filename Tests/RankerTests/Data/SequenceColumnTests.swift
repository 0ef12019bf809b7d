import Foundation
import XCTest
@testable import Ranker

/// The `sequence` role: lists split at their separator, the last
/// `max_length` values kept, ids from an own vocabulary (train first
/// appearance), a shared field's vocabulary, or hash buckets; ragged storage;
/// errors with file, line, column and what was expected; schema checks; and
/// the frozen encoding (`encoding.json`) reading new rows with the same ids.
final class SequenceColumnTests: XCTestCase {
    /// `click,item,history,tags,score`: history shares item's table (attention on item), tags has its own vocabulary.
    let schemaText = """
    {"columns": [
      {"column": "click", "role": "label"},
      {"column": "item", "role": "sparse", "dimension": 4},
      {"column": "history", "role": "sequence", "shares_embedding_with": "item", "max_length": 3,
       "pooling": "attention", "target": "item", "attention_hidden": [8]},
      {"column": "tags", "role": "sequence", "separator": ";", "pooling": "sum", "dimension": 2},
      {"column": "score", "role": "dense"}
    ], "split": {"rule": "row_modulo", "modulus": 4, "train": [0, 1, 2], "test": [3]}}
    """
    let data = """
    click,item,history,tags,score
    1,a,b|c|a|b,x;y,0.5
    0,b,,y,1.5
    1,c,a|q,,2
    0,d,d|b|z|c,x;w;x,3
    1,b,a,w,4

    """

    func schema(_ text: String? = nil) throws -> DataSchema { try DataSchema.decode(Data((text ?? schemaText).utf8), source: "seq-schema") }

    func testListsAreSplitTruncatedAndEncoded() throws {
        let d = try CSVDatasetLoader.load(schema: try schema(), path: DataTestSupport.temporaryFile(data))
        // item vocabulary from train rows 0, 1, 2, 4: a=1, b=2, c=3; d (test row only) = 0.
        XCTAssertEqual(d.ids[0], [1, 2, 3, 0, 2])
        XCTAssertEqual(d.sequenceFields.map(\.name), ["history", "tags"])
        let history = d.sequences[0]
        // Last 3 values kept: b|c|a|b → c a b; d|b|z|c → b z c (z, d unknown to item → 0); q unknown → 0.
        XCTAssertEqual(history.offsets, [0, 3, 3, 5, 8, 9])
        XCTAssertEqual(history.ids, [3, 1, 2, 1, 0, 2, 0, 3, 1])
        XCTAssertEqual(d.sequenceFields[0], SequenceField(name: "history", vocabulary: 4, dimension: 4, maxLength: 3,
                                                          sharesEmbeddingWith: "item", pooling: .attention, target: "item",
                                                          attentionHidden: [8], attentionSoftmax: false))
        // tags: own vocabulary by first appearance in train lists: x=1, y=2, w=3 (w first in train row 4).
        XCTAssertEqual(d.sequences[1].offsets, [0, 2, 3, 3, 6, 7])
        XCTAssertEqual(d.sequences[1].ids, [1, 2, 2, 1, 3, 1, 3])
        XCTAssertEqual(d.sequenceVocabularies[1], ["x", "y", "w"])
        XCTAssertEqual(d.sequenceFields[1].vocabulary, 4)
        XCTAssertEqual(d.sequenceFields[1].pooling, .sum)
        XCTAssertEqual(d.sequenceFields[1].maxLength, 50)
    }

    func testHashedSequenceUsesBuckets() throws {
        let text = """
        {"columns": [{"column": "y", "role": "label"},
                     {"column": "s", "role": "sequence", "encoding": "hash", "buckets": 7}]}
        """
        let d = try CSVDatasetLoader.load(schema: try schema(text), path: DataTestSupport.temporaryFile("y,s\n1,red|blue\n0,\n"))
        let expected = ["red", "blue"].map { v in Int32(FNV1a.hash(v) % 7) }
        XCTAssertEqual(d.sequences[0].ids, expected)
        XCTAssertEqual(d.sequences[0].offsets, [0, 2, 2])
        XCTAssertEqual(d.sequenceFields[0].vocabulary, 7)
    }

    func testEmptyValueIsAnErrorWithLineAndColumn() throws {
        let path = DataTestSupport.temporaryFile("click,item,history,tags,score\n1,a,b||c,x,1\n")
        let s = try schema()
        let error = DataTestSupport.dataError { _ = try CSVDatasetLoader.load(schema: s, path: path) }
        XCTAssertEqual(error?.file, path)
        XCTAssertEqual(error?.line, 2)
        XCTAssertEqual(error?.column, 3)
        XCTAssertEqual(error?.columnName, "history")
        XCTAssertEqual(error?.problem, .emptySequenceValue(found: "b||c", separator: "|"))
        XCTAssertTrue(error!.description.contains("expected a list of non-empty values separated by \"|\""), error!.description)
        for bad in ["|a", "a|"] {
            let p = DataTestSupport.temporaryFile("click,item,history,tags,score\n1,a,c,x,1\n0,a,\(bad),x,1\n")
            XCTAssertEqual(DataTestSupport.dataError { _ = try CSVDatasetLoader.load(schema: s, path: p) }?.line, 3)
        }
    }

    func testSchemaChecks() throws {
        func problem(_ entry: String) -> SchemaError? {
            DataTestSupport.schemaError {
                _ = try self.schema("""
                {"columns": [{"column": "y", "role": "label"}, {"column": "i", "role": "sparse"}, \(entry)]}
                """)
            }
        }
        XCTAssertEqual(problem(#"{"column": "h", "role": "sequence", "pooling": "attention"}"#)?.path, "columns[2]")
        XCTAssertEqual(problem(#"{"column": "h", "role": "sequence", "separator": "||"}"#)?.path, "columns[2].separator")
        XCTAssertEqual(problem(#"{"column": "h", "role": "sequence", "max_length": 0}"#)?.path, "columns[2].max_length")
        XCTAssertEqual(problem(#"{"column": "h", "role": "sequence", "missing": "default", "default": ""}"#)?.problem,
                       .keyNotApplicable(key: "missing", reason: "an empty sequence field is an empty list"))
        XCTAssertEqual(problem(#"{"column": "h", "role": "sequence", "target": "i"}"#)?.problem,
                       .keyNotApplicable(key: "target", reason: "only \"pooling\": \"attention\" has a target"))
        XCTAssertEqual(problem(#"{"column": "h", "role": "sparse", "max_length": 3}"#)?.problem,
                       .keyNotApplicable(key: "max_length", reason: "only sequence columns are lists"))
        XCTAssertEqual(problem(#"{"column": "h", "role": "sequence", "shares_embedding_with": "i", "dimension": 3}"#)?.problem,
                       .keyNotApplicable(key: "dimension", reason: "a sequence sharing a table uses that field's dimension"))
        XCTAssertNotNil(problem(#"{"column": "h", "role": "sequence", "poolng": "sum"}"#))
        // Names resolved against the file's sparse fields.
        let unknown = try schema("""
        {"columns": [{"column": "y", "role": "label"}, {"column": "i", "role": "sparse"},
                     {"column": "h", "role": "sequence", "shares_embedding_with": "nope"}]}
        """)
        let error = DataTestSupport.schemaError {
            _ = try CSVDatasetLoader.load(schema: unknown, path: DataTestSupport.temporaryFile("y,i,h\n1,a,b\n"))
        }
        XCTAssertEqual(error?.path, "columns[2].shares_embedding_with")
    }

    func testFrozenEncodingReadsNewRowsWithTheSameIDs() throws {
        let trained = try CSVDatasetLoader.load(schema: try schema(), path: DataTestSupport.temporaryFile(data))
        let encoding = try XCTUnwrap(DatasetEncoding(dataset: trained))
        let path = DataTestSupport.temporaryFile("", name: "encoding.json")
        try encoding.write(to: URL(fileURLWithPath: path))
        let loaded = try DatasetEncoding.load(path: path)
        XCTAssertEqual(loaded, encoding)
        XCTAssertEqual(loaded.sequenceFields.map(\.encoding), [.vocabulary, .vocabulary])
        XCTAssertNil(loaded.sequenceFields[0].values)
        XCTAssertEqual(loaded.sequenceFields[1].values, ["x", "y", "w"])
        // The training file read again: bitwise the same lists.
        let again = try CSVDatasetLoader.load(encoding: loaded, path: DataTestSupport.temporaryFile(data)).dataset
        XCTAssertEqual(again.sequences, trained.sequences)
        XCTAssertEqual(again.sequenceFields, trained.sequenceFields)
        // New rows (no label column): known values keep their ids, unseen ones get 0.
        let fresh = try CSVDatasetLoader.load(encoding: loaded, path: DataTestSupport.temporaryFile(
            "item,history,tags,score\nc,c|a|new|b,w;new,1\nzz,,,2\n"), labels: .ignored).dataset
        XCTAssertEqual(fresh.sequences[0].ids, [1, 0, 2])
        XCTAssertEqual(fresh.sequences[1].ids, [3, 0])
        XCTAssertEqual(fresh.sequences[1].offsets, [0, 2, 2])
        // A model built from the encoding has the dataset's sequence fields.
        let model = try RunData.modelConfiguration(ModelConfiguration(model: .mmoe, tasks: []), for: loaded)
        XCTAssertEqual(model.sequenceFields, trained.sequenceFields)
    }
}
