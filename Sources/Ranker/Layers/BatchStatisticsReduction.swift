/// How a BatchNorm layer in training mode makes its batch statistics those of
/// the global batch when the batch is split over replicas (data parallelism):
/// per-column sums are added over all replicas before they are used.
///
/// With a reduction, `BatchNorm` (per column `j`, `n` columns, `B_r` local rows):
///
///     forward:  B = Σ_r B_r;  mu_j = Σ_r Σ_b z / B;  var_j = Σ_r Σ_b (z − mu_j)² / B
///     backward: Σ dy and Σ dy · xhat over the global batch (2n doubles per block)
///
/// so `N` replicas compute the statistics, the running statistics and the
/// input gradients of one process holding the whole batch (up to the order of
/// the additions). `gamma`'s and `beta`'s gradients stay local sums (the
/// trainer adds the gradients of all replicas afterwards).
///
/// The layer's API does not throw: an implementation that fails keeps the
/// error for its owner to raise after the pass (`ReplicaGradientReduction`).
public protocol BatchStatisticsReduction: AnyObject {
    /// `values[i] ← Σ_r values_r[i]` for `i < count`, on every replica.
    func sum(_ values: UnsafeMutablePointer<Double>, count: Int)
}

/// Finds a model's BatchNorm layers by walking its stored properties (arrays,
/// optionals and class references included; each object visited once), so
/// that a reduction can be attached without every model listing its layers.
public enum BatchNormLayers {
    /// Every `BatchNorm` reachable from `root`, in discovery order.
    public static func find(in root: AnyObject) -> [BatchNorm] {
        var seen = Set<ObjectIdentifier>()
        var found: [BatchNorm] = []
        func visit(_ value: Any) {
            let mirror = Mirror(reflecting: value)
            if mirror.displayStyle == .class {
                let object = value as AnyObject
                guard seen.insert(ObjectIdentifier(object)).inserted else { return }
                if let bn = object as? BatchNorm { found.append(bn); return }
                // Tensors and buffers hold no layers.
                if object is Matrix || object is Parameter || object is Slab || object is ParameterSlab { return }
            }
            // Number arrays (ids, slots, sizes) hold no layers and can be long.
            if value is [Int32] || value is [Int] || value is [Float] || value is [Double] { return }
            var current: Mirror? = mirror
            while let m = current {
                for child in m.children { visit(child.value) }
                current = m.superclassMirror
            }
        }
        visit(root)
        return found
    }
}
