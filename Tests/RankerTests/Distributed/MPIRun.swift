import Foundation
import XCTest
import RankerTestSupport

/// `mpirun` launching the built `ranker` (`.build/release/ranker`, which
/// `make test` builds) on `N` ranks, with the flags a root container needs.
/// Without mpirun the calling test is skipped, except under `CI=true`, where
/// it fails (`make deps` installs Open MPI).
struct MPIRun {
    static var path: String? {
        for directory in (ProcessInfo.processInfo.environment["PATH"] ?? "/usr/bin:/bin").split(separator: ":") {
            let candidate = "\(directory)/mpirun"
            if FileManager.default.isExecutableFile(atPath: candidate) { return candidate }
        }
        return nil
    }

    /// The mpirun binary, or a skip (a failure under CI=true).
    static func require() throws -> String {
        if let path { return path }
        if ProcessInfo.processInfo.environment["CI"] == "true" {
            XCTFail("mpirun is not installed (CI=true: the MPI tests must run; `make deps` installs openmpi-bin)")
        }
        throw XCTSkip("mpirun is not installed; `make deps` installs openmpi-bin")
    }

    /// Runs `ranker arguments…` on `ranks` processes.
    static func ranker(ranks: Int, _ arguments: [String], temporary: URL) throws -> BuiltExecutable.Outcome {
        let mpirun = try require()
        let ranker = BuiltExecutable(name: "ranker")
        guard FileManager.default.isExecutableFile(atPath: ranker.url.path) else {
            throw XCTSkip("\(ranker.url.path) is not built; `make test` builds it")
        }
        let launcher = BuiltExecutable(name: "ranker", explicitURL: URL(fileURLWithPath: mpirun))
        return try launcher.run(launchArguments(ranks: ranks) + [ranker.url.path] + arguments, temporary: temporary)
    }

    /// `mpirun`'s options before the program, as `ranker train --ranks N` passes them
    /// (root allowed, more ranks than cores, no binding; Open MPI's default shared-memory copy).
    static func launchArguments(ranks: Int) -> [String] {
        ["--allow-run-as-root", "--oversubscribe", "--bind-to", "none", "-np", "\(ranks)"]
    }
}
