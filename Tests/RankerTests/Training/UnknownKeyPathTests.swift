import Foundation
import XCTest
@testable import Ranker

/// Every object of a run configuration rejects a key it does not define, and
/// the message names the key's JSON path (`model.expert_hiden`,
/// `data.files[0].prt`, `optimizer.clipping.thresold`): the walk below
/// reaches every configuration object type from `RunConfiguration`, with
/// every optimizer kind and every balancing method, so a type added later
/// without strict decoding fails here.
final class UnknownKeyPathTests: XCTestCase {
    /// Run configurations that, together, contain every configuration object
    /// type: each as `encodedJSON()` writes it (every object written out).
    func configurations() throws -> [RunConfiguration] {
        var synthetic = SyntheticClickLogConfig()
        synthetic.rows = 100
        synthetic.historyLength = 2  // writes the history keys
        var base = RunConfiguration(
            name: "walk",
            data: DataConfiguration(source: .synthetic, synthetic: synthetic, embeddingDimension: 4, tasks: ["task_1", "task_2"]),
            model: ModelConfiguration(model: .mmoe, tasks: [TaskSpec(name: "a"), TaskSpec(name: "b")],
                                      sparseFields: [SparseField(name: "f", vocabulary: 3, dimension: 2)], denseFeatures: 1,
                                      sequenceFields: [SequenceField(name: "h", vocabulary: 3, dimension: 2, maxLength: 4,
                                                                     sharesEmbeddingWith: "f", pooling: .attention, target: "f")]))
        base.training.learningRateSchedule = .linearWarmup(steps: 3)
        base.output.directory = "runs/walk"
        var csv = base
        csv.data = DataConfiguration(source: .csv, schema: "schema.json",
                                     files: [DataConfiguration.File(path: "a.csv", part: .train)])
        var all = [base, csv]
        for kind in OptimizerRegistry.names.compactMap(OptimizerKind.init(rawValue:)) {
            var c = base
            c.optimizer = OptimizerConfiguration(kind: kind)
            all.append(c)
        }
        var clipped = base
        clipped.optimizer = .adagrad(clipping: .gradientNorm(threshold: 1, global: false))
        all.append(clipped)
        for family in TaskBalancerFamily.allCases {
            for name in TaskBalancerRegistry.methodNames(family) {
                var c = base
                let method = try TaskBalancerMethodConfiguration(defaultsOf: name, family: family)
                c.balancer = family == .lossWeighting ? TaskBalancerConfiguration(weighting: method)
                                                      : TaskBalancerConfiguration(combination: method)
                all.append(c)
            }
        }
        return all
    }

    /// The paths of every JSON object in `value` (`""` for the top).
    func objectPaths(_ value: Any, path: String = "") -> [String] {
        if let object = value as? [String: Any] {
            return [path] + object.keys.sorted().flatMap { key in
                objectPaths(object[key]!, path: path.isEmpty ? key : "\(path).\(key)")
            }
        }
        if let array = value as? [Any] {
            return array.indices.flatMap { objectPaths(array[$0], path: "\(path)[\($0)]") }
        }
        return []
    }

    /// `json` with `key: 1` added to the object at `path`.
    func inserting(_ key: String, at path: String, into json: Any) -> Any {
        if path.isEmpty, var object = json as? [String: Any] {
            object[key] = 1
            return object
        }
        let head: String
        let rest: String
        if path.hasPrefix("[") {
            let close = path.firstIndex(of: "]")!
            head = String(path[..<path.index(after: close)])
            rest = String(path[path.index(after: close)...]).drop { $0 == "." }.description
        } else {
            let end = path.firstIndex { $0 == "." || $0 == "[" } ?? path.endIndex
            head = String(path[..<end])
            rest = String(path[end...]).drop { $0 == "." }.description
        }
        if head.hasPrefix("["), var array = json as? [Any] {
            let index = Int(head.dropFirst().dropLast())!
            array[index] = inserting(key, at: rest, into: array[index])
            return array
        }
        var object = json as! [String: Any]
        object[head] = inserting(key, at: rest, into: object[head]!)
        return object
    }

