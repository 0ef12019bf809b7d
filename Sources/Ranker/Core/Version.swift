/// The library version, printed by `ranker --version` and stored in checkpoints.
public enum RankerVersion {
    public static let string = "0.1.0"
}
