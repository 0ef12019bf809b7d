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
    var needsRelaunch: Bool { MPIRelaunch.isNeeded(ranks: ranks) }

    /// The world communicator when started by mpirun, otherwise `nil` (one process, no MPI).
    func communicator() throws -> Communicator? {
        guard Communicator.launchedByMPIRun else { return nil }
        return try Communicator.world()
    }
}
