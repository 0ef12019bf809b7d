import CMPI
import Foundation
import CMPIShim

/// `MPI_COMM_WORLD` of this process, with the collectives a data-parallel
/// run needs. Every rank must call the same collectives in the same order
/// (MPI's rule); each call returns once every rank has taken part.
///
/// Errors: the communicator's error handler is `MPI_ERRORS_RETURN`, so a
/// failing call throws `MPIError` (with Open MPI's error string) instead of
/// aborting the job. Counts are MPI's `int`: at most `Int32.max` elements
/// per call.
public final class Communicator {
    /// This process's rank in `MPI_COMM_WORLD`, `0 ..< size`.
    public let rank: Int
    /// Number of processes.
    public let size: Int
    private let comm: MPI_Comm

    /// Initialises MPI (once per process) and returns the world communicator.
    ///
    /// - Throws: `MPIError` when MPI cannot start (no `mpirun`, broken
    ///   installation).
    public static func world() throws -> Communicator {
        var started: Int32 = 0
        try MPIError.check(MPI_Initialized(&started), "MPI_Initialized")
        if started == 0 { try MPIError.check(MPI_Init(nil, nil), "MPI_Init") }
        return try Communicator(comm: cmpi_comm_world())
    }

    private init(comm: MPI_Comm) throws {
        self.comm = comm
        try MPIError.check(MPI_Comm_set_errhandler(comm, cmpi_errors_return()), "MPI_Comm_set_errhandler")
        var r: Int32 = 0, s: Int32 = 0
        try MPIError.check(MPI_Comm_rank(comm, &r), "MPI_Comm_rank")
        try MPIError.check(MPI_Comm_size(comm, &s), "MPI_Comm_size")
        rank = Int(r)
        size = Int(s)
    }

    /// Whether this process was started by `mpirun` / `mpiexec` (Open MPI
    /// sets `OMPI_COMM_WORLD_SIZE` for each rank it launches).
    public static var launchedByMPIRun: Bool {
        getenv("OMPI_COMM_WORLD_SIZE") != nil
    }

    /// `buffer[i] ← Σ_r buffer_r[i]` (MPI_Allreduce, MPI_SUM, in place).
    public func allreduceSum(_ buffer: UnsafeMutableBufferPointer<Float>) throws {
        guard let base = buffer.baseAddress, buffer.count > 0 else { return }
        try MPIError.check(MPI_Allreduce(cmpi_in_place(), base, try Self.count(buffer.count), cmpi_float(), cmpi_sum(), comm),
                           "MPI_Allreduce of \(buffer.count) floats")
    }

    /// `buffer[i] ← Σ_r buffer_r[i]` in double precision.
    public func allreduceSum(_ buffer: UnsafeMutableBufferPointer<Double>) throws {
        guard let base = buffer.baseAddress, buffer.count > 0 else { return }
        try MPIError.check(MPI_Allreduce(cmpi_in_place(), base, try Self.count(buffer.count), cmpi_double(), cmpi_sum(), comm),
                           "MPI_Allreduce of \(buffer.count) doubles")
    }

    /// Every rank's `local` (same count everywhere), concatenated in rank order.
    public func allgather(_ local: [UInt64]) throws -> [UInt64] {
        var output = [UInt64](repeating: 0, count: local.count * size)
        let n = try Self.count(local.count)
        try local.withUnsafeBufferPointer { s in
            try output.withUnsafeMutableBufferPointer { r in
                try MPIError.check(MPI_Allgather(s.baseAddress, n, cmpi_uint64(), r.baseAddress, n, cmpi_uint64(), comm),
                                   "MPI_Allgather of \(local.count) UInt64 per rank")
            }
        }
        return output
    }

    /// Every rank's `local` (`counts[r]` values on rank `r`) concatenated in rank order.
    public func allgatherv(_ local: UnsafeBufferPointer<Int32>, counts: [Int],
                           into output: UnsafeMutableBufferPointer<Int32>) throws {
        try allgatherv(UnsafeRawPointer(local.baseAddress), local.count, counts, UnsafeMutableRawPointer(output.baseAddress),
                       output.count, cmpi_int32(), "Int32")
    }

    /// Every rank's `local` (`counts[r]` values on rank `r`) concatenated in rank order.
    public func allgatherv(_ local: UnsafeBufferPointer<Float>, counts: [Int],
                           into output: UnsafeMutableBufferPointer<Float>) throws {
        try allgatherv(UnsafeRawPointer(local.baseAddress), local.count, counts, UnsafeMutableRawPointer(output.baseAddress),
                       output.count, cmpi_float(), "Float")
    }

    private func allgatherv(_ send: UnsafeRawPointer?, _ sendCount: Int, _ counts: [Int], _ receive: UnsafeMutableRawPointer?,
                            _ receiveCount: Int, _ type: MPI_Datatype, _ typeName: String) throws {
        precondition(counts.count == size && counts[rank] == sendCount && counts.reduce(0, +) == receiveCount,
                     "allgatherv: counts \(counts) do not match \(sendCount) sent and \(receiveCount) received")
        let counts32 = try counts.map { try Self.count($0) }
        var displacements = [Int32](repeating: 0, count: size)
        var offset = 0
        for r in 0..<size {
            displacements[r] = try Self.count(offset)
            offset += counts[r]
        }
        // MPI wants valid pointers even for zero counts.
        var dummy: UInt64 = 0
        try withUnsafeMutablePointer(to: &dummy) { d in
            try MPIError.check(MPI_Allgatherv(send ?? UnsafeRawPointer(d), counts32[rank], type, receive ?? UnsafeMutableRawPointer(d),
                                              counts32, displacements, type, comm),
                               "MPI_Allgatherv of \(receiveCount) \(typeName) (\(counts) per rank)")
        }
    }

    /// Copies rank `root`'s `buffer` into every rank's (same byte count everywhere).
    public func broadcast(_ buffer: UnsafeMutableRawBufferPointer, root: Int = 0) throws {
        guard let base = buffer.baseAddress, buffer.count > 0 else { return }
        try MPIError.check(MPI_Bcast(base, try Self.count(buffer.count), cmpi_byte(), Int32(root), comm),
                           "MPI_Bcast of \(buffer.count) bytes from rank \(root)")
    }

    /// Returns once every rank has called it.
    public func barrier() throws {
        try MPIError.check(MPI_Barrier(comm), "MPI_Barrier")
    }

    /// Stops every process of the job with exit status `code` (MPI_Abort).
    public func abort(code: Int32) -> Never {
        MPI_Abort(comm, code)
        exit(code)
    }

    /// Ends MPI in this process (after the last collective).
    public func finalize() throws {
        try MPIError.check(MPI_Finalize(), "MPI_Finalize")
    }

    private static func count(_ n: Int) throws -> Int32 {
        guard n >= 0 && n <= Int(Int32.max) else {
            throw MPIError(call: "count", code: -1, message: "\(n) elements exceed MPI's int count")
        }
        return Int32(n)
    }
}
