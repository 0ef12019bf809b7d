import Foundation
import XCTest
@testable import Ranker

/// Every kind of malformed input gives the exact typed error: file, 1-based
/// line, 1-based column and name, and what was expected.
final class LoaderErrorTests: XCTestCase {
    /// Columns: `user,color,x,click` — user id, a sparse field, a dense feature, a binary label.
    func schema(_ extra: String = "", dense: String = "", label: String = "", format: String = "") throws -> DataSchema {
        let json = """
        {"format": {\(format)}, "columns": [
          {"column": "click", "role": "label"\(label)},
          {"column": "color", "role": "sparse"},
          {"column": "x", "role": "dense"\(dense)},
          {"column": "user", "role": "user"},
          {"column": "user", "role": "ignore"}\(extra)
        ]}
        """
        return try DataSchema.decode(Data(json.utf8), source: "test-schema")
    }

    func load(_ text: String, schema: DataSchema? = nil) throws -> Dataset {
        try CSVDatasetLoader.load(schema: schema ?? self.schema(), path: DataTestSupport.temporaryFile(text))
    }

    func expectError(_ text: String, schema: DataSchema? = nil, _ expected: (String) -> DataError, message: String,
                     file: StaticString = #filePath, line: UInt = #line) throws {
        let path = DataTestSupport.temporaryFile(text)
        let s = try schema ?? self.schema()
        let error = DataTestSupport.dataError({ _ = try CSVDatasetLoader.load(schema: s, path: path) }, file: file, line: line)
        XCTAssertEqual(error, expected(path), file: file, line: line)
        XCTAssertEqual(error?.description, message.replacingOccurrences(of: "$FILE", with: path), file: file, line: line)
    }

    func testWellFormedFileLoads() throws {
        let d = try load("user,color,x,click\n7,red,1.5,1\n8,blue,2,0\n")
        XCTAssertEqual(d.count, 2)
        XCTAssertEqual(d.labels, [[1, 0]])
        XCTAssertEqual(d.ids, [[1, 2]])
        XCTAssertEqual(d.dense, [[1.5, 2]])
        XCTAssertEqual(d.users, [7, 8])
    }

    func testUnparsableNumber() throws {
        try expectError("user,color,x,click\n7,red,1.5,1\n8,blue,abc,0\n",
                        { DataError(file: $0, line: 3, column: 3, columnName: "x", problem: .unparsableNumber(found: "abc")) },
                        message: "$FILE:3: column 3 (x): expected a number, found \"abc\"")
    }

    func testLabelNotBinary() throws {
        try expectError("user,color,x,click\n7,red,1.5,2\n",
                        { DataError(file: $0, line: 2, column: 4, columnName: "click", problem: .labelNotBinary(found: "2")) },
                        message: "$FILE:2: column 4 (click): expected a binary label 0 or 1, found \"2\"")
        try expectError("user,color,x,click\n7,red,1.5,yes\n",
                        { DataError(file: $0, line: 2, column: 4, columnName: "click", problem: .labelNotBinary(found: "yes")) },
                        message: "$FILE:2: column 4 (click): expected a binary label 0 or 1, found \"yes\"")
    }

    func testWrongNumberOfFields() throws {
        try expectError("user,color,x,click\n7,red,1.5,1\n8,blue,2\n",
                        { DataError(file: $0, line: 3, problem: .wrongFieldCount(expected: 4, found: 3)) },
                        message: "$FILE:3: expected 4 fields, found 3")
        try expectError("user,color,x,click\n7,red,1.5,1,extra\n",
                        { DataError(file: $0, line: 2, problem: .wrongFieldCount(expected: 4, found: 5)) },
                        message: "$FILE:2: expected 4 fields, found 5")
    }

    func testBlankLineIsAnErrorUnlessSkipped() throws {
        try expectError("user,color,x,click\n7,red,1.5,1\n\n8,blue,2,0\n",
                        { DataError(file: $0, line: 3, problem: .wrongFieldCount(expected: 4, found: 1)) },
                        message: "$FILE:3: expected 4 fields, found 1")
        let d = try load("user,color,x,click\n7,red,1.5,1\n\r\n8,blue,2,0\n\n",
                         schema: schema(format: "\"blank_lines\": \"skip\""))
        XCTAssertEqual(d.count, 2)
        XCTAssertEqual(d.report.skippedBlankLines, 2)
        XCTAssertEqual(d.report.files.first?.dataRows, 2)
    }

