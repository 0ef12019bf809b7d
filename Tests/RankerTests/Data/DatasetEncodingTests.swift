import Foundation
import XCTest
@testable import Ranker

/// Encoding rules on small hand-made files, against values worked out by hand.
final class DatasetEncodingTests: XCTestCase {
    func decode(_ json: String) throws -> DataSchema { try DataSchema.decode(Data(json.utf8)) }

    /// Rows 0..7 with `row_modulo` 4: residues 0, 1 train; 2 valid; 3 test.
    func testVocabularyFromTrainRowsInFirstAppearanceOrderUnseenIsZero() throws {
        let s = try decode("""
            {"columns": [{"column": "y", "role": "label"}, {"column": "c", "role": "sparse", "dimension": 3}],
             "split": {"rule": "row_modulo", "modulus": 4, "train": [0, 1], "valid": [2], "test": [3]}}
            """)
        // row: 0 train, 1 train, 2 valid, 3 test, 4 train, 5 train, 6 valid, 7 test
        let text = "y,c\n1,b\n0,a\n1,z\n0,q\n1,q\n0,b\n1,a\n0,w\n"
        let d = try CSVDatasetLoader.load(schema: s, path: DataTestSupport.temporaryFile(text))
        XCTAssertEqual(d.splits, DatasetSplits(train: [0, 1, 4, 5], valid: [2, 6], test: [3, 7]))
        // Train values in order of first appearance: b → 1, a → 2, q → 3 (q first appears in
        // test row 3, but its id comes from train row 4). z and w never occur in train → 0.
        XCTAssertEqual(d.vocabularies, [["b", "a", "q"]])
        XCTAssertEqual(d.ids, [[1, 2, 0, 3, 3, 1, 2, 0]])
        XCTAssertEqual(d.fields, [SparseField(name: "c", vocabulary: 4, dimension: 3)])
    }

    func testHashBucketIds() throws {
        let s = try decode("""
            {"columns": [{"column": "y", "role": "label"},
                         {"column": "c", "role": "sparse", "encoding": "hash", "buckets": 7, "missing": "default", "default": ""}]}
            """)
        let d = try CSVDatasetLoader.load(schema: s, path: DataTestSupport.temporaryFile("y,c\n1,red\n0,blue\n1,\n0,a\n0,foobar\n"))
        // FNV-1a-64 mod 7, from a Python implementation: red 3, blue 0, "" 2, a 5, foobar 6.
        XCTAssertEqual(d.ids, [[3, 0, 2, 5, 6]])
        XCTAssertEqual(d.fields, [SparseField(name: "c", vocabulary: 7, dimension: 8)])
        XCTAssertEqual(d.vocabularies, [nil])
    }

    func testDenseTransformsUseTrainStatistics() throws {
        let s = try decode("""
            {"columns": [{"column": "y", "role": "label"},
                         {"column": "a", "role": "dense"},
                         {"column": "b", "role": "dense", "transform": "log1p"},
                         {"column": "c", "role": "dense", "transform": "standardize"},
                         {"column": "d", "role": "dense", "transform": "log1p_standardize"},
                         {"column": "e", "role": "dense", "transform": "standardize"}],
             "split": {"rule": "row_modulo", "modulus": 3, "train": [0, 1], "test": [2]}}
            """)
        // Train rows 0, 1, 3, 4; test rows 2, 5.
        let text = """
            y,a,b,c,d,e
            1,1,0,1,0,5
            0,2,1,3,1,5
            1,3,3,100,7,9
            0,4,7,5,3,5
            1,5,15,7,7,5
            0,6,0,-1,0,5

            """
        let d = try CSVDatasetLoader.load(schema: s, path: DataTestSupport.temporaryFile(text))
        XCTAssertEqual(d.dense[0], [1, 2, 3, 4, 5, 6])
        let logs: [Double] = [0, log(2.0), log(4.0), log(8.0), log(16.0), 0]
        XCTAssertEqual(d.dense[1], logs.map { Float($0) })
        // c: train values 1, 3, 5, 7: mean 4, population variance (9 + 1 + 1 + 9) / 4 = 5.
        let sd = 5.0.squareRoot()
        XCTAssertEqual(d.denseStatistics[2], DenseStatistics(name: "c", transform: .standardize, mean: 4, standardDeviation: sd))
        for (r, x) in [1.0, 3, 100, 5, 7, -1].enumerated() {
            XCTAssertEqual(Double(d.dense[2][r]), (x - 4) / sd, accuracy: 1e-6 * max(1, abs(x - 4) / sd))
        }
        // d: log1p of train values 0, 1, 3, 7 = 0, ln 2, 2 ln 2, 3 ln 2: mean 1.5 ln 2, variance 1.25 (ln 2)².
        let ln2 = log(2.0)
        XCTAssertEqual(d.denseStatistics[3].mean, 1.5 * ln2, accuracy: 1e-12)
        XCTAssertEqual(d.denseStatistics[3].standardDeviation, 1.25.squareRoot() * ln2, accuracy: 1e-12)
        XCTAssertEqual(Double(d.dense[3][2]), (3 * ln2 - 1.5 * ln2) / (1.25.squareRoot() * ln2), accuracy: 1e-6)
        // e: constant in train → σ = 0, divisor 1: values become x − 5.
        XCTAssertEqual(d.denseStatistics[4].standardDeviation, 0)
        XCTAssertEqual(d.dense[4], [0, 0, 4, 0, 0, 0])
    }

