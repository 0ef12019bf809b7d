import ArgumentParser
import Foundation
import Ranker
import RankerDistributed

/// The data-parallel flags of `ranker train` (README, "Train on many cores
/// and machines").
///
/// Under `mpirun -np N ranker train …` every rank joins `MPI_COMM_WORLD` and
/// trains its slice of each global batch; `--ranks N` starts that command
/// itself (`MPIRelaunch`).
struct DistributedOptions: ParsableArguments {
    @Option(help: ArgumentHelp("Train on N processes (data parallel, one replica each): re-runs this command under "
                               + "mpirun -np N. Under mpirun, the job's size is used instead.", valueName: "N"))
    var ranks: Int?

    @Option(help: ArgumentHelp("With several ranks, compare checksums of every replica's parameters and optimizer "
                               + "state every K steps (0: never).", valueName: "K"))
    var checkReplicasEvery: Int = 100

    func validate() throws {
        if let n = ranks, n < 1 { throw ValidationError("--ranks must be at least 1, got \(n)") }
        if checkReplicasEvery < 0 { throw ValidationError("--check-replicas-every must be >= 0, got \(checkReplicasEvery)") }
    }

    /// `true` when this process must start `mpirun` instead of training.
    var needsRelaunch: Bool { (ranks ?? 1) > 1 && !Communicator.launchedByMPIRun }

    /// The world communicator when started by mpirun, otherwise `nil` (one process, no MPI).
    func communicator() throws -> Communicator? {
        guard Communicator.launchedByMPIRun else { return nil }
        return try Communicator.world()
    }
}

/// `ranker train --ranks N`: runs the same command line (without `--ranks`)
/// under `mpirun -np N`, with the flags a container needs: root allowed,
/// more ranks than cores allowed, no binding of ranks to cores (BLAS threads
/// stay free).
///
/// The shared-memory transport keeps Open MPI's default single-copy mechanism
/// (cross-memory attach, `process_vm_readv`): the 31 MB dense allreduce of W3
/// took 59 ms with it against 1.6–3.9 s with `btl_vader_single_copy_mechanism
/// none` (BENCHMARKS.md, "Data-parallel: the shared-memory single copy"). Where
/// a container forbids `process_vm_readv` (Docker without `CAP_SYS_PTRACE`),
/// `OMPI_MCA_btl_vader_single_copy_mechanism=none` in the environment turns it
/// off; no flag here overrides that variable.
enum MPIRelaunch {
    /// The arguments given to `mpirun`.
    static func mpirunArguments(ranks: Int, executable: String, arguments: [String]) -> [String] {
        ["--allow-run-as-root", "--oversubscribe", "--bind-to", "none", "-np", "\(ranks)", executable] + arguments
    }

    /// `arguments` without `--ranks N` / `--ranks=N`.
    static func removingRanks(_ arguments: [String]) -> [String] {
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

    /// Runs mpirun and exits with its status.
    static func run(ranks: Int) throws -> Never {
        guard let mpirun = findInPath("mpirun") else {
            throw ValidationError("--ranks \(ranks) needs mpirun (Open MPI) on the PATH; `make deps` installs it")
        }
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

    static func findInPath(_ name: String) -> String? {
        for directory in (ProcessInfo.processInfo.environment["PATH"] ?? "/usr/bin:/bin").split(separator: ":") {
            let path = "\(directory)/\(name)"
            if FileManager.default.isExecutableFile(atPath: path) { return path }
        }
        return nil
    }
}
