import Foundation

/// Turns one decoded JSON object into a `TelemetryLogRecord`, checking every
/// field it uses; a wrong field throws `TelemetryLogError.malformedLine`
/// naming the field and what was expected.
///
/// Number rules: JSON `null` inside a number array or as a number field is
/// NaN (the writer's encoding of non-finite values); an integer field accepts
/// an integral JSON number (`17` or `17.0`).
struct TelemetryLogRecordDecoder {
    let fields: [String: Any]
    let path: String
    let line: Int
    let excerpt: String

    static func decode(_ fields: [String: Any], path: String, line: Int, excerpt: String) throws -> TelemetryLogRecord {
        let decoder = TelemetryLogRecordDecoder(fields: fields, path: path, line: line, excerpt: excerpt)
        guard let typeValue = fields["type"] else { throw decoder.error("no \"type\" field") }
        guard let type = typeValue as? String else { throw decoder.error("field \"type\": expected a string") }
        switch type {
        case "run": return .run(try decoder.run())
        case "step": return .step(try decoder.step())
        case "eval": return .evaluation(try decoder.evaluation())
        case "event": return .event(try decoder.event())
        case "end": return .end(try decoder.end())
        default: return .unknown(type: type)
        }
    }

    // MARK: records

    func run() throws -> TelemetryLogRecord.Run {
        let known: Set<String> = ["type", "name", "model", "tasks", "combiner", "combiner_kind", "optimizer", "parameters", "started"]
        var other: [(key: String, value: String)] = []
        for key in fields.keys.sorted() where !known.contains(key) {
            if let text = Self.scalarText(fields[key]!) { other.append((key: key, value: text)) }
        }
        return TelemetryLogRecord.Run(
            name: try string("name") ?? "(unnamed run)",
            model: try string("model") ?? "?",
            tasks: try stringArray("tasks") ?? [],
            combiner: try string("combiner") ?? "?",
            combinerKind: try string("combiner_kind") ?? "loss_weights",
            optimizer: try string("optimizer") ?? "?",
            parameters: try stringArray("parameters") ?? [],
            started: try string("started"),
            otherFields: other)
    }

    func step() throws -> TelemetryLogRecord.Step {
        var clipFactors: [String: Double]?
        if let raw = fields["clip_factors"], !(raw is NSNull) {
            guard let object = raw as? [String: Any] else { throw error("field \"clip_factors\": expected an object of tensor name → number") }
            var factors: [String: Double] = [:]
            factors.reserveCapacity(object.count)
            for (name, value) in object {
                guard let number = Self.number(value) else {
                    throw error("field \"clip_factors\" entry \"\(name)\": expected a number or null")
                }
                factors[name] = number
            }
            clipFactors = factors
        }
        var cosines: [[Double]]?
        if let raw = fields["cosines"], !(raw is NSNull) {
            guard let rows = raw as? [Any] else { throw error("field \"cosines\": expected an array of arrays of numbers") }
            cosines = try rows.map { row in
                guard let values = Self.numberArray(row) else { throw error("field \"cosines\": expected an array of arrays of numbers") }
                return values
            }
        }
        return TelemetryLogRecord.Step(
            step: try requiredInt("step"),
            epoch: try int("epoch"),
            day: try int("day"),
            learningRate: try double("lr"),
            losses: try doubleArray("losses") ?? [],
            weights: try doubleArray("weights"),
            gradientNorms: try doubleArray("grad_norms"),
            cosines: cosines,
            conflictingPairs: try int("conflicting_pairs"),
            pseudoInverseFallbacks: try int("pinv_fallbacks"),
            clipFactors: clipFactors,
            samplesPerSecond: try double("samples_per_s"))
    }

    func evaluation() throws -> TelemetryLogRecord.Evaluation {
        TelemetryLogRecord.Evaluation(
            step: try requiredInt("step"),
            epoch: try int("epoch"),
            split: try string("split") ?? "valid",
            metrics: try metricTable("metrics"),
            meanAUC: try double("mean_auc"))
    }

