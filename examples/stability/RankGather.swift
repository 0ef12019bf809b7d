import RankerDistributed

/// How `stability --ranks N` brings the ranks' results together: every rank
/// runs its share of a setting's trials (`StabilityTrialSplit`), then sends
/// its outcomes, serialized (`StabilityTrialResults`), to every other rank
/// with MPI collectives; rank 0 prints the tables from them.
///
/// Why collectives rather than result files in a shared run directory: no
/// rank has to poll for files or tell a finished file from one still being
/// written, nothing assumes a file system shared by the ranks (a hostfile
/// over several machines works as is), and the results are a few kilobytes
/// per setting. A rank that fails stops the job instead of leaving the others
/// waiting in the collective: a trial that throws makes its rank print the
/// trial and call `MPI_Abort`; a rank that crashes or is killed is seen by
/// mpirun, which ends the job (`TrialCrashNotice` names its trial first).
extension Communicator {
    /// Every rank's `local` bytes, in rank order (the same on every rank):
    /// an allgather of the byte counts, then one broadcast per rank.
    func allgatherBytes(_ local: [UInt8]) throws -> [[UInt8]] {
        let counts = try allgather([UInt64(local.count)]).map { Int($0) }
        var parts: [[UInt8]] = []
        for root in 0..<size {
            var bytes = root == rank ? local : [UInt8](repeating: 0, count: counts[root])
            try bytes.withUnsafeMutableBytes { try broadcast($0, root: root) }
            parts.append(bytes)
        }
        return parts
    }
}
