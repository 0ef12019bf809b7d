import Foundation

/// Where data files and shipped schemas are found.
///
/// Data roots, in order:
/// 1. `$RANKER_DATA`, when set (and then only it);
/// 2. `<repository>/../shared/data` and `<repository>/data` (where `make data`
///    downloads to), for each repository root found by walking up from the
///    current directory, from `filePath` (a test passes its own source path) and
///    from each of `startingPoints` (an executable adds its own path).
///
/// The library never looks relative to its own source: where to look is the
/// caller's to say.
///
/// A repository root is the nearest directory at or above a starting point
/// that holds `Package.swift` and a `schemas` folder. Shipped schemas are
/// `<repository>/schemas/<name>.json` (or `$RANKER_SCHEMAS/<name>.json`).
public enum DataLocation {
    /// Nothing was found; `tried` lists every path looked at, in order.
    public struct NotFound: Error, CustomStringConvertible {
        public var wanted: String
        public var tried: [String]
        public var description: String {
            "\(wanted) not found; looked at:\n" + tried.map { "  \($0)" }.joined(separator: "\n")
                + "\n(set RANKER_DATA to the data folder, or run `make data` for census-income)"
        }
    }

    /// More places to walk up from, after the current directory and the
    /// `filePath` of a call: `ranker` and the examples add their executable's
    /// path here at start, so that a binary in `<repository>/.build/…` finds
    /// the repository's data from any working directory.
    nonisolated(unsafe) public static var startingPoints: [String] = []

    /// The nearest directory at or above `path` with `Package.swift` and `schemas/`.
    public static func repositoryRoot(from path: String) -> String? {
        var url = URL(fileURLWithPath: path).standardizedFileURL
        let fm = FileManager.default
        var isDirectory: ObjCBool = false
        if !(fm.fileExists(atPath: url.path, isDirectory: &isDirectory) && isDirectory.boolValue) {
            url.deleteLastPathComponent()
        }
        while true {
            if fm.fileExists(atPath: url.appendingPathComponent("Package.swift").path)
                && fm.fileExists(atPath: url.appendingPathComponent("schemas").path) {
                return url.path
            }
            let parent = url.deletingLastPathComponent()
            if parent.path == url.path { return nil }
            url = parent
        }
    }

    /// Repository roots from the current directory, `filePath` and `startingPoints`, without repeats.
    static func repositoryRoots(filePath: String?) -> [String] {
        var roots: [String] = []
        for start in [FileManager.default.currentDirectoryPath, filePath].compactMap({ $0 }) + startingPoints {
            if let root = repositoryRoot(from: start), !roots.contains(root) { roots.append(root) }
        }
        return roots
    }

    /// The data roots to search, in order.
    public static func dataRoots(filePath: String? = nil) -> [String] {
        if let given = ProcessInfo.processInfo.environment["RANKER_DATA"], !given.isEmpty {
            return [URL(fileURLWithPath: given).standardizedFileURL.path]
        }
        var roots: [String] = []
        for root in repositoryRoots(filePath: filePath) {
            let base = URL(fileURLWithPath: root)
            for candidate in [base.deletingLastPathComponent().appendingPathComponent("shared/data"),
                              base.appendingPathComponent("data")] {
                let path = candidate.standardizedFileURL.path
                if !roots.contains(path) { roots.append(path) }
            }
        }
        return roots
    }

    /// The first existing `<root>/<relative>` over the data roots, trying the
    /// relative paths in order under each root.
    public static func locateData(_ relativePaths: [String], filePath: String? = nil) throws -> String {
        var tried: [String] = []
        for root in dataRoots(filePath: filePath) {
            for relative in relativePaths {
                let path = URL(fileURLWithPath: root).appendingPathComponent(relative).path
                if FileManager.default.fileExists(atPath: path) { return path }
                tried.append(path)
            }
        }
        if tried.isEmpty { tried.append("(no data root: RANKER_DATA is unset and no repository root was found)") }
        throw NotFound(wanted: relativePaths.joined(separator: " or "), tried: tried)
    }

    /// The path of the shipped schema `schemas/<name>.json`.
    public static func schemaPath(named name: String, filePath: String? = nil) throws -> String {
        var tried: [String] = []
        var folders: [String] = []
        if let given = ProcessInfo.processInfo.environment["RANKER_SCHEMAS"], !given.isEmpty { folders.append(given) }
        folders += repositoryRoots(filePath: filePath).map { URL(fileURLWithPath: $0).appendingPathComponent("schemas").path }
        for folder in folders {
            let path = URL(fileURLWithPath: folder).appendingPathComponent("\(name).json").path
            if FileManager.default.fileExists(atPath: path) { return path }
            tried.append(path)
        }
        throw NotFound(wanted: "schema \(name).json", tried: tried)
    }

    /// Loads the shipped schema `schemas/<name>.json`.
    public static func shippedSchema(named name: String, filePath: String? = nil) throws -> DataSchema {
        try DataSchema.load(path: schemaPath(named: name, filePath: filePath))
    }
}