    func event() throws -> TelemetryLogRecord.Event {
        TelemetryLogRecord.Event(
            step: try requiredInt("step"),
            kind: try string("kind") ?? "event",
            task: try string("task"),
            parameter: try string("parameter"),
            value: try double("value"),
            message: try string("message"))
    }

    func end() throws -> TelemetryLogRecord.End {
        TelemetryLogRecord.End(
            step: try int("step"),
            bestStep: try int("best_step"),
            bestMeanAUC: try double("best_mean_auc"),
            stopped: try string("stopped"),
            test: try metricTable("test"))
    }

    // MARK: fields

    func error(_ reason: String) -> TelemetryLogError {
        let type = fields["type"] as? String
        let prefix = type.map { "\($0) line: " } ?? ""
        return .malformedLine(path: path, line: line, reason: prefix + reason, excerpt: excerpt)
    }

    /// A present, non-null value, or nil.
    private func value(_ key: String) -> Any? {
        guard let value = fields[key], !(value is NSNull) else { return nil }
        return value
    }

    func string(_ key: String) throws -> String? {
        guard let raw = value(key) else { return nil }
        guard let text = raw as? String else { throw error("field \"\(key)\": expected a string") }
        return text
    }

    func stringArray(_ key: String) throws -> [String]? {
        guard let raw = value(key) else { return nil }
        guard let array = raw as? [Any], let texts = array as? [String] else {
            throw error("field \"\(key)\": expected an array of strings")
        }
        return texts
    }

    func double(_ key: String) throws -> Double? {
        guard let raw = fields[key] else { return nil }
        guard let number = Self.number(raw) else { throw error("field \"\(key)\": expected a number or null") }
        return number
    }

    func int(_ key: String) throws -> Int? {
        guard let raw = value(key) else { return nil }
        guard let number = Self.number(raw), let integer = Int(exactly: number) else {
            throw error("field \"\(key)\": expected an integer")
        }
        return integer
    }

    func requiredInt(_ key: String) throws -> Int {
        guard fields[key] != nil else { throw error("missing field \"\(key)\"") }
        guard let integer = try int(key) else { throw error("field \"\(key)\": expected an integer, got null") }
        return integer
    }

    func doubleArray(_ key: String) throws -> [Double]? {
        guard let raw = value(key) else { return nil }
        guard let values = Self.numberArray(raw) else { throw error("field \"\(key)\": expected an array of numbers or null") }
        return values
    }

    /// `{"task": {"metric": number, ...}, ...}`; a null metric is NaN.
    func metricTable(_ key: String) throws -> [String: [String: Double]] {
        guard let raw = value(key) else { return [:] }
        guard let tasks = raw as? [String: Any] else { throw error("field \"\(key)\": expected an object of task → metrics") }
        var table: [String: [String: Double]] = [:]
        for (task, metricsValue) in tasks {
            guard let metrics = metricsValue as? [String: Any] else {
                throw error("field \"\(key)\" task \"\(task)\": expected an object of metric → number")
            }
            var row: [String: Double] = [:]
            for (metric, number) in metrics {
                guard let value = Self.number(number) else {
                    throw error("field \"\(key)\" task \"\(task)\" metric \"\(metric)\": expected a number or null")
                }
                row[metric] = value
            }
            table[task] = row
        }
        return table
    }

    /// A JSON number as Double; `null` as NaN; anything else (string, bool, object) nil.
    static func number(_ raw: Any) -> Double? {
        if raw is NSNull { return .nan }
        if raw is Bool, !(raw is NSNumber) { return nil }
        if raw is String { return nil }
        if let value = raw as? Double { return value }
        if let value = raw as? Int { return Double(value) }
        return nil
    }

    static func numberArray(_ raw: Any) -> [Double]? {
        guard let array = raw as? [Any] else { return nil }
        var values: [Double] = []
        values.reserveCapacity(array.count)
        for element in array {
            guard let value = number(element) else { return nil }
            values.append(value)
        }
        return values
    }

    /// A scalar (string, number, bool) as display text; nil for arrays and objects.
    static func scalarText(_ raw: Any) -> String? {
        if raw is NSNull { return "null" }
        if let text = raw as? String { return text }
        if let number = raw as? NSNumber { return number.description }
        return nil
    }
}
