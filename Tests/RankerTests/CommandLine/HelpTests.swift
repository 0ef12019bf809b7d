import Foundation
import XCTest
import RankerTestSupport

/// `--help` of every command the package builds — `ranker`, each of its
/// subcommands, and each example executable with options — exits 0 and
/// shows every option the command declares. The declared options come from
/// the command type itself, through the parser's `--experimental-dump-help`
/// description of it, so a new option is covered without editing this test.
final class HelpTests: TemporaryDirectoryTestCase {
    /// (executable, subcommand path, options that must be among the declared
    /// ones: a guard that the description was read at all).
    static let commands: [(executable: String, path: [String], required: [String])] = [
        ("ranker", [], []),
        ("ranker", ["train"], ["--config", "--resume"]),
        ("ranker", ["eval"], ["<run-directory>", "--split"]),
        ("ranker", ["predict"], ["--input", "--output"]),
        ("ranker", ["export"], ["<source>", "--out"]),
        ("ranker", ["report"], ["<run-directory>", "--out"]),
        ("ranker", ["bench"], ["--workloads", "--balancers", "--ranks"]),
        ("census-mmoe", [], ["--config"]),
        ("aliccp-esmm", [], ["--config", "--train"]),
        ("weighting", [], ["--full"]),
        ("stability", [], ["--full", "--config", "--runs", "--methods", "--multipliers", "--seeds", "--base-lr",
                           "--rows"]),
    ]

    /// How `--help` shows each argument the parser displays: `--long`, `-s`,
    /// `<value>` for a positional argument.
    static func declaredArguments(_ command: [String: Any]) -> [String] {
        var shown: [String] = []
        for argument in command["arguments"] as? [[String: Any]] ?? [] {
            guard argument["shouldDisplay"] as? Bool ?? true else { continue }
            if argument["kind"] as? String == "positional" {
                shown.append("<\(argument["valueName"] as? String ?? "?")>")
                continue
            }
            for name in argument["names"] as? [[String: Any]] ?? [] {
                let text = name["name"] as? String ?? "?"
                shown.append((name["kind"] as? String == "long" ? "--" : "-") + text)
            }
        }
        return shown
    }

    func testHelpOfEveryCommandShowsEveryDeclaredOption() throws {
        for (executable, path, required) in Self.commands {
            let binary = BuiltExecutable(name: executable)
            let label = ([executable] + path).joined(separator: " ")
            let dump = try binary.run(path + ["--experimental-dump-help"], temporary: temporary)
            XCTAssertEqual(dump.status, 0, "\(label) --experimental-dump-help: \(dump.standardError)")
            let root = try XCTUnwrap(try JSONSerialization.jsonObject(with: Data(dump.standardOutput.utf8)) as? [String: Any])
            let declared = Self.declaredArguments(try XCTUnwrap(root["command"] as? [String: Any], label))
            for option in required {
                XCTAssertTrue(declared.contains(option), "\(label) does not declare \(option): \(declared)")
            }
            let help = try binary.run(path + ["--help"], temporary: temporary)
            XCTAssertEqual(help.status, 0, "\(label) --help: \(help.standardError)")
            XCTAssertTrue(help.standardOutput.contains("USAGE:"), "\(label) --help:\n\(help.standardOutput)")
            for option in declared + ["--help"] {
                XCTAssertTrue(help.standardOutput.contains(option), "`\(label) --help` lacks \(option)")
            }
        }
    }
}