    func testEveryObjectRejectsAnUnknownKeyNamingItsPath() throws {
        var checked = Set<String>()
        for configuration in try configurations() {
            let json = try JSONSerialization.jsonObject(with: Data(configuration.encodedJSON().utf8))
            // Each configuration decodes as it is.
            XCTAssertNoThrow(try decodeConfiguration(RunConfiguration.self, data: Data(configuration.encodedJSON().utf8), file: "run.json"))
            for path in objectPaths(json) {
                let key = "zz_not_a_key"
                let text = try JSONSerialization.data(withJSONObject: inserting(key, at: path, into: json))
                let expectedPath = path.isEmpty ? key : "\(path).\(key)"
                do {
                    _ = try decodeConfiguration(RunConfiguration.self, data: text, file: "run.json")
                    XCTFail("\(expectedPath) was accepted")
                } catch let error as RunConfigurationError {
                    XCTAssertTrue(error.description.hasPrefix("run.json: \(expectedPath): "), "\(expectedPath): \(error)")
                    XCTAssertTrue(error.description.contains("unknown"), "\(expectedPath): \(error)")
                }
                checked.insert(path.replacingOccurrences(of: #"\[\d+\]"#, with: "[]", options: .regularExpression))
            }
        }
        // The walk did reach the nested objects (a safeguard on the walk itself).
        for path in ["", "data", "data.synthetic", "data.files[]", "model", "model.tasks[]", "model.sparse_fields[]",
                     "optimizer", "optimizer.clipping", "balancer", "balancer.weighting", "balancer.combination",
                     "training", "training.learning_rate_schedule", "stability", "output"] {
            XCTAssertTrue(checked.contains(path), "the walk never reached \(path)")
        }
    }

    func testTheIssueExamples() {
        func message(_ json: String) -> String {
            do {
                _ = try decodeConfiguration(RunConfiguration.self, data: Data(json.utf8), file: "run.json")
                return "accepted"
            } catch {
                return "\(error)"
            }
        }
        XCTAssertTrue(message(#"{"data": {"source": "synthetic"}, "model": {"model": "mmoe", "expert_hiden": [8]}}"#)
            .hasPrefix(#"run.json: model.expert_hiden: unknown key "expert_hiden" in model; known: "#))
        XCTAssertTrue(message(#"{"data": {"source": "synthetic"}, "model": {"model": "mmoe", "gate_bais": true}}"#)
            .hasPrefix(#"run.json: model.gate_bais: unknown key "gate_bais""#))
        XCTAssertEqual(message(#"{"data": {"source": "csv", "schema": "s.json", "files": [{"path": "t.csv", "prt": "test"}]}, "model": {"model": "mmoe"}}"#),
                       #"run.json: data.files[0].prt: unknown key "prt" in files[]; known: part, path"#)
        XCTAssertEqual(message(#"{"data": {"source": "synthetic"}, "model": {"model": "mmoe", "sparse_fields": [{"name": "f", "vocabulary": 2, "dimension": 2, "dim": 3}]}}"#),
                       #"run.json: model.sparse_fields[0].dim: unknown key "dim" in sparse field; known: dimension, name, vocabulary"#)
        XCTAssertTrue(message(#"{"data": {"source": "synthetic", "synthetic": {"rowz": 5}}, "model": {"model": "mmoe"}}"#)
            .hasPrefix(#"run.json: data.synthetic.rowz: unknown key "rowz""#))
        XCTAssertTrue(message(#"{"data": {"source": "synthetic"}, "model": {"model": "mmoe"}, "optimizer": {"kind": "clippy", "absolut_threshold": 1}}"#)
            .hasPrefix(#"run.json: optimizer.absolut_threshold: "#))
        XCTAssertTrue(message(#"{"data": {"source": "synthetic"}, "model": {"model": "mmoe"}, "optimizer": {"kind": "adagrad", "clipping": {"method": "adaptive", "lambda": 0.1, "threshold": 1}}}"#)
            .hasPrefix(#"run.json: optimizer.clipping.threshold: "#))
    }
}