    func testEmptyFileAndHeaderOnly() throws {
        try expectError("", { DataError(file: $0, problem: .emptyFile) },
                        message: "$FILE: the file is empty; expected at least one data row")
        try expectError("user,color,x,click\n", { DataError(file: $0, problem: .noDataRows) },
                        message: "$FILE: the file has a header but no data rows")
    }

    func testUnknownColumnInSchema() throws {
        let s = try schema(", {\"column\": \"price\", \"role\": \"dense\"}")
        try expectError("user,color,x,click\n7,red,1.5,1\n", schema: s,
                        { DataError(file: $0, line: 1, problem: .unknownColumn(name: "price")) },
                        message: "$FILE:1: the schema names column \"price\", which the header does not have")
    }

    func testColumnIndexOutOfRange() throws {
        let s = try schema(", {\"column\": 9, \"role\": \"dense\"}")
        try expectError("user,color,x,click\n7,red,1.5,1\n", schema: s,
                        { DataError(file: $0, line: 1, problem: .columnIndexOutOfRange(index: 9, fieldCount: 4)) },
                        message: "$FILE:1: the schema refers to 0-based column index 9, but records have 4 fields")
    }

    func testUnlistedColumns() throws {
        try expectError("user,color,x,click,extra\n7,red,1.5,1,q\n",
                        { DataError(file: $0, line: 1, problem: .unlistedColumns(names: ["extra"])) },
                        message: "$FILE:1: columns not mentioned in the schema: extra (list them with role \"ignore\" or set \"unlisted_columns\": \"ignore\")")
    }

    func testNaNOrInfinityInDenseFeature() throws {
        try expectError("user,color,x,click\n7,red,nan,1\n",
                        { DataError(file: $0, line: 2, column: 3, columnName: "x", problem: .notFinite(found: "nan")) },
                        message: "$FILE:2: column 3 (x): expected a finite number, found \"nan\"")
        try expectError("user,color,x,click\n7,red,-Infinity,1\n",
                        { DataError(file: $0, line: 2, column: 3, columnName: "x", problem: .notFinite(found: "-Infinity")) },
                        message: "$FILE:2: column 3 (x): expected a finite number, found \"-Infinity\"")
        try expectError("user,color,x,click\n7,red,1e39,1\n",
                        { DataError(file: $0, line: 2, column: 3, columnName: "x", problem: .notFinite(found: "1e39")) },
                        message: "$FILE:2: column 3 (x): expected a finite number, found \"1e39\"")
    }

    func testLog1pDomain() throws {
        try expectError("user,color,x,click\n7,red,-1,1\n", schema: schema(dense: ", \"transform\": \"log1p\""),
                        { DataError(file: $0, line: 2, column: 3, columnName: "x", problem: .outsideLog1pDomain(found: "-1")) },
                        message: "$FILE:2: column 3 (x): log1p needs a value greater than -1, found \"-1\"")
    }

    func testMissingValueWhereNotAllowed() throws {
        try expectError("user,color,x,click\n7,red,,1\n",
                        { DataError(file: $0, line: 2, column: 3, columnName: "x", problem: .missingValue(found: "")) },
                        message: "$FILE:2: column 3 (x): missing value \"\" where the schema allows none (set \"missing\" to \"default\" or \"skip_row\")")
        // A declared marker is missing too.
        try expectError("user,color,x,click\n7,red,?,1\n", schema: schema(format: "\"missing_markers\": [\"\", \"?\"]"),
                        { DataError(file: $0, line: 2, column: 3, columnName: "x", problem: .missingValue(found: "?")) },
                        message: "$FILE:2: column 3 (x): missing value \"?\" where the schema allows none (set \"missing\" to \"default\" or \"skip_row\")")
    }

    func testMissingValueDefault() throws {
        let d = try load("user,color,x,click\n7,red,,1\n",
                         schema: schema(dense: ", \"missing\": \"default\", \"default\": \"-2.5\""))
        XCTAssertEqual(d.dense, [[-2.5]])
        XCTAssertEqual(d.report.skippedRows, 0)
    }

