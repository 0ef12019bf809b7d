import Foundation

/// `--ranks N` on one machine: a command re-runs itself, the same command
/// line without `--ranks`, under `mpirun -np N`, with the flags a container
/// needs: root allowed, more ranks than cores allowed, no binding of ranks to
/// cores (BLAS threads stay free). Used by `ranker train --ranks N` and the
/// `stability` example's `--ranks N`.
///
/// The shared-memory transport keeps Open MPI's default single-copy mechanism
/// (cross-memory attach, `process_vm_readv`): the 31 MB dense allreduce of W3
/// took 59 ms with it against 1.6–3.9 s with `btl_vader_single_copy_mechanism
/// none` (BENCHMARKS.md, "Data-parallel: the shared-memory single copy"). Where
/// a container forbids `process_vm_readv` (Docker without `CAP_SYS_PTRACE`),
/// `OMPI_MCA_btl_vader_single_copy_mechanism=none` in the environment turns it
/// off; no flag here overrides that variable.
public enum MPIRelaunch {
    /// `--ranks N` could not start `mpirun`.
    public struct LaunchError: Error, CustomStringConvertible, LocalizedError {
        public let description: String
        public var errorDescription: String? { description }
    }

    /// Whether a process asked for `ranks` processes must start `mpirun`
    /// (more than one rank, and not already started by mpirun).
    public static func isNeeded(ranks: Int?) -> Bool {
        (ranks ?? 1) > 1 && !Communicator.launchedByMPIRun
    }

    /// The arguments given to `mpirun`.
    public static func mpirunArguments(ranks: Int, executable: String, arguments: [String]) -> [String] {
        ["--allow-run-as-root", "--oversubscribe", "--bind-to", "none", "-np", "\(ranks)", executable] + arguments
    }

    /// `arguments` without `--ranks N` / `--ranks=N`.
    public static func removingRanks(_ arguments: [String]) -> [String] {
        var result: [String] = []
        var skipNext = false
        for a in arguments {
            if skipNext { skipNext = false; continue }
            if a == "--ranks" { skipNext = true; continue }
            if a.hasPrefix("--ranks=") { continue }
            result.append(a)
        }
        return result
    }

    /// The path of `mpirun` on the PATH.
    ///
    /// - Throws: `LaunchError` naming `--ranks ranks` when there is none.
    public static func mpirun(forRanks ranks: Int) throws -> String {
        guard let path = findInPath("mpirun") else {
            throw LaunchError(description: "--ranks \(ranks) needs mpirun (Open MPI) on the PATH; `make deps` installs it")
        }
        return path
    }

    /// Runs this executable's command line (without `--ranks`) under
    /// `mpirun -np ranks` and exits with mpirun's status.
    ///
    /// - Throws: `LaunchError` when mpirun is not on the PATH; `Process` errors.
    public static func run(ranks: Int) throws -> Never {
        let mpirun = try mpirun(forRanks: ranks)
        let executable = (try? FileManager.default.destinationOfSymbolicLink(atPath: "/proc/self/exe"))
            ?? CommandLine.arguments[0]
        let process = Process()
        process.executableURL = URL(fileURLWithPath: mpirun)
        process.arguments = mpirunArguments(ranks: ranks, executable: executable,
                                            arguments: removingRanks(Array(CommandLine.arguments.dropFirst())))
        try process.run()
        process.waitUntilExit()
        exit(process.terminationStatus)
    }

    /// The first executable `name` in the directories of `PATH`.
    public static func findInPath(_ name: String) -> String? {
        for directory in (ProcessInfo.processInfo.environment["PATH"] ?? "/usr/bin:/bin").split(separator: ":") {
            let path = "\(directory)/\(name)"
            if FileManager.default.isExecutableFile(atPath: path) { return path }
        }
        return nil
    }
}
