/// Turns one parsed JSON object into a `TelemetryLogRecord`, checking every
/// field it uses; a wrong field throws `TelemetryLogError.malformedLine`
/// naming the field and what was expected.
///
/// Number rules: JSON `null` inside a number array or as a number field is
/// NaN (the writer's encoding of non-finite values); an integer field accepts
/// an integral JSON number (`17` or `17.0`). An optional field that is absent
/// or `null` as a whole is `nil`.
struct TelemetryLogRecordDecoder {
    let fields: [String: JSONValue]
    let path: String
    let line: Int
    let excerpt: String

    static func decode(_ fields: [String: JSONValue], path: String, line: Int, excerpt: String) throws -> TelemetryLogRecord {
        let decoder = TelemetryLogRecordDecoder(fields: fields, path: path, line: line, excerpt: excerpt)
        guard let typeValue = fields["type"] else { throw decoder.error("no \"type\" field") }
        guard case .string(let type) = typeValue else { throw decoder.error("field \"type\": expected a string") }
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
        switch fields["clip_factors"] {
        case nil, .null?: break
        case .object(let object)?:
            var factors: [String: Double] = [:]
            factors.reserveCapacity(object.count)
            for (name, value) in object {
                guard let number = Self.number(value) else {
                    throw error("field \"clip_factors\" entry \"\(name)\": expected a number or null")
                }
                factors[name] = number
            }
            clipFactors = factors
        default:
            throw error("field \"clip_factors\": expected an object of tensor name → number")
        }
        var cosines: [[Double]]?
        switch fields["cosines"] {
        case nil, .null?: break
        case .array(let rows)?:
            cosines = try rows.map { row in
                guard let values = Self.numberArray(row) else { throw error("field \"cosines\": expected an array of arrays of numbers") }
                return values
            }
        default:
            throw error("field \"cosines\": expected an array of arrays of numbers")
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
        var prefix = ""
        if case .string(let type)? = fields["type"] { prefix = "\(type) line: " }
        return .malformedLine(path: path, line: line, reason: prefix + reason, excerpt: excerpt)
    }

    /// A present, non-null value, or nil.
    private func value(_ key: String) -> JSONValue? {
        guard let value = fields[key], value != .null else { return nil }
        return value
    }

    func string(_ key: String) throws -> String? {
        guard let raw = value(key) else { return nil }
        guard case .string(let text) = raw else { throw error("field \"\(key)\": expected a string") }
        return text
    }

    func stringArray(_ key: String) throws -> [String]? {
        guard let raw = value(key) else { return nil }
        guard case .array(let elements) = raw else { throw error("field \"\(key)\": expected an array of strings") }
        return try elements.map { element in
            guard case .string(let text) = element else { throw error("field \"\(key)\": expected an array of strings") }
            return text
        }
    }

    /// A number field; `null` is NaN, absent is nil.
    func double(_ key: String) throws -> Double? {
        guard let raw = fields[key] else { return nil }
        guard let number = Self.number(raw) else { throw error("field \"\(key)\": expected a number or null") }
        return number
    }

    func int(_ key: String) throws -> Int? {
        guard let raw = value(key) else { return nil }
        guard case .number(let number) = raw, let integer = Int(exactly: number) else {
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
        guard case .object(let tasks) = raw else { throw error("field \"\(key)\": expected an object of task → metrics") }
        var table: [String: [String: Double]] = [:]
        for (task, metricsValue) in tasks {
            guard case .object(let metrics) = metricsValue else {
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

    /// A JSON number as Double, `null` as NaN; anything else nil.
    static func number(_ raw: JSONValue) -> Double? {
        switch raw {
        case .number(let value): return value
        case .null: return .nan
        default: return nil
        }
    }

    static func numberArray(_ raw: JSONValue) -> [Double]? {
        guard case .array(let elements) = raw else { return nil }
        var values: [Double] = []
        values.reserveCapacity(elements.count)
        for element in elements {
            guard let value = number(element) else { return nil }
            values.append(value)
        }
        return values
    }

    /// A scalar (string, number, bool, null) as display text; nil for arrays and objects.
    static func scalarText(_ raw: JSONValue) -> String? {
        switch raw {
        case .null: return "null"
        case .bool(let flag): return flag ? "true" : "false"
        case .number(let value): return value == value.rounded() && abs(value) < 1e15 ? String(Int(value)) : String(value)
        case .string(let text): return text
        case .array, .object: return nil
        }
    }
}
