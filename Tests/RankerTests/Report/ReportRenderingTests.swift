import Foundation
import XCTest
@testable import Ranker
@testable import RankerReport

/// Renders a report in headless Chromium and checks the screenshot is a real
/// picture: the page width, many distinct colours, and enough pixels in the
/// colours of the three task series (so the SVG lines were drawn).
///
/// Skipped when Chromium or python3 (the PNG decoder) is missing; install
/// with `apt-get install -y chromium`. Set `RANKER_CHROMIUM` to use another
/// binary, and `RANKER_REPORT_SCREENSHOT_DIR` to keep the HTML and the PNG.
final class ReportRenderingTests: XCTestCase {
    static func executable(_ names: [String]) -> String? {
        let path = ProcessInfo.processInfo.environment["PATH"] ?? "/usr/bin:/bin"
        for name in names {
            if name.hasPrefix("/") { if FileManager.default.isExecutableFile(atPath: name) { return name } else { continue } }
            for directory in path.split(separator: ":") {
                let candidate = "\(directory)/\(name)"
                if FileManager.default.isExecutableFile(atPath: candidate) { return candidate }
            }
        }
        return nil
    }

    /// Runs a process with a time limit (output collected in a temporary
    /// file, so a full pipe can never block it); returns status and output.
    static func run(_ executable: String, _ arguments: [String], timeout: TimeInterval) throws -> (status: Int32, output: String) {
        let log = FileManager.default.temporaryDirectory.appendingPathComponent("ranker-process-\(UUID().uuidString).log")
        _ = FileManager.default.createFile(atPath: log.path, contents: nil)
        defer { try? FileManager.default.removeItem(at: log) }
        let handle = try FileHandle(forWritingTo: log)
        defer { try? handle.close() }
        let process = Process()
        process.executableURL = URL(fileURLWithPath: executable)
        process.arguments = arguments
        process.standardOutput = handle
        process.standardError = handle
        try process.run()
        let deadline = Date().addingTimeInterval(timeout)
        while process.isRunning && Date() < deadline { usleep(50_000) }
        if process.isRunning {
            process.terminate()
            process.waitUntilExit()
            throw Self.missingTool("\(executable) did not finish within \(Int(timeout)) s")
        }
        process.waitUntilExit()
        return (process.terminationStatus, (try? String(contentsOf: log, encoding: .utf8)) ?? "")
    }

    /// A tool the test needs is missing or hung: a skip on a developer's
    /// machine, a failure under `CI=true` (CI must run every test).
    static func missingTool(_ message: String) -> Error {
        if ProcessInfo.processInfo.environment["CI"] == "true" {
            return MissingToolInCI(message: message)
        }
        return XCTSkip(message)
    }

    struct MissingToolInCI: Error, CustomStringConvertible {
        let message: String
        var description: String { "CI=true and a tool is missing: \(message)" }
    }

    func testReportRendersInHeadlessChromium() throws {
        let environment = ProcessInfo.processInfo.environment
        guard let chromium = Self.executable([environment["RANKER_CHROMIUM"], "chromium", "chromium-browser", "google-chrome"].compactMap { $0 }) else {
            throw Self.missingTool("Chromium not installed (`make test` installs it: apt-get install -y chromium)")
        }
        guard let python = Self.executable(["python3"]) else { throw Self.missingTool("python3 not installed: cannot decode the screenshot") }

        let directory = try TelemetryFixture.makeRunDirectory()
        defer { try? FileManager.default.removeItem(at: directory) }
        try TelemetryFixture.write(TelemetryFixture().generate().lines, to: directory)
        let report = try TrainingReport.writeReport(runDirectory: directory)
        let screenshot = directory.appendingPathComponent("report.png")
        let started = Date()
        let (status, output) = try Self.run(chromium, [
            "--headless", "--disable-gpu", "--no-sandbox", "--hide-scrollbars", "--disable-extensions",
            "--no-first-run", "--user-data-dir=\(directory.appendingPathComponent("profile").path)",
            "--screenshot=\(screenshot.path)", "--window-size=1200,3000", report.absoluteString,
        ], timeout: 120)
        print("chromium screenshot took \(String(format: "%.1f", Date().timeIntervalSince(started))) s")
        XCTAssertEqual(status, 0, output)
        XCTAssertTrue(FileManager.default.fileExists(atPath: screenshot.path), output)
        if let keep = environment["RANKER_REPORT_SCREENSHOT_DIR"] {
            let target = URL(fileURLWithPath: keep)
            try? FileManager.default.createDirectory(at: target, withIntermediateDirectories: true)
            for file in [report, screenshot] {
                let destination = target.appendingPathComponent(file.lastPathComponent)
                try? FileManager.default.removeItem(at: destination)
                try FileManager.default.copyItem(at: file, to: destination)
            }
        }

        let script = directory.appendingPathComponent("pngstats.py")
        try Data(Self.pngStatistics.utf8).write(to: script)
        let colors = ReportPalette.series.prefix(3).joined(separator: ",")
        let (pythonStatus, json) = try Self.run(python, [script.path, screenshot.path, colors], timeout: 60)
        XCTAssertEqual(pythonStatus, 0, json)
        let stats = try XCTUnwrap(try JSONSerialization.jsonObject(with: Data(json.utf8)) as? [String: Any], json)
        XCTAssertEqual(stats["width"] as? Int, 1200)
        XCTAssertEqual(stats["height"] as? Int, 3000)
        XCTAssertGreaterThan(stats["distinct"] as? Int ?? 0, 200, "a blank or flat page has few colours: \(json)")
        XCTAssertGreaterThan(stats["nonbackground"] as? Double ?? 0, 0.2, "most of the page is drawn on: \(json)")
        let counts = stats["matches"] as? [Int] ?? []
        XCTAssertEqual(counts.count, 3)
        for (index, count) in counts.enumerated() {
            XCTAssertGreaterThan(count, 300, "pixels in series colour \(ReportPalette.series[index]): \(json)")
        }
    }

