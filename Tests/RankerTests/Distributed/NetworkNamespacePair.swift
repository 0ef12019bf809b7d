import Foundation
import XCTest

/// Two "hosts" on one machine: two network namespaces joined by a veth pair
/// (`10.231.0.1/24` in the first, `10.231.0.2/24` in the second), for running
/// the ranks of one MPI job on different network stacks, talking TCP.
///
/// There is no ssh daemon, so `mpirun` (started inside the first namespace)
/// reaches the second "host" through a launcher agent
/// (`--mca plm_rsh_agent`, `writeLauncher(in:)`): Open MPI calls it as it
/// would call ssh, `agent <host> <orted command line>`, and the agent runs
/// the command line with `ip netns exec` in the namespace owning that
/// address. The host file names the two addresses, one slot each.
///
/// Needs root and `ip` (iproute2). Names carry a tag (the test's pid), so
/// two test processes never share a namespace; `remove()` stops what still
/// runs inside them and deletes them (the veth pair goes with them).
final class NetworkNamespacePair {
    static let addresses = ["10.231.0.1", "10.231.0.2"]
    static let subnet = "10.231.0.0/24"

    let ip: String
    /// The namespaces, `[first, second]`.
    let namespaces: [String]
    /// The veth ends, `[in first, in second]`.
    let interfaces: [String]
    private var created: [String] = []

    /// The `ip` binary, or a skip when it is missing or this is not root
    /// (a failure under `CI=true`, where the test must run).
    static func requireIP() throws -> String {
        let onCI = ProcessInfo.processInfo.environment["CI"] == "true"
        func unavailable(_ reason: String) throws -> Never {
            if onCI { XCTFail("\(reason) (CI=true: the two-host test must run)") }
            throw XCTSkip(reason)
        }
        guard let ip = ["/usr/sbin/ip", "/sbin/ip", "/usr/bin/ip", "/bin/ip"]
            .first(where: { FileManager.default.isExecutableFile(atPath: $0) }) else {
            try unavailable("`ip` (iproute2) is not installed")
        }
        guard geteuid() == 0 else { try unavailable("network namespaces need root") }
        return ip
    }

    /// Creates both namespaces and the link; on any failure removes what it
    /// created and throws (a permission error skips, or fails under CI=true).
    init(tag: String) throws {
        ip = try Self.requireIP()
        namespaces = ["rk\(tag)a", "rk\(tag)b"]
        interfaces = ["rk\(tag)va", "rk\(tag)vb"]
        do {
            for ns in namespaces {
                try run([ip, "netns", "add", ns])
                created.append(ns)
            }
            try run([ip, "link", "add", interfaces[0], "type", "veth", "peer", "name", interfaces[1]])
            for i in 0..<2 {
                try run([ip, "link", "set", interfaces[i], "netns", namespaces[i]])
                try run([ip, "-n", namespaces[i], "addr", "add", "\(Self.addresses[i])/24", "dev", interfaces[i]])
                try run([ip, "-n", namespaces[i], "link", "set", interfaces[i], "up"])
                try run([ip, "-n", namespaces[i], "link", "set", "lo", "up"])
            }
        } catch let error as CommandError where error.output.contains("Operation not permitted") {
            remove()
            if ProcessInfo.processInfo.environment["CI"] == "true" { XCTFail("\(error)") }
            throw XCTSkip("cannot create network namespaces here: \(error)")
        } catch {
            remove()
            throw error
        }
    }

    /// Kills the processes still running in the namespaces (a hung rank of
    /// this test) and deletes them. Safe to call twice.
    func remove() {
        for ns in created.reversed() {
            let pids = (try? run([ip, "netns", "pids", ns])) ?? ""
            for pid in pids.split(whereSeparator: \.isWhitespace).compactMap({ Int32($0) }) { kill(pid, SIGKILL) }
            _ = try? run([ip, "netns", "del", ns])
        }
        created.removeAll()
        // The veth pair is gone with its namespaces; if creation stopped half
        // way, one end may still be in this namespace.
        _ = try? run([ip, "link", "del", interfaces[0]])
    }

    /// The launcher agent for `--mca plm_rsh_agent`: skips any option before
    /// the host, maps the host's address to its namespace, logs the namespace
    /// to `log` and runs the rest (one shell command line, as ssh would) there.
    func writeLauncher(in directory: URL, log: URL) throws -> URL {
        let script = """
            #!/bin/sh
            # mpirun's launcher agent: `agent [options] host command…`, as ssh is called.
            while [ "${1#-}" != "$1" ]; do shift; done
            host=$1; shift
            case "$host" in
              \(Self.addresses[0])) ns=\(namespaces[0]) ;;
              \(Self.addresses[1])) ns=\(namespaces[1]) ;;
              *) echo "launcher: unknown host $host" >&2; exit 1 ;;
            esac
            echo "$ns" >> '\(log.path)'
            exec \(ip) netns exec "$ns" /bin/sh -c "$*"

            """
        let url = directory.appendingPathComponent("launcher.sh")
        try script.write(to: url, atomically: true, encoding: .utf8)
        try FileManager.default.setAttributes([.posixPermissions: 0o755], ofItemAtPath: url.path)
        return url
    }

    /// A host file: each namespace's address, one slot.
    func writeHostfile(in directory: URL) throws -> URL {
        let url = directory.appendingPathComponent("hosts")
        try Self.addresses.map { "\($0) slots=1\n" }.joined().write(to: url, atomically: true, encoding: .utf8)
        return url
    }

    struct CommandError: Error, CustomStringConvertible {
        let command: [String]
        let status: Int32
        let output: String
        var description: String { "`\(command.joined(separator: " "))` exited \(status): \(output)" }
    }

    /// Runs `command` (absolute path first) and returns its standard output.
    @discardableResult
    private func run(_ command: [String]) throws -> String {
        let process = Process()
        process.executableURL = URL(fileURLWithPath: command[0])
        process.arguments = Array(command.dropFirst())
        let out = Pipe(), err = Pipe()
        process.standardOutput = out
        process.standardError = err
        try process.run()
        let output = out.fileHandleForReading.readDataToEndOfFile()
        let error = err.fileHandleForReading.readDataToEndOfFile()
        process.waitUntilExit()
        guard process.terminationStatus == 0 else {
            throw CommandError(command: command, status: process.terminationStatus,
                               output: String(decoding: error, as: UTF8.self))
        }
        return String(decoding: output, as: UTF8.self)
    }
}
