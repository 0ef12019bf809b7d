import Foundation
import XCTest
@testable import Ranker

/// `DatasetEncoding` and `CSVDatasetLoader.load(encoding:…)`: new rows are
/// encoded exactly as the training load encoded them (checked against the
/// training load itself on census-income, and against hand-worked values on
/// small files), unseen values get id 0, label columns are optional for
/// prediction, and input errors keep their file, line and column.
final class FrozenEncodingTests: XCTestCase {
    func decode(_ json: String) throws -> DataSchema { try DataSchema.decode(Data(json.utf8)) }

    /// The encoding as `encoding.json` holds it: written to a file and read back.
    func roundTrip(_ encoding: DatasetEncoding) throws -> DatasetEncoding {
        let path = DataTestSupport.temporaryFile("", name: "encoding.json")
        try encoding.write(to: URL(fileURLWithPath: path))
        return try DatasetEncoding.load(path: path)
    }

    /// Bit patterns, so that NaN labels compare and `-0.0` differs from `0.0`.
    func bits(_ columns: [[Float]]) -> [[UInt32]] { columns.map { $0.map(\.bitPattern) } }

    // MARK: census-income: the frozen encoding reproduces the training encoding

    static var census: (dataset: Dataset, path: String)?

    func census() throws -> (dataset: Dataset, path: String) {
        if let cached = FrozenEncodingTests.census { return cached }
        let path: String
        do {
            path = try CensusIncome.locate(filePath: #filePath)
        } catch let notFound as DataLocation.NotFound {
            print("skipping: \(notFound)")
            throw XCTSkip("census-income not found (set RANKER_DATA or run `make data`): \(notFound)")
        }
        let schema = try DataTestSupport.shippedSchema("census-income")
        let dataset = try CSVDatasetLoader.load(schema: schema, path: path, name: "census-income")
        FrozenEncodingTests.census = (dataset, path)
        return (dataset, path)
    }

    func testCensusFileThroughItsFrozenEncodingGivesTheTrainingIDsAndValues() throws {
        let (original, path) = try census()
        XCTAssertEqual(original.schema, try DataTestSupport.shippedSchema("census-income"), "the loader keeps its schema")
        let encoding = try roundTrip(try XCTUnwrap(DatasetEncoding(dataset: original)))
        XCTAssertEqual(encoding.fields, original.fields)
        XCTAssertEqual(encoding.sparseFields.map(\.values), original.vocabularies)
        XCTAssertEqual(encoding.denseFeatures, original.denseStatistics, "statistics survive JSON exactly")

        let again = try CSVDatasetLoader.load(encoding: encoding, path: path).dataset
        XCTAssertEqual(again.count, original.count)
        XCTAssertEqual(again.ids, original.ids, "every row, train, valid and test, gets the training ids")
        XCTAssertEqual(bits(again.dense), bits(original.dense), "dense values are bitwise the training values")
        XCTAssertEqual(bits(again.labels), bits(original.labels))
        XCTAssertEqual(again.splits, original.splits, "labels read: the schema's split rule applies")
        XCTAssertEqual(again.fields, original.fields)
        XCTAssertEqual(again.tasks, original.tasks)
        XCTAssertEqual(again.vocabularies, original.vocabularies)
        XCTAssertEqual(again.denseStatistics, original.denseStatistics)
        // Valid and test rows do have values the train split never had (id 0).
        let heldOut = original.splits.valid + original.splits.test
        XCTAssertTrue(original.ids.contains { column in heldOut.contains { column[$0] == 0 } })

        let unlabeled = try CSVDatasetLoader.load(encoding: encoding, path: path, labels: .ignored).dataset
        XCTAssertEqual(unlabeled.ids, original.ids)
        XCTAssertEqual(bits(unlabeled.dense), bits(original.dense))
        XCTAssertTrue(unlabeled.labels.allSatisfy { $0.allSatisfy(\.isNaN) }, "labels are not read")
        XCTAssertEqual(unlabeled.splits, DatasetSplits(train: [], valid: [], test: Array(0..<original.count)))
    }

    /// Prediction input without the trailing label column (`income_50k`,
    /// field 41): 41 fields where `column_names` lists 42.
    func testCensusRowsWithoutTheLabelColumn() throws {
        let (original, path) = try census()
        let encoding = try XCTUnwrap(DatasetEncoding(dataset: original))
        let full = try CSVDatasetLoader.load(encoding: encoding, path: path, labels: .ignored).dataset
        let text = try DataTestSupport.firstLines(of: path, count: 40).map {
            $0.split(separator: ",", omittingEmptySubsequences: false).dropLast().joined(separator: ",") + "\n"
        }.joined()
        let shorter = DataTestSupport.temporaryFile(text)
        let rows = try CSVDatasetLoader.load(encoding: encoding, path: shorter, labels: .ignored).dataset
        XCTAssertEqual(rows.count, 40)
        XCTAssertEqual(rows.ids, full.ids.map { Array($0.prefix(40)) })
        XCTAssertEqual(bits(rows.dense), bits(full.dense.map { Array($0.prefix(40)) }))
        XCTAssertEqual(DataTestSupport.dataError {
            _ = try CSVDatasetLoader.load(encoding: encoding, path: shorter, labels: .required)
        }, DataError(file: shorter, line: 1, problem: .wrongFieldCount(expected: 42, found: 41)),
                       "with labels, the width stays the schema's")
    }

    // MARK: hand-worked encodings

    static let schemaJSON = """
        {"columns": [{"column": "y", "role": "label"},
                     {"column": "c", "role": "sparse", "dimension": 3},
                     {"column": "h", "role": "sparse", "encoding": "hash", "buckets": 7},
                     {"column": "x", "role": "dense", "transform": "standardize"},
                     {"column": "id", "role": "ignore"}]}
        """

    /// Train: c = b, a, q, a → ids b 1, a 2, q 3. x = 1, 3, 1, 3 → mean 2, σ 1.
    static let trainText = "y,c,h,x,id\n1,b,red,1,r1\n0,a,blue,3,r2\n1,q,a,1,r3\n0,a,foobar,3,r4\n"

    func testUnseenValuesGetIDZeroAndStatisticsAreTheTrainOnes() throws {
        let schema = try decode(Self.schemaJSON)
        let train = try CSVDatasetLoader.load(schema: schema, path: DataTestSupport.temporaryFile(Self.trainText))
        let encoding = try roundTrip(try XCTUnwrap(DatasetEncoding(dataset: train)))
        XCTAssertEqual(encoding.sparseFields, [
            .init(name: "c", encoding: .vocabulary, vocabulary: 4, dimension: 3, values: ["b", "a", "q"]),
            .init(name: "h", encoding: .hash, vocabulary: 7, dimension: 8, values: nil),
        ])
        XCTAssertEqual(encoding.denseFeatures, [DenseStatistics(name: "x", transform: .standardize, mean: 2, standardDeviation: 1)])

        // New rows, no label column: "zz" and "B" (case matters) were never seen → 0.
        // Hash ids (FNV-1a-64 mod 7, from a Python implementation): red 3, blue 0, a 5, foobar 6.
        let text = "id,c,h,x\nn1,a,blue,4\nn2,zz,red,0\nn3,q,foobar,2\nn4,B,a,-1.5\n"
        let rows = try CSVDatasetLoader.load(encoding: encoding, path: DataTestSupport.temporaryFile(text),
                                             labels: .ignored, keep: [.name("id")])
        let d = rows.dataset
        XCTAssertEqual(d.ids, [[2, 0, 3, 0], [0, 3, 6, 5]])
        XCTAssertEqual(d.dense, [[2, -2, 0, -3.5]], "(x − 2) / 1")
        XCTAssertEqual(d.fields, train.fields)
        XCTAssertEqual(d.tasks, [TaskSpec(name: "y")])
        XCTAssertTrue(d.labels[0].allSatisfy(\.isNaN))
        XCTAssertEqual(rows.keptColumns, [["n1", "n2", "n3", "n4"]])
    }

    func testRequiredLabelsMustBePresentAndValid() throws {
        let schema = try decode(Self.schemaJSON)
        let train = try CSVDatasetLoader.load(schema: schema, path: DataTestSupport.temporaryFile(Self.trainText))
        let encoding = try XCTUnwrap(DatasetEncoding(dataset: train))
        let noLabel = DataTestSupport.temporaryFile("id,c,h,x\nn1,a,blue,4\n")
        let missing = DataTestSupport.dataError {
            _ = try CSVDatasetLoader.load(encoding: encoding, path: noLabel, labels: .required)
        }
        XCTAssertEqual(missing, DataError(file: noLabel, line: 1, problem: .unknownColumn(name: "y")))

        let badLabel = DataTestSupport.temporaryFile("y,c,h,x,id\n1,a,blue,4,n1\n2,a,red,4,n2\n")
        let error = DataTestSupport.dataError {
            _ = try CSVDatasetLoader.load(encoding: encoding, path: badLabel, labels: .required)
        }
        XCTAssertEqual(error, DataError(file: badLabel, line: 3, column: 1, columnName: "y", problem: .labelNotBinary(found: "2")))

        let labeled = try CSVDatasetLoader.load(encoding: encoding, path: DataTestSupport.temporaryFile(
            "y,c,h,x,id\n1,a,blue,4,n1\n0,zz,red,2,n2\n"), labels: .required).dataset
        XCTAssertEqual(labeled.labels, [[1, 0]])
        XCTAssertEqual(labeled.ids, [[2, 0], [0, 3]])
        XCTAssertEqual(labeled.splits.train, [0, 1], "all_train rule")
    }

    func testInputErrorsNameFileLineAndColumn() throws {
        let schema = try decode(Self.schemaJSON)
        let train = try CSVDatasetLoader.load(schema: schema, path: DataTestSupport.temporaryFile(Self.trainText))
        let encoding = try XCTUnwrap(DatasetEncoding(dataset: train))
        let bad = DataTestSupport.temporaryFile("id,c,h,x\nn1,a,blue,4\nn2,a,red,abc\n")
        let error = DataTestSupport.dataError {
            _ = try CSVDatasetLoader.load(encoding: encoding, path: bad, labels: .ignored)
        }
        XCTAssertEqual(error, DataError(file: bad, line: 3, column: 4, columnName: "x", problem: .unparsableNumber(found: "abc")))
        XCTAssertEqual(error?.description, "\(bad):3: column 4 (x): expected a number, found \"abc\"")

        let ragged = DataTestSupport.temporaryFile("id,c,h,x\nn1,a,blue\n")
        XCTAssertEqual(DataTestSupport.dataError {
            _ = try CSVDatasetLoader.load(encoding: encoding, path: ragged, labels: .ignored)
        }, DataError(file: ragged, line: 2, problem: .wrongFieldCount(expected: 4, found: 3)))

        let noFeature = DataTestSupport.temporaryFile("id,c,x\nn1,a,4\n")
        XCTAssertEqual(DataTestSupport.dataError {
            _ = try CSVDatasetLoader.load(encoding: encoding, path: noFeature, labels: .ignored)
        }, DataError(file: noFeature, line: 1, problem: .unknownColumn(name: "h")), "features are never optional")

        let unknownKeep = DataTestSupport.temporaryFile("id,c,h,x\nn1,a,blue,4\n")
        XCTAssertEqual(DataTestSupport.dataError {
            _ = try CSVDatasetLoader.load(encoding: encoding, path: unknownKeep, labels: .ignored, keep: [.name("user")])
        }, DataError(file: unknownKeep, line: 1, problem: .unknownKeptColumn(name: "user", available: ["id", "c", "h", "x"])),
           "a kept column is the caller's, not the schema's; the message lists the columns there are")
    }

    /// A file without a header binds columns by position: trailing label
    /// columns may be left out when labels are not read, and `keep` takes indices.
    func testHeaderlessFileMayLackTrailingLabelColumn() throws {
        let schema = try decode("""
            {"format": {"header": false},
             "columns": [{"column": 0, "role": "sparse", "name": "c"}, {"column": 1, "role": "dense", "name": "x"},
                         {"column": 2, "role": "label", "name": "y"}]}
            """)
        let train = try CSVDatasetLoader.load(schema: schema, path: DataTestSupport.temporaryFile("u,1,0\nv,2,1\n"))
        let encoding = try XCTUnwrap(DatasetEncoding(dataset: train))
        let rows = try CSVDatasetLoader.load(encoding: encoding, path: DataTestSupport.temporaryFile("v,5\nw,\"6\"\n"),
                                             labels: .ignored, keep: [.index(0)])
        XCTAssertEqual(rows.dataset.ids, [[2, 0]])
        XCTAssertEqual(rows.dataset.dense, [[5, 6]])
        XCTAssertEqual(rows.keptColumns, [["v", "w"]])
    }

    /// `data.tasks` and `data.embedding_dimension` are part of what the run
    /// trained on: the encoding keeps them and a frozen load reproduces them.
    func testTaskSelectionAndDimensionOverrideAreFrozen() throws {
        let schema = try decode("""
            {"columns": [{"column": "a", "role": "label"}, {"column": "b", "role": "label"},
                         {"column": "c", "role": "sparse"}]}
            """)
        let path = DataTestSupport.temporaryFile("a,b,c\n1,0,p\n0,1,q\n")
        let loaded = try CSVDatasetLoader.load(schema: schema, path: path)
        let run = RunData.withEmbeddingDimension(5, try RunData.select(tasks: ["b"], from: loaded))
        XCTAssertEqual(run.schema, schema, "derived datasets keep the schema")
        let encoding = try roundTrip(try XCTUnwrap(DatasetEncoding(dataset: run)))
        XCTAssertEqual(encoding.tasks, [TaskSpec(name: "b")])
        XCTAssertEqual(encoding.fields, [SparseField(name: "c", vocabulary: 3, dimension: 5)])
        let again = try CSVDatasetLoader.load(encoding: encoding, path: path).dataset
        XCTAssertEqual(again.labels, [[0, 1]])
        XCTAssertEqual(again.fields, run.fields)
        XCTAssertEqual(try RunData.modelConfiguration(ModelConfiguration(model: .sharedBottom, tasks: []), for: encoding),
                       try RunData.modelConfiguration(ModelConfiguration(model: .sharedBottom, tasks: []), for: run))
    }

    func testSyntheticDataHasNoEncoding() throws {
        var config = SyntheticClickLogConfig()
        config.rows = 500
        config.users = 50
        config.items = 100
        let d = try SyntheticClickLog(config: config).dataset
        XCTAssertNil(d.schema)
        XCTAssertNil(DatasetEncoding(dataset: d))
    }

    // MARK: unusable encodings

    func testEncodingThatDoesNotFitTheSchemaIsRejected() throws {
        let schema = try decode(Self.schemaJSON)
        let train = try CSVDatasetLoader.load(schema: schema, path: DataTestSupport.temporaryFile(Self.trainText))
        let path = DataTestSupport.temporaryFile(Self.trainText)
        var wrongTransform = try XCTUnwrap(DatasetEncoding(dataset: train))
        wrongTransform.denseFeatures[0].transform = .log1pStandardize
        XCTAssertThrowsError(try CSVDatasetLoader.load(encoding: wrongTransform, path: path, encodingSource: "e.json")) {
            let e = $0 as? DatasetEncodingError
            XCTAssertEqual(e?.source, "e.json")
            XCTAssertTrue(e?.message.contains("dense features") ?? false, "\($0)")
        }
        var wrongBuckets = try XCTUnwrap(DatasetEncoding(dataset: train))
        wrongBuckets.sparseFields[1].vocabulary = 8
        XCTAssertThrowsError(try CSVDatasetLoader.load(encoding: wrongBuckets, path: path)) {
            XCTAssertTrue(($0 as? DatasetEncodingError)?.message.contains("sparse field h") ?? false, "\($0)")
        }
        var wrongSize = try XCTUnwrap(DatasetEncoding(dataset: train))
        wrongSize.sparseFields[0].vocabulary = 3
        XCTAssertThrowsError(try CSVDatasetLoader.load(encoding: wrongSize, path: path)) {
            XCTAssertEqual(($0 as? DatasetEncodingError)?.message,
                           "sparse field c: vocabulary 3 must be values.count + 1 = 4")
        }
        var duplicate = try XCTUnwrap(DatasetEncoding(dataset: train))
        duplicate.sparseFields[0].values = ["b", "a", "b"]
        XCTAssertThrowsError(try CSVDatasetLoader.load(encoding: duplicate, path: path)) {
            XCTAssertEqual(($0 as? DatasetEncodingError)?.message, "sparse field c: the value \"b\" is listed twice")
        }
        var unknownTask = try XCTUnwrap(DatasetEncoding(dataset: train))
        unknownTask.tasks = [TaskSpec(name: "y", kind: .regression)]
        XCTAssertThrowsError(try CSVDatasetLoader.load(encoding: unknownTask, path: path, labels: .required)) {
            XCTAssertTrue(($0 as? DatasetEncodingError)?.message.contains("task y (regression)") ?? false, "\($0)")
        }
        XCTAssertNoThrow(try CSVDatasetLoader.load(encoding: unknownTask, path: path, labels: .ignored),
                         "labels not read: the task list is only carried")
    }

    func testEncodingFileErrorsNameTheFile() throws {
        let schema = try decode(Self.schemaJSON)
        let train = try CSVDatasetLoader.load(schema: schema, path: DataTestSupport.temporaryFile(Self.trainText))
        let good = try XCTUnwrap(DatasetEncoding(dataset: train)).encodedJSON()
        func loadError(_ text: String) -> DatasetEncodingError? {
            let path = DataTestSupport.temporaryFile(text, name: "encoding.json")
            do {
                _ = try DatasetEncoding.load(path: path)
                XCTFail("expected an error for \(text.prefix(80))")
            } catch let error as DatasetEncodingError {
                XCTAssertEqual(error.source, path)
                return error
            } catch {
                XCTFail("expected a DatasetEncodingError, got \(error)")
            }
            return nil
        }
        let wrongFormat = good.replacingOccurrences(of: "ranker-encoding/1", with: "ranker-encoding/9")
        XCTAssertTrue(loadError(wrongFormat)?.message.contains("ranker-encoding/9") ?? false)
        let unknownKey = good.replacingOccurrences(of: "\"tasks\"", with: "\"tasks_\"")
        XCTAssertTrue(loadError(unknownKey)?.message.contains("tasks_") ?? false)
        XCTAssertNotNil(loadError("{\"format\": "))
        XCTAssertTrue(loadError("")?.message.isEmpty == false)
    }
}
