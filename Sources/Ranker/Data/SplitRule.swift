/// The three parts of a dataset.
public enum DatasetPart: String, ConfigurationEnum {
    case train, valid, test
}

/// How the rows of one file are divided into train, valid and test (the
/// schema's `split` object). Vocabularies and dense statistics always come
/// from the train rows only.
///
/// JSON (key `rule` picks the case):
///
/// * `{"rule": "all_train"}` — every row is a training row (the default;
///   use it when train/valid/test come as separate files).
/// * `{"rule": "row_modulo", "modulus": 10, "train": [0,…,6], "valid": [7], "test": [8, 9]}` —
///   by `i mod modulus` of the 0-based data row index `i` in file order
///   (skipped rows keep their index; blank lines are not data rows). Every
///   residue must belong to exactly one part.
/// * `{"rule": "random", "valid_fraction": 0.1, "test_fraction": 0.1, "seed": 1}` — one
///   uniform draw `u` per data row from `RandomGenerator(seed:)`:
///   `u < valid_fraction` → valid, `< valid + test` → test, else train.
/// * `{"rule": "by_day", "valid_from": 20220506, "test_from": 20220507}` — by the day
///   column, values written as in the file: day < valid_from → train,
///   < test_from → valid, else test.
public enum SplitRule: Codable, Equatable, Sendable {
    case allTrain
    case rowModulo(modulus: Int, train: [Int], valid: [Int], test: [Int])
    case random(validFraction: Double, testFraction: Double, seed: UInt64)
    case byDay(validFrom: Int64, testFrom: Int64)

    enum CodingKeys: String, CodingKey, CaseIterable {
        case rule, modulus, train, valid, test
        case validFraction = "valid_fraction"
        case testFraction = "test_fraction"
        case seed
        case validFrom = "valid_from"
        case testFrom = "test_from"
    }

    public init(from decoder: Decoder) throws {
        let c = try schemaContainer(decoder, CodingKeys.self)
        let rule = try c.decode(String.self, forKey: .rule)
        let allowed: Set<CodingKeys>
        switch rule {
        case "all_train":
            self = .allTrain
            allowed = [.rule]
        case "row_modulo":
            self = .rowModulo(modulus: try c.decode(Int.self, forKey: .modulus),
                              train: try c.decode([Int].self, forKey: .train),
                              valid: try c.decodeIfPresent([Int].self, forKey: .valid) ?? [],
                              test: try c.decodeIfPresent([Int].self, forKey: .test) ?? [])
            allowed = [.rule, .modulus, .train, .valid, .test]
        case "random":
            self = .random(validFraction: try c.decode(Double.self, forKey: .validFraction),
                           testFraction: try c.decode(Double.self, forKey: .testFraction),
                           seed: try c.decodeIfPresent(UInt64.self, forKey: .seed) ?? 1)
            allowed = [.rule, .validFraction, .testFraction, .seed]
        case "by_day":
            self = .byDay(validFrom: try c.decode(Int64.self, forKey: .validFrom),
                          testFrom: try c.decode(Int64.self, forKey: .testFrom))
            allowed = [.rule, .validFrom, .testFrom]
        default:
            throw invalidValue(decoder, CodingKeys.rule,
                               "unknown split rule \"\(rule)\" (known: all_train, row_modulo, random, by_day)")
        }
        for key in c.allKeys where !allowed.contains(key) {
            throw SchemaError(source: schemaSourcePlaceholder, path: StrictDecoding.pathString(decoder.codingPath + [key]),
                              problem: .keyNotApplicable(key: key.rawValue, reason: "not a key of rule \"\(rule)\""))
        }
    }

    public func encode(to encoder: Encoder) throws {
        var c = encoder.container(keyedBy: CodingKeys.self)
        switch self {
        case .allTrain:
            try c.encode("all_train", forKey: .rule)
        case let .rowModulo(modulus, train, valid, test):
            try c.encode("row_modulo", forKey: .rule)
            try c.encode(modulus, forKey: .modulus)
            try c.encode(train, forKey: .train)
            try c.encode(valid, forKey: .valid)
            try c.encode(test, forKey: .test)
        case let .random(validFraction, testFraction, seed):
            try c.encode("random", forKey: .rule)
            try c.encode(validFraction, forKey: .validFraction)
            try c.encode(testFraction, forKey: .testFraction)
            try c.encode(seed, forKey: .seed)
        case let .byDay(validFrom, testFrom):
            try c.encode("by_day", forKey: .rule)
            try c.encode(validFrom, forKey: .validFrom)
            try c.encode(testFrom, forKey: .testFrom)
        }
    }

    /// A description of why the rule is unusable, or nil.
    func problem() -> String? {
        switch self {
        case .allTrain, .byDay:
            if case let .byDay(validFrom, testFrom) = self, validFrom > testFrom {
                return "valid_from (\(validFrom)) must not exceed test_from (\(testFrom))"
            }
            return nil
        case let .rowModulo(modulus, train, valid, test):
            guard modulus >= 1 else { return "modulus must be at least 1, got \(modulus)" }
            guard !train.isEmpty else { return "train needs at least one residue" }
            var owner = [Int](repeating: 0, count: modulus)
            for (part, residues) in [train, valid, test].enumerated() {
                for r in residues {
                    guard r >= 0 && r < modulus else { return "residue \(r) is outside 0..<\(modulus)" }
                    guard owner[r] == 0 else { return "residue \(r) is in more than one part" }
                    owner[r] = part + 1
                }
            }
            if let missing = owner.firstIndex(of: 0) { return "residue \(missing) belongs to no part" }
            return nil
        case let .random(validFraction, testFraction, _):
            guard validFraction >= 0, testFraction >= 0, validFraction + testFraction < 1 else {
                return "fractions must be non-negative and sum to less than 1"
            }
            return nil
        }
    }
}
