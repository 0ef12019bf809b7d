import Foundation
import XCTest
@testable import Ranker

/// Schema decoding and validation: each mistake gives a `SchemaError` with
/// the schema's name, the key path and the problem.
final class DataSchemaTests: XCTestCase {
    func decode(_ json: String) throws -> DataSchema {
        try DataSchema.decode(Data(json.utf8), source: "s.json")
    }

    func expect(_ json: String, path: String, _ problem: SchemaError.Problem, message: String? = nil,
                file: StaticString = #filePath, line: UInt = #line) {
        let error = DataTestSupport.schemaError({ _ = try self.decode(json) }, file: file, line: line)
        XCTAssertEqual(error, SchemaError(source: "s.json", path: path, problem: problem), file: file, line: line)
        if let message { XCTAssertEqual(error?.description, message, file: file, line: line) }
    }

    let label = #"{"column": "y", "role": "label"}"#
    let feature = #"{"column": "x", "role": "dense"}"#

    func testMinimalSchemaHasDocumentedDefaults() throws {
        let s = try decode(#"{"columns": [\#(label), \#(feature)]}"#)
        XCTAssertEqual(s.format, CSVFormat(separator: ",", header: true, quote: "\"", trim: .none, missingMarkers: [""],
                                           blankLines: .error))
        XCTAssertEqual(s.defaultDimension, 8)
        XCTAssertEqual(s.unlistedColumns, .error)
        XCTAssertEqual(s.split, .allTrain)
        XCTAssertEqual(s.columns, [ColumnSpec(.name("y"), role: .label), ColumnSpec(.name("x"), role: .dense)])
    }

    func testEncodeDecodeRoundTrip() throws {
        let s = try decode("""
            {"name": "n", "format": {"separator": "\\t", "header": false, "trim": "both", "missing_markers": ["?"]},
             "column_names": ["a", "b", "c", "d"], "default_dimension": 4, "unlisted_columns": "ignore",
             "columns": [{"column": 0, "role": "label", "name": "t", "positive_values": ["p"], "negative_values": ["n"]},
                         {"columns": [1, "c"], "role": "sparse", "encoding": "hash", "buckets": 7, "dimension": 3},
                         {"column": "d", "role": "dense", "transform": "log1p_standardize", "missing": "default", "default": "0"},
                         {"column": "d", "role": "day", "day_format": "integer"}],
             "split": {"rule": "random", "valid_fraction": 0.25, "test_fraction": 0.25, "seed": 3}}
            """)
        let again = try DataSchema.decode(JSONEncoder().encode(s))
        XCTAssertEqual(again, s)
        XCTAssertEqual(s.columns[1].columns, [.index(1), .name("c")])
        XCTAssertEqual(s.split, .random(validFraction: 0.25, testFraction: 0.25, seed: 3))
    }

    func testUnknownKeyIsAnError() {
        expect(#"{"columns": [\#(label), {"column": "x", "role": "dense", "tranform": "log1p"}]}"#,
               path: "columns[1].tranform",
               .unknownKey("tranform", allowed: ColumnSpec.CodingKeys.allCases.map(\.rawValue)))
        expect(#"{"colums": []}"#, path: "colums", .unknownKey("colums", allowed: DataSchema.CodingKeys.allCases.map(\.rawValue)))
        expect(#"{"format": {"sep": ";"}, "columns": [\#(label), \#(feature)]}"#, path: "format.sep",
               .unknownKey("sep", allowed: CSVFormat.CodingKeys.allCases.map(\.rawValue)))
    }

    func testInvalidEnumValueNamesItsPath() throws {
        let error = DataTestSupport.schemaError { _ = try self.decode(#"{"columns": [{"column": "y", "role": "lable"}]}"#) }
        XCTAssertEqual(error?.path, "columns[0].role")
        guard case .invalidJSON = error?.problem else { return XCTFail("expected invalidJSON, got \(String(describing: error))") }
    }

    func testMissingColumnKey() {
        expect(#"{"columns": [{"role": "label"}, \#(feature)]}"#, path: "columns[0]", .missingKey("column"))
    }

    func testNoLabel() {
        expect(#"{"columns": [\#(feature)]}"#, path: "columns", .noLabel,
               message: "s.json: columns: no column has role \"label\"; a dataset needs at least one task")
    }

    func testNoFeatures() {
        expect(#"{"columns": [\#(label)]}"#, path: "columns", .noFeatures)
    }

    func testDuplicateRoles() {
        expect(#"{"columns": [\#(label), \#(feature), {"column": "x", "role": "sparse"}]}"#, path: "columns[2]",
               .duplicateColumn("\"x\""), message: "s.json: columns[2]: column \"x\" is listed with more than one role")
        expect(#"{"columns": [\#(label), \#(feature), {"column": "u", "role": "user"}, {"column": "v", "role": "user"}]}"#,
               path: "columns", .duplicateRole("user"))
        expect(#"{"columns": [\#(label), \#(feature), {"column": "u", "role": "day"}, {"column": "v", "role": "day"}]}"#,
               path: "columns", .duplicateRole("day"))
        expect(#"{"columns": [\#(label), {"column": "y", "role": "dense"}]}"#, path: "columns[1]", .duplicateColumn("\"y\""))
    }

    func testDuplicateFoundWhenNameAndIndexMeet() throws {
        let s = try decode(#"{"columns": [\#(label), \#(feature), {"column": 1, "role": "sparse"}]}"#)
        let path = DataTestSupport.temporaryFile("y,x\n1,2\n")
        let error = DataTestSupport.schemaError { _ = try CSVDatasetLoader.load(schema: s, path: path) }
        XCTAssertEqual(error, SchemaError(source: "<schema>", path: "columns[2]", problem: .duplicateColumn("\"x\" (index 1)")))
    }

    func testDuplicateOutputNames() throws {
        let s = try decode(#"{"columns": [\#(label), \#(feature), {"column": "z", "role": "sparse", "name": "x"}]}"#)
        let path = DataTestSupport.temporaryFile("y,x,z\n1,2,3\n")
        let error = DataTestSupport.schemaError { _ = try CSVDatasetLoader.load(schema: s, path: path) }
        XCTAssertEqual(error, SchemaError(source: "<schema>", path: "columns[2]", problem: .duplicateName("x")))
    }

    func testKeysThatDoNotApply() {
        expect(#"{"columns": [\#(label), {"column": "x", "role": "sparse", "transform": "log1p"}]}"#, path: "columns[1]",
               .keyNotApplicable(key: "transform", reason: "only dense features are transformed"))
        expect(#"{"columns": [{"column": "y", "role": "label", "kind": "regression", "positive_values": ["a"]}, \#(feature)]}"#,
               path: "columns[0]", .keyNotApplicable(key: "positive_values", reason: "only binary labels map values"))
        expect(#"{"columns": [\#(label), {"column": "x", "role": "sparse", "buckets": 5}]}"#, path: "columns[1]",
               .keyNotApplicable(key: "buckets", reason: "only \"encoding\": \"hash\" has buckets"))
        expect(#"{"columns": [\#(label), \#(feature), {"column": "z", "role": "ignore", "missing": "skip_row"}]}"#,
               path: "columns[2]", .keyNotApplicable(key: "missing", reason: "ignored columns are not read"))
        expect(#"{"columns": [\#(label), {"column": "x", "role": "dense", "default": "1"}]}"#, path: "columns[1]",
               .keyNotApplicable(key: "default", reason: "\"default\" needs \"missing\": \"default\""))
        expect(#"{"columns": [\#(label), {"columns": ["a", "b"], "role": "dense", "name": "x"}]}"#, path: "columns[1]",
               .keyNotApplicable(key: "name", reason: "\"name\" needs a single \"column\""))
    }

    func testInvalidSettings() {
        expect(#"{"columns": [\#(label), {"column": "x", "role": "sparse", "encoding": "hash"}]}"#, path: "columns[1]",
               .missingKey("buckets"))
        expect(#"{"columns": [\#(label), {"column": "x", "role": "sparse", "dimension": 0}]}"#, path: "columns[1].dimension",
               .invalidValue("dimension must be at least 1, got 0"))
        expect(#"{"columns": [\#(label), {"column": "x", "role": "dense", "missing": "default"}]}"#, path: "columns[1]",
               .missingKey("default"))
        expect(#"{"format": {"separator": "::"}, "columns": [\#(label), \#(feature)]}"#, path: "format",
               .invalidValue("separator must be one ASCII character, got \"::\""))
        expect(#"{"format": {"separator": " ", "trim": "both"}, "columns": [\#(label), \#(feature)]}"#, path: "format",
               .invalidValue("a space separator cannot be combined with trimming spaces"))
        expect(#"{"column_names": ["a"], "columns": [\#(label), \#(feature)]}"#, path: "column_names",
               .keyNotApplicable(key: "column_names", reason: "the file has a header; names come from it"))
        expect(#"{"columns": [{"column": "y", "role": "label", "positive_values": ["a"], "negative_values": ["a"]}, \#(feature)]}"#,
               path: "columns[0]", .invalidValue("\"a\" is both a positive and a negative value"))
        expect(#"{"columns": [\#(label), {"column": -1, "role": "dense"}]}"#, path: "columns[1].column",
               .invalidValue("a column index must be 0 or more, got -1"))
    }

    func testInvalidSplitRules() {
        expect(#"{"columns": [\#(label), \#(feature)], "split": {"rule": "row_modulo", "modulus": 4, "train": [0, 1], "valid": [1], "test": [3]}}"#,
               path: "split", .invalidValue("residue 1 is in more than one part"))
        expect(#"{"columns": [\#(label), \#(feature)], "split": {"rule": "row_modulo", "modulus": 4, "train": [0, 1], "test": [3]}}"#,
               path: "split", .invalidValue("residue 2 belongs to no part"))
        expect(#"{"columns": [\#(label), \#(feature)], "split": {"rule": "random", "valid_fraction": 0.6, "test_fraction": 0.5}}"#,
               path: "split", .invalidValue("fractions must be non-negative and sum to less than 1"))
        expect(#"{"columns": [\#(label), \#(feature)], "split": {"rule": "by_day", "valid_from": 1, "test_from": 2}}"#,
               path: "split", .invalidValue("rule \"by_day\" needs a column with role \"day\""))
        expect(#"{"columns": [\#(label), \#(feature)], "split": {"rule": "all_train", "modulus": 3}}"#,
               path: "split.modulus", .keyNotApplicable(key: "modulus", reason: "not a key of rule \"all_train\""))
        expect(#"{"columns": [\#(label), \#(feature)], "split": {"rule": "halves"}}"#, path: "split.rule",
               .invalidValue("unknown split rule \"halves\" (known: all_train, row_modulo, random, by_day)"))
    }

    func testInvalidDefaultValueIsFoundWhenBinding() throws {
        let s = try decode(#"{"columns": [\#(label), {"column": "x", "role": "dense", "missing": "default", "default": "n/a"}]}"#)
        let path = DataTestSupport.temporaryFile("y,x\n1,2\n")
        let error = DataTestSupport.schemaError { _ = try CSVDatasetLoader.load(schema: s, path: path) }
        XCTAssertEqual(error, SchemaError(source: "<schema>", path: "columns[1].default",
                                          problem: .invalidValue("\"n/a\" is not a valid value for this dense column")))
    }

    func testUnreadableSchemaFile() {
        let error = DataTestSupport.schemaError { _ = try DataSchema.load(path: "/nonexistent/schema.json") }
        XCTAssertEqual(error?.source, "/nonexistent/schema.json")
    }
}
