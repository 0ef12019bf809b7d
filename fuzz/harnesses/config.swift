import Foundation

/// libFuzzer target `config`: the run-configuration decoder.
///
/// The input is the bytes of a run configuration file (`ranker train --config`).
/// They go through `decodeConfiguration(RunConfiguration.self, …)` — the
/// structure check (syntax, duplicate keys), the strict decoder of every section
/// — with `RunConfiguration.validate()` as its validation, exactly as
/// `RunConfiguration.load(path:)` does after reading the file. A decoded
/// configuration is then re-encoded (`encodedJSON()`) and decoded again; the
/// round trip must give an equal value (a failure there is a bug, reported by
/// trapping). Errors are expected and ignored: only crashes, sanitizer reports,
/// timeouts and the round-trip check count as findings.
@_cdecl("ranker_fuzz_config")
public func configFuzzTestOneInput(_ data: UnsafePointer<UInt8>, _ size: Int) -> CInt {
    let bytes = Data(bytes: data, count: size)
    guard let configuration = try? decodeConfiguration(RunConfiguration.self, data: bytes, file: "fuzz.json",
                                                        validate: { try $0.validate() }) else { return 0 }
    let json = configuration.encodedJSON()
    let again = try? decodeConfiguration(RunConfiguration.self, data: Data(json.utf8), file: "fuzz.json")
    if again != configuration {
        fatalError("run configuration round trip changed the value:\n\(json)")
    }
    return 0
}
