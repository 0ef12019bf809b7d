import Ranker

/// The world communicator as the trainer's `DataParallelGroup`: the trainer's
/// collectives are MPI's (allreduce, allgather, allgatherv on
/// `MPI_COMM_WORLD`).
extension Communicator: DataParallelGroup {}
