import Foundation

/// libFuzzer target `csv`: the CSV loader with several schemas, and the
/// frozen-encoding reload (`encoding.json`).
///
/// The first input byte chooses what the rest is (byte % 7):
/// * 0…4: a CSV body read with a shipped schema, `schemas/` in name order
///   (ali-ccp-aitm, ali-ccp-torch-rechub, aliexpress, census-income, kuairand);
/// * 5: a CSV body read with the synthetic schema below (header, quotes,
///   a label, a vocabulary field, a hashed field, a standardized dense
///   feature, a user and a `yyyymmdd` day column);
/// * 6: the bytes of an `encoding.json` (`DatasetEncoding.load(path:)`: the
///   structure check, the strict decoder, `validate`); an encoding that loads
///   is then used to read a small fixed CSV file (`CSVDatasetLoader.load(encoding:…)`, labels
///   ignored), as `ranker predict` does.
///
/// A CSV body is written to a file and read by `CSVDatasetLoader.load` (the
/// streaming reader, the schema binding, vocabularies, statistics, split
/// rules). When it loads, the frozen encoding of the dataset is written with
/// `DatasetEncoding.write`, reloaded with `DatasetEncoding.load`, and the same
/// file is read again with it (`CSVDatasetLoader.load(encoding:…)`, labels required, then
/// ignored), as `ranker eval` and `ranker predict` do. The reader's chunk
/// size is small and depends on the input length (16…271 bytes, instead of
/// 4 MiB), so records straddle chunk boundaries and each execution does not
/// allocate megabytes. Errors are expected and ignored; crashes and sanitizer
/// reports are findings.
@_cdecl("ranker_fuzz_csv")
public func csvFuzzTestOneInput(_ data: UnsafePointer<UInt8>, _ size: Int) -> CInt {
    guard size >= 1 else { return 0 }
    let body = UnsafeRawBufferPointer(start: data + 1, count: size - 1)
    let mode = Int(data[0]) % (CSVFuzz.schemas.count + 1)
    let chunkSize = 16 + size % 256
    if mode == CSVFuzz.schemas.count {
        let url = FuzzSupport.write(body, to: "encoding.json")
        if let encoding = try? DatasetEncoding.load(path: url.path) {
            _ = try? CSVDatasetLoader.load(encoding: encoding, sources: [CSVSource(path: CSVFuzz.fixedCSV.path)],
                                           labels: .ignored, encodingSource: url.path, chunkSize: chunkSize)
        }
        return 0
    }
    let csv = FuzzSupport.write(body, to: "input.csv")
    let sources = [CSVSource(path: csv.path)]
    guard let dataset = try? CSVDatasetLoader.load(schema: CSVFuzz.schemas[mode], sources: sources, chunkSize: chunkSize),
          let encoding = DatasetEncoding(dataset: dataset) else { return 0 }
    let encodingURL = FuzzSupport.directory.appendingPathComponent("frozen-encoding.json")
    guard (try? encoding.write(to: encodingURL)) != nil,
          let reloaded = try? DatasetEncoding.load(path: encodingURL.path) else { return 0 }
    _ = try? CSVDatasetLoader.load(encoding: reloaded, sources: sources, labels: .required,
                                   encodingSource: encodingURL.path, chunkSize: chunkSize)
    _ = try? CSVDatasetLoader.load(encoding: reloaded, sources: sources, labels: .ignored,
                                   encodingSource: encodingURL.path, chunkSize: chunkSize)
    return 0
}

enum CSVFuzz {
    static let syntheticSchemaJSON = """
        {"name": "synthetic",
         "format": {"separator": ",", "header": true, "quote": "\\""},
         "columns": [{"column": "click", "role": "label"},
                     {"column": "item", "role": "sparse", "dimension": 3},
                     {"column": "tag", "role": "sparse", "encoding": "hash", "buckets": 7},
                     {"column": "price", "role": "dense", "transform": "standardize"},
                     {"column": "user", "role": "user"},
                     {"column": "date", "role": "day", "day_format": "yyyymmdd"},
                     {"column": "id", "role": "ignore"}]}
        """

    /// The shipped schemas in name order, then the synthetic one.
    static let schemas: [DataSchema] = {
        let folder = FuzzSupport.repositoryRoot.appendingPathComponent("schemas")
        let names = ["ali-ccp-aitm", "ali-ccp-torch-rechub", "aliexpress", "census-income", "kuairand"]
        do {
            var schemas = try names.map { try DataSchema.load(path: folder.appendingPathComponent("\($0).json").path) }
            schemas.append(try DataSchema.decode(Data(syntheticSchemaJSON.utf8), source: "synthetic"))
            return schemas
        } catch {
            fatalError("cannot load the fuzzing schemas (set RANKER_ROOT to the repository): \(error)")
        }
    }()

    /// A small CSV in the synthetic schema's columns, read with fuzzed encodings.
    static let fixedCSV: URL = FuzzSupport.write(Data("""
        click,item,tag,price,user,date,id
        1,b,red,1.5,u1,20240101,r1
        0,a,blue,3,u2,20240102,r2
        1,q,a,-1,u1,20240103,r3

        """.utf8), to: "fixed.csv")
}
