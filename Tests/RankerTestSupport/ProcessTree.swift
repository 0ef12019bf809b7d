import Foundation

/// The processes of this machine as a tree, read from `/proc` (Linux).
public enum ProcessTree {
    /// The processes whose command name (`/proc/<pid>/stat`'s second field) is
    /// `name` and that descend from `root` (children, grandchildren, …), sorted:
    /// the ranks `mpirun` started below a test's process, for example.
    public static func descendants(of root: Int32, named name: String) -> [Int32] {
        var parent: [Int32: Int32] = [:]
        var command: [Int32: String] = [:]
        for entry in (try? FileManager.default.contentsOfDirectory(atPath: "/proc")) ?? [] {
            guard let pid = Int32(entry),
                  let stat = try? String(contentsOfFile: "/proc/\(entry)/stat", encoding: .utf8),
                  let open = stat.firstIndex(of: "("), let close = stat.lastIndex(of: ")") else { continue }
            command[pid] = String(stat[stat.index(after: open)..<close])
            let fields = stat[stat.index(close, offsetBy: 2)...].split(separator: " ")
            if fields.count > 1, let ppid = Int32(fields[1]) { parent[pid] = ppid }
        }
        func descends(_ pid: Int32) -> Bool {
            var p = parent[pid]
            while let q = p, q > 1 { if q == root { return true }; p = parent[q] }
            return false
        }
        return command.filter { $0.value == name && descends($0.key) }.map(\.key).sorted()
    }
}
