/// The census-income benchmark (`shared/data/census-income/PROTOCOL.md`):
/// the UCI test file `census-income.test.gz` (99,762 rows, 42 fields, no
/// header), read with the shipped schema `schemas/census-income.json`.
///
/// * split by the 0-based row index `i`: `i % 10` in 0…6 train (69,834
///   rows), 7 valid (9,976), 8–9 test (19,952);
/// * tasks `income` (1 iff the trimmed field 41 is `50000+.`; the only other
///   value, `- 50000.`, is 0 and anything else is an error) and `marital`
///   (1 iff field 7 is `Never married`);
/// * dense: fields 0, 5, 16, 17, 18, 30, 39, `log1p` then standardized with
///   the train mean and population standard deviation;
/// * sparse: the other 32 fields (field 24, the instance weight, is ignored),
///   train vocabularies in first-appearance order, ids 1…V, unseen → 0; the
///   table sizes V + 1 are 10 52 48 18 4 25 16 6 11 3 4 7 9 7 7 52 38 9 11
///   10 11 4 5 6 44 44 44 6 4 4 4 3 (sum 526).
public enum CensusIncome {
    /// File names looked for under `census-income/` in the data roots: the
    /// gzip file as distributed, or its decompressed text.
    public static let fileNames = ["census-income/census-income.test.gz", "census-income/census-income.test"]

    /// The path of the census file in the data roots (see `DataLocation`).
    public static func locate(filePath: String? = nil) throws -> String {
        try DataLocation.locateData(fileNames, filePath: filePath)
    }

    /// Loads census-income with the shipped schema; `path` defaults to the
    /// located file.
    public static func load(path: String? = nil, filePath: String? = nil) throws -> Dataset {
        let schema = try DataLocation.shippedSchema(named: "census-income", filePath: filePath)
        let file = try path ?? locate(filePath: filePath)
        return try CSVDatasetLoader.load(schema: schema, path: file, name: "census-income")
    }
}