    /// Decodes an 8-bit RGB/RGBA non-interlaced PNG with the standard library
    /// only (zlib, struct; "up" rows in one big-integer addition, the other
    /// filters byte by byte) and prints width, height, distinct colours, the
    /// fraction of pixels that are not the page background (#f4f5f7) and, for
    /// each colour given, the number of pixels within 24 of it in every channel.
    static let pngStatistics = #"""
    import json, struct, sys, zlib
    from collections import Counter
    data = open(sys.argv[1], "rb").read()
    assert data[:8] == b"\x89PNG\r\n\x1a\n", "not a PNG"
    pos, idat, header = 8, b"", None
    while pos < len(data):
        length, kind = struct.unpack(">I4s", data[pos:pos + 8])
        body = data[pos + 8:pos + 8 + length]
        if kind == b"IHDR": header = struct.unpack(">IIBBBBB", body)
        elif kind == b"IDAT": idat += body
        pos += 12 + length
    width, height, depth, color, _, _, interlace = header
    assert depth == 8 and color in (2, 6) and interlace == 0, header
    n = 3 if color == 2 else 4
    raw = zlib.decompress(idat)
    stride = width * n
    low7 = int.from_bytes(b"\x7f" * stride, "big")
    high1 = int.from_bytes(b"\x80" * stride, "big")
    def add_bytes(x, y):
        # bytewise (x + y) mod 256 on whole rows at once (SWAR on big integers)
        a, b = int.from_bytes(x, "big"), int.from_bytes(y, "big")
        return (((a & low7) + (b & low7)) ^ ((a ^ b) & high1)).to_bytes(stride, "big")
    colors = Counter()
    previous = bytes(stride)
    for y in range(height):
        start = y * (stride + 1)
        kind, line = raw[start], raw[start + 1:start + 1 + stride]
        if kind == 2:
            line = add_bytes(line, previous)
        elif kind != 0:
            out = bytearray(line)
            for i in range(stride):
                a = out[i - n] if i >= n else 0
                if kind == 1: out[i] = (out[i] + a) & 255
                elif kind == 3: out[i] = (out[i] + ((a + previous[i]) >> 1)) & 255
                else:
                    b = previous[i]; c = previous[i - n] if i >= n else 0
                    p = a + b - c; pa, pb, pc = abs(p - a), abs(p - b), abs(p - c)
                    out[i] = (out[i] + (a if pa <= pb and pa <= pc else b if pb <= pc else c)) & 255
            line = bytes(out)
        previous = line
        colors.update(zip(line[0::n], line[1::n], line[2::n]))
    targets = [tuple(int(c[i:i + 2], 16) for i in (1, 3, 5)) for c in sys.argv[2].split(",")]
    matches = [sum(count for (r, g, b), count in colors.items()
                   if abs(r - tr) <= 24 and abs(g - tg) <= 24 and abs(b - tb) <= 24) for tr, tg, tb in targets]
    print(json.dumps({"width": width, "height": height, "distinct": len(colors),
                      "nonbackground": 1 - colors[(0xf4, 0xf5, 0xf7)] / (width * height), "matches": matches}))
    """#
}
