/// The drift check of a data-parallel run: replicas that apply identical
/// updates to identical state stay bitwise identical; this proves it every
/// few steps, and names what differs when it does not.
///
/// Each rank hashes every tensor of the state (the model's parameters and
/// state tensors, the optimizer's state tensors: `P` tensors) to one 64-bit
/// FNV-1a value over its bytes, and the ranks all-gather the `P` hashes
/// (`N · P` UInt64, a few kilobytes). All ranks compare the same table, so
/// all of them stop together, with the first tensor (in `names` order) whose
/// hash differs from rank 0's.
public struct ReplicaChecksum {
    /// Tensor names, in hash order.
    public let names: [String]
    private let tensors: [Matrix]

    /// The tensors of `step` (model parameters, balancer parameters, model
    /// state tensors) and of its optimizer.
    public init(step: TrainingStep) {
        var list = step.parameters.map { (name: $0.name, value: $0.value) }
        list += step.model.stateTensors
        list += step.optimizer.stateTensors().map { (name: "optimizer/" + $0.name, value: $0.value) }
        names = list.map(\.name)
        tensors = list.map(\.value)
    }

    /// FNV-1a of the tensors' bytes, one value per tensor.
    public func localHashes() -> [UInt64] {
        tensors.map { m in
            var h: UInt64 = 0xcbf2_9ce4_8422_2325
            let words = UnsafeRawPointer(m.data).assumingMemoryBound(to: UInt32.self)
            for i in 0..<m.count {
                h = (h ^ UInt64(words[i])) &* 0x0000_0100_0000_01B3
            }
            return h
        }
    }

    /// Compares every rank's hashes with rank 0's.
    ///
    /// - Throws: `DataParallelError` naming the first differing tensor and
    ///   the ranks that differ, or the collective's failure.
    public func verify(in group: DataParallelGroup, step: Int) throws {
        let local = localHashes()
        let all: [UInt64]
        do {
            all = try group.allgather(local)
        } catch {
            throw DataParallelError(message: "rank \(group.rank) of \(group.size): allgather of the replica checksums failed: \(error)")
        }
        let p = local.count
        for i in 0..<p {
            let differing = (1..<group.size).filter { all[$0 * p + i] != all[i] }
            if !differing.isEmpty {
                throw DataParallelError(message: "replicas drifted apart at step \(step): tensor '\(names[i])' on rank(s) "
                                        + "\(differing.map(String.init).joined(separator: ", ")) differs from rank 0 "
                                        + "(checksum of \(group.size) replicas over \(p) tensors); the run stops")
            }
        }
    }
}