    func testSkippedRowsAreCountedAndReported() throws {
        let s = try schema(dense: ", \"missing\": \"skip_row\"")
        let path = DataTestSupport.temporaryFile("user,color,x,click\n7,red,1,1\n8,red,,0\n9,blue,3,0\n10,red,,1\n")
        let d = try CSVDatasetLoader.load(schema: s, path: path)
        XCTAssertEqual(d.count, 2)
        XCTAssertEqual(d.users, [7, 9])
        XCTAssertEqual(d.report.skippedRows, 2)
        XCTAssertEqual(d.report.files, [LoadReport.FileSummary(path: path, dataRows: 4, keptRows: 2, skippedRows: 2)])
        XCTAssertEqual(d.report.skips, [LoadReport.SkipCount(column: "x", count: 2, firstFile: path, firstLine: 3)])
        XCTAssertEqual(d.report.summary, """
            \(path): 4 rows read, 2 kept, 2 skipped (missing values)
              2 rows skipped for a missing x (first: \(path):3)
            """)
    }

    func testUnknownLabelValueWithDeclaredNegatives() throws {
        let s = try schema(label: ", \"positive_values\": [\"yes\"], \"negative_values\": [\"no\"]")
        let d = try load("user,color,x,click\n7,red,1,yes\n8,red,1,no\n", schema: s)
        XCTAssertEqual(d.labels, [[1, 0]])
        try expectError("user,color,x,click\n7,red,1,maybe\n", schema: s,
                        { DataError(file: $0, line: 2, column: 4, columnName: "click",
                                    problem: .unknownLabelValue(found: "maybe", expected: ["yes", "no"])) },
                        message: "$FILE:2: column 4 (click): expected one of \"yes\", \"no\", found \"maybe\"")
    }

    func testRegressionLabelMustBeFinite() throws {
        let s = try schema(label: ", \"kind\": \"regression\"")
        XCTAssertEqual(try load("user,color,x,click\n7,red,1,3.5\n", schema: s).labels, [[3.5]])
        try expectError("user,color,x,click\n7,red,1,NaN\n", schema: s,
                        { DataError(file: $0, line: 2, column: 4, columnName: "click", problem: .notFinite(found: "NaN")) },
                        message: "$FILE:2: column 4 (click): expected a finite number, found \"NaN\"")
    }

    func testUserMustBeAnInteger() throws {
        try expectError("user,color,x,click\nu7,red,1,1\n",
                        { DataError(file: $0, line: 2, column: 1, columnName: "user", problem: .unparsableInteger(found: "u7")) },
                        message: "$FILE:2: column 1 (user): expected an integer, found \"u7\"")
    }

    func testInvalidDate() throws {
        let s = try DataSchema.decode(Data("""
            {"columns": [{"column": "y", "role": "label"}, {"column": "d", "role": "day", "day_format": "yyyymmdd"},
                         {"column": "d", "role": "sparse"}]}
            """.utf8))
        try expectError("y,d\n1,20220430\n0,20220431\n", schema: s,
                        { DataError(file: $0, line: 3, column: 2, columnName: "d", problem: .invalidDate(found: "20220431")) },
                        message: "$FILE:3: column 2 (d): expected a date YYYYMMDD, found \"20220431\"")
    }

    func testHeaderlessFileErrorsUseColumnNamesFromTheSchema() throws {
        let s = try DataSchema.decode(Data("""
            {"format": {"header": false}, "column_names": ["a", "b"],
             "columns": [{"column": "a", "role": "label"}, {"column": 1, "role": "dense"}]}
            """.utf8))
        try expectError("1,2\n0,x\n", schema: s,
                        { DataError(file: $0, line: 2, column: 2, columnName: "b", problem: .unparsableNumber(found: "x")) },
                        message: "$FILE:2: column 2 (b): expected a number, found \"x\"")
        // Without names, errors give the position only.
        let unnamed = try DataSchema.decode(Data("""
            {"format": {"header": false}, "columns": [{"column": 0, "role": "label"}, {"column": 1, "role": "dense"}]}
            """.utf8))
        try expectError("1,2\n0,x\n", schema: unnamed,
                        { DataError(file: $0, line: 2, column: 2, problem: .unparsableNumber(found: "x")) },
                        message: "$FILE:2: column 2: expected a number, found \"x\"")
    }

    func testNoTrainingRows() throws {
        let s = try DataSchema.decode(Data("""
            {"columns": [{"column": "y", "role": "label"}, {"column": "d", "role": "day"}, {"column": "d", "role": "dense"}],
             "split": {"rule": "by_day", "valid_from": 1, "test_from": 5}}
            """.utf8))
        try expectError("y,d\n1,3\n0,7\n", schema: s, { DataError(file: $0, problem: .noTrainingRows) },
                        message: "$FILE: no row falls into the training split; vocabularies and statistics are built from it")
    }
}