    func testUsersAndDays() throws {
        let s = try decode("""
            {"columns": [{"column": "y", "role": "label"}, {"column": "u", "role": "user", "user_format": "hash"},
                         {"column": "u", "role": "sparse"}, {"column": "d", "role": "day", "day_format": "yyyymmdd"}]}
            """)
        let d = try CSVDatasetLoader.load(schema: s, path: DataTestSupport.temporaryFile(
            "y,u,d\n1,u1,20220430\n0,u1,20220508\n1,u2,20220430\n"))
        // FNV-1a("u1") = 0x08c47b07b56747f3 (Python); 2022-04-30 is day 19112 since 1970-01-01.
        XCTAssertEqual(d.users?[0], 631_765_120_777_144_307)
        XCTAssertEqual(d.users?[1], d.users?[0])
        XCTAssertNotEqual(d.users?[2], d.users?[0])
        XCTAssertEqual(d.days, [19112, 19120, 19112])
        XCTAssertEqual(d.ids, [[1, 1, 2]])
        let groups = d.rowsByDay([2, 1, 0])
        XCTAssertEqual(groups.map(\.day), [19112, 19120])
        XCTAssertEqual(groups.map(\.rows), [[2, 0], [1]])
        let batch = d.makeBatch(capacity: 2)
        d.fill(batch, rows: [1, 2])
        XCTAssertEqual(batch.users, [d.users![1], d.users![2]])
        XCTAssertEqual(batch.days, [19120, 19112])
    }

    func testByDaySplitUsesTheFilesNotation() throws {
        let s = try decode("""
            {"columns": [{"column": "y", "role": "label"}, {"column": "x", "role": "dense"},
                         {"column": "d", "role": "day", "day_format": "yyyymmdd"}],
             "split": {"rule": "by_day", "valid_from": 20220502, "test_from": 20220503}}
            """)
        let d = try CSVDatasetLoader.load(schema: s, path: DataTestSupport.temporaryFile(
            "y,x,d\n1,1,20220501\n0,2,20220503\n1,3,20220502\n0,4,20220430\n"))
        XCTAssertEqual(d.splits, DatasetSplits(train: [0, 3], valid: [2], test: [1]))
    }

    func testRandomSplitIsDeterministicAndNearItsFractions() throws {
        let s = try decode("""
            {"columns": [{"column": "y", "role": "label"}, {"column": "x", "role": "dense"}],
             "split": {"rule": "random", "valid_fraction": 0.2, "test_fraction": 0.3, "seed": 9}}
            """)
        let text = "y,x\n" + (0..<2000).map { "\($0 % 2),\($0)" }.joined(separator: "\n")
        let path = DataTestSupport.temporaryFile(text)
        let a = try CSVDatasetLoader.load(schema: s, path: path)
        let b = try CSVDatasetLoader.load(schema: s, path: path)
        XCTAssertEqual(a.splits, b.splits)
        // The split draws one RandomGenerator(seed: 9) double per row.
        var rng = RandomGenerator(seed: 9)
        let expectedValid = (0..<2000).filter { _ in rng.nextDouble() < 0.2 }
        XCTAssertEqual(a.splits.valid.count, expectedValid.count)
        XCTAssertEqual(Double(a.splits.valid.count) / 2000, 0.2, accuracy: 0.03)
        XCTAssertEqual(Double(a.splits.test.count) / 2000, 0.3, accuracy: 0.03)
    }

    func testSeveralFilesShareTrainVocabularyAndStatistics() throws {
        let s = try decode("""
            {"columns": [{"column": "y", "role": "label"}, {"column": "c", "role": "sparse"},
                         {"column": "x", "role": "dense", "transform": "standardize"}]}
            """)
        let train = DataTestSupport.temporaryFile("y,c,x\n1,a,1\n0,b,3\n")
        // The test file has its columns in another order: bound by name per file.
        let test = DataTestSupport.temporaryFile("x,c,y\n5,b,1\n7,z,0\n")
        let d = try CSVDatasetLoader.load(schema: s, sources: [CSVSource(path: train, part: .train),
                                                               CSVSource(path: test, part: .test)])
        XCTAssertEqual(d.splits, DatasetSplits(train: [0, 1], valid: [], test: [2, 3]))
        XCTAssertEqual(d.ids, [[1, 2, 2, 0]])
        XCTAssertEqual(d.labels, [[1, 0, 1, 0]])
        XCTAssertEqual(d.dense, [[-1, 1, 3, 5]])   // mean 2, σ 1
        XCTAssertEqual(d.report.files.map(\.keptRows), [2, 2])
    }

    func testRowsSkippedAfterInterningDoNotDisturbIds() throws {
        // Row 2 interns "new" in the sparse field and is then skipped for its missing user.
        let s = try decode("""
            {"columns": [{"column": "y", "role": "label"}, {"column": "c", "role": "sparse"},
                         {"column": "u", "role": "user", "missing": "skip_row"}]}
            """)
        let d = try CSVDatasetLoader.load(schema: s, path: DataTestSupport.temporaryFile(
            "y,c,u\n1,a,1\n0,new,\n1,b,2\n0,new,3\n"))
        XCTAssertEqual(d.ids, [[1, 2, 3]])
        XCTAssertEqual(d.vocabularies, [["a", "b", "new"]])
        XCTAssertEqual(d.users, [1, 2, 3])
        XCTAssertEqual(d.report.skips, [LoadReport.SkipCount(column: "u", count: 1, firstFile: d.report.files[0].path, firstLine: 3)])
    }
}
