import Foundation
import XCTest
@testable import Ranker

/// One key style: every configuration key and every closed-set value is
/// `snake_case`; a key or value spelt the old way is rejected with its new
/// name and its JSON path; any other wrong value lists the allowed ones.
final class ConfigurationKeyStyleTests: XCTestCase {
    /// The `describe`d decoding error of `json` as `T`.
    func message<T: Decodable>(_ type: T.Type, _ json: String) -> String {
        do {
            _ = try JSONDecoder().decode(T.self, from: Data(json.utf8))
            return "decoded"
        } catch let error as DecodingError {
            return describe(error)
        } catch {
            return "\(error)"
        }
    }

    let run = #"{"data": {"source": "synthetic"}, "model": {"model": "mmoe"}, "training": {"batchSize": 64}}"#

    func testSnakeCase() {
        XCTAssertEqual(StrictDecoding.snakeCase("batchSize"), "batch_size")
        XCTAssertEqual(StrictDecoding.snakeCase("last-shared-layer"), "last_shared_layer")
        XCTAssertEqual(StrictDecoding.snakeCase("divergenceAUC"), "divergence_auc")
        XCTAssertEqual(StrictDecoding.snakeCase("log1pStandardize"), "log1p_standardize")
        XCTAssertEqual(StrictDecoding.snakeCase("window_days"), "window_days")
    }

    func testOldKeyNamesItsNewSpellingAndPath() {
        XCTAssertEqual(message(RunConfiguration.self, run),
                       #"training.batchSize: unknown key "batchSize" in training: renamed to "batch_size""#)
        XCTAssertEqual(message(RunConfiguration.self, #"{"data": {"source": "synthetic", "embeddingDimension": 4}, "model": {"model": "mmoe"}}"#),
                       #"data.embeddingDimension: unknown key "embeddingDimension" in data: renamed to "embedding_dimension""#)
        XCTAssertEqual(message(RunConfiguration.self, #"{"data": {"source": "synthetic"}, "model": {"model": "mmoe", "expert-hidden": [4]}}"#),
                       #"model.expert-hidden: unknown key "expert-hidden" in model: renamed to "expert_hidden""#)
        XCTAssertEqual(message(RunConfiguration.self, #"{"data": {"source": "synthetic"}, "model": {"model": "mmoe"}, "stability": {"divergenceAUC": 0.5}}"#),
                       #"stability.divergenceAUC: unknown key "divergenceAUC" in stability: renamed to "divergence_auc""#)
        let schema = DataTestSupport.schemaError {
            _ = try DataSchema.decode(Data(#"{"columnNames": ["a"], "columns": []}"#.utf8), source: "s.json")
        }
        XCTAssertEqual(schema, SchemaError(source: "s.json", path: "columnNames",
                                           problem: .renamedKey("columnNames", to: "column_names")))
        XCTAssertEqual(schema?.description, #"s.json: columnNames: unknown key "columnNames": renamed to "column_names""#)
    }

    func testUnknownKeyListsTheKnownOnes() {
        XCTAssertTrue(message(ModelConfiguration.self, #"{"model": "mmoe", "expert": 4}"#)
            .hasPrefix(#"expert: unknown key "expert" in model; known: batch_norm, bottom_hidden, dense_features, dropout"#))
        XCTAssertTrue(message(ModelConfiguration.self, #"{"model": "mmoe", "tasks": [{"name": "a", "type": "binary"}]}"#)
            .hasPrefix(#"tasks[0].type: unknown key "type" in task; known: kind, name"#))
        XCTAssertEqual(message(DataConfiguration.self, #"{"source": "csv", "schema": "s.json", "files": [{"path": "a.csv", "prt": "train"}]}"#),
                       #"files[0].prt: unknown key "prt" in files[]; known: part, path"#)
    }

    func testEnumValuesAreCheckedAgainstTheirClosedSet() {
        XCTAssertEqual(message(ModelConfiguration.self, #"{"model": "sharedBottom"}"#),
                       #"model: "sharedBottom" is renamed to "shared_bottom""#)
        XCTAssertEqual(message(ModelConfiguration.self, #"{"model": "shared-bottom"}"#),
                       #"model: "shared-bottom" is renamed to "shared_bottom""#)
        XCTAssertEqual(message(TrainingSettings.self, #"{"mode": "daily"}"#),
                       #"mode: "daily" is not one of epochs, sequential"#)
        XCTAssertEqual(message(TrainingSettings.self, #"{"learning_rate_schedule": {"kind": "cosine"}}"#),
                       #"learning_rate_schedule.kind: "cosine" is not one of constant, warmup, linear_warmup"#)
        XCTAssertEqual(message(OutputSettings.self, #"{"progress": "quiet"}"#),
                       #"progress: "quiet" is not one of auto, bar, lines, none, silent"#)
        XCTAssertEqual(message(ColumnSpec.self, #"{"column": "x", "role": "dense", "transform": "log1pStandardize"}"#),
                       #"transform: "log1pStandardize" is renamed to "log1p_standardize""#)
        XCTAssertEqual(try JSONDecoder().decode(TrainingSettings.self, from: Data(#"{"learning_rate_schedule": {"kind": "linear_warmup", "warmup_steps": 3}}"#.utf8)).learningRateSchedule,
                       .linearWarmup(steps: 3))
    }

    /// Every key of the core's configuration types and every closed-set value is `snake_case`.
    func testEveryKeyAndValueIsSnakeCase() {
        func check<Keys: CodingKey & CaseIterable>(_ keys: Keys.Type) {
            for key in Keys.allCases {
                XCTAssertEqual(StrictDecoding.snakeCase(key.stringValue), key.stringValue, "\(Keys.self)")
            }
        }
        check(RunConfiguration.CodingKeys.self)
        check(DataConfiguration.CodingKeys.self)
        check(LearningRateSchedule.CodingKeys.self)
        check(TrainingSettings.CodingKeys.self)
        check(StabilitySettings.CodingKeys.self)
        check(OutputSettings.CodingKeys.self)
        check(ModelConfiguration.CodingKeys.self)
        check(TaskSpec.CodingKeys.self)
        check(DataSchema.CodingKeys.self)
        check(ColumnSpec.CodingKeys.self)
        check(CSVFormat.CodingKeys.self)
        check(SplitRule.CodingKeys.self)
        check(SyntheticClickLogConfig.CodingKeys.self)
        func values<E: ConfigurationEnum>(_: E.Type) {
            for value in E.allCases {
                XCTAssertEqual(StrictDecoding.snakeCase(value.rawValue), value.rawValue, "\(E.self)")
            }
        }
        values(DataConfiguration.Source.self)
        values(LearningRateSchedule.Kind.self)
        values(TrainingSettings.Mode.self)
        values(StabilityPolicy.self)
        values(OutputSettings.Progress.self)
        values(ModelKind.self)
        values(CSVFormat.Trim.self)
        values(CSVFormat.BlankLines.self)
        values(DataSchema.UnlistedColumns.self)
        values(ColumnRole.self)
        values(TaskKind.self)
        values(DenseTransform.self)
        values(SparseEncoding.self)
        values(UserFormat.self)
        values(DayFormat.self)
        values(MissingPolicy.self)
        values(DatasetPart.self)
    }
}
