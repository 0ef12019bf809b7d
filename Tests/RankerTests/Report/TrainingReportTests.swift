import Foundation
#if canImport(FoundationXML)
import FoundationXML
#endif
import XCTest
@testable import Ranker
@testable import RankerReport

final class TrainingReportTests: XCTestCase {
    private var directories: [URL] = []

    override func tearDown() {
        for directory in directories { try? FileManager.default.removeItem(at: directory) }
        directories = []
        super.tearDown()
    }

    private func runDirectory(with lines: [String], terminateLastLine: Bool = true) throws -> URL {
        let directory = try TelemetryFixture.makeRunDirectory()
        directories.append(directory)
        try TelemetryFixture.write(lines, to: directory, terminateLastLine: terminateLastLine)
        return directory
    }

    // MARK: a realistic run

    func testRealisticRunWritesWellFormedReportWithEverySection() throws {
        let fixture = TelemetryFixture()
        let written = fixture.generate()
        let directory = try runDirectory(with: written.lines)
        try Data("{\"model\": \"mmoe\", \"note\": \"a < b & c\"}".utf8).write(to: directory.appendingPathComponent("config.json"))

        let url = try TrainingReport.writeReport(runDirectory: directory)
        XCTAssertEqual(url.lastPathComponent, "report.html")
        let html = try String(contentsOf: url, encoding: .utf8)
        XCTAssertTrue(html.hasPrefix("<!DOCTYPE html>\n<html xmlns=\"http://www.w3.org/1999/xhtml\""))
        XCTAssertFalse(html.contains("<script"), "the report needs no script")
        // self-contained: no URL but namespace names, no linked file, only in-document url(#…) references
        XCTAssertFalse(html.replacingOccurrences(of: "http://www.w3.org/", with: "").contains("http://"))
        XCTAssertFalse(html.contains("https://"))
        XCTAssertFalse(html.contains("src=") || html.contains("href=") || html.contains("<link") || html.contains("@import"))
        XCTAssertEqual(html.components(separatedBy: "url(").count - 1, html.components(separatedBy: "url(#").count - 1)
        let xml = try ReportXML(html: html)
        XCTAssertEqual(xml.document.rootElement()?.localName, "html")
        XCTAssertEqual(xml.document.rootElement()?.uri, "http://www.w3.org/1999/xhtml")

        for id in ["summary", "losses", "validation", "weights", "clipping", "gradients", "health", "events", "configuration"] {
            XCTAssertNotNil(try xml.element(id: id), "section \(id)")
        }
        XCTAssertTrue(try xml.text(of: "configuration").contains("a < b & c"))

        // header
        let header = try xml.text(of: "summary")
        XCTAssertTrue(header.contains("mmoe-synthetic"))
        XCTAssertTrue(header.contains("clippy_adagrad"))
        XCTAssertTrue(header.contains("gradcraft (gradient coefficients)"))
        XCTAssertTrue(header.contains("completed"))
        XCTAssertTrue(header.contains("\(written.stepLines) step lines"), "every step line, replayed ones included")
        let bestRow = try xml.nodes("//*[@id='summary']//*[local-name()='dt'][.='Best step']/following-sibling::*[1]")
        XCTAssertEqual(bestRow.first?.stringValue, String(written.bestStep))
        XCTAssertEqual(try xml.nodes("//*[@id='test-metrics']//*[local-name()='tbody']/*[local-name()='tr']").count, 3)
        XCTAssertNotNil(try xml.element(id: "best-validation-metrics"))

        // losses: one chart per task, each with its own series and the right events
        for (k, task) in fixture.tasks.enumerated() {
            XCTAssertEqual(try xml.seriesNames(in: "loss-\(k)"), [task])
        }
        let clickMarkers = try xml.markerKinds(in: "loss-0")
        XCTAssertEqual(Set(clickMarkers), ["spike", "recovered", "rollback", "skip"], "task-less events on every chart, task events on their task's")
        XCTAssertEqual(Set(try xml.markerKinds(in: "loss-1")), ["divergence", "rollback", "skip"])
        XCTAssertEqual(Set(try xml.markerKinds(in: "loss-2")), ["nan", "rollback", "skip"])

        // the one-step spike of 9.5 survives downsampling: the envelope top maps back to it
        let spikeTop = try envelopeMaximum(chart: "loss-0", xml: xml)
        XCTAssertEqual(spikeTop, written.maximumLoss[0], accuracy: 0.02)

        // validation, weights, clipping, gradients
        XCTAssertEqual(try xml.seriesNames(in: "validation-auc"), fixture.tasks + ["mean AUC"])
        XCTAssertEqual(try xml.markerKinds(in: "validation-auc"), ["best"])
        XCTAssertEqual(try xml.seriesNames(in: "validation-gauc"), fixture.tasks)
        XCTAssertTrue(try xml.text(of: "weights").contains("Gradient combination coefficients"))
        XCTAssertEqual(try xml.seriesNames(in: "weights-chart"), fixture.tasks)
        let overview = try xml.seriesNames(in: "clipping-overview")
        XCTAssertEqual(overview.count, 2 + TrainingReportDocument.overviewTensorCount)
        XCTAssertEqual(overview[1], written.mostClippedTensor, "most clipped tensor drawn first")
        XCTAssertTrue(overview.contains("minimum over tensors") && overview.contains("median over tensors"))
        for (index, name) in written.parameters.enumerated() {
            XCTAssertEqual(try xml.seriesNames(in: "clip-\(index)"), [name], "small multiple \(index) in model order")
        }
        let clippedRows = try xml.nodes("//*[@id='clipping-table']//*[local-name()='tbody']/*[local-name()='tr']/*[1]").compactMap(\.stringValue)
        XCTAssertEqual(Set(clippedRows), written.clippedTensors)
        XCTAssertEqual(clippedRows.count, written.clippedTensors.count)
        let neverClipped = try xml.text(of: "never-clipped")
        for name in written.parameters where !written.clippedTensors.contains(name) {
            XCTAssertTrue(neverClipped.contains(name), name)
        }
        XCTAssertEqual(try xml.seriesNames(in: "conflict-rate"), ["per bucket", "moving average"])
        XCTAssertEqual(try xml.seriesNames(in: "gradient-norms"), fixture.tasks)
        XCTAssertEqual(try xml.seriesNames(in: "gradient-cosines"), ["click · like", "click · finish", "like · finish"])
        XCTAssertEqual(try xml.nodes("//*[@id='event-table']//*[local-name()='tbody']/*[local-name()='tr']").count, written.events.count)

        // no series exceeds the point budget
        for node in try xml.nodes("//*[@data-points]") {
            let count = Int(ReportXML.attribute("data-points", of: node)!)!
            XCTAssertLessThanOrEqual(count, 2000)
        }
    }

    /// The value at the top of a chart's first envelope, read back through its
    /// y tick labels (linear axis): independent of how the chart computed it.
    private func envelopeMaximum(chart: String, xml: ReportXML) throws -> Double {
        let ticks = try xml.nodes("//*[@id='\(chart)']//*[local-name()='text'][contains(@class,'tick y')]").map { node -> (value: Double, y: Double) in
            let element = node as! XMLElement
            return (Double(element.stringValue!)!, Double(ReportXML.attribute("y", of: element)!)!)
        }
        XCTAssertGreaterThanOrEqual(ticks.count, 2)
        let (a, b) = (ticks.first!, ticks.last!)
        let path = try xml.nodes("//*[@id='\(chart)']//*[@data-envelope]").first as! XMLElement
        let numbers = ReportXML.attribute("d", of: path)!
            .split(whereSeparator: { "MLZ ".contains($0) }).compactMap { Double($0) }
        let ys = stride(from: 1, to: numbers.count, by: 2).map { numbers[$0] }
        let top: Double = ys.min()!
        let valuePerPixel: Double = (b.value - a.value) / (b.y - a.y)
        return a.value + (top - a.y) * valuePerPixel
    }

    func testLongRunStaysWithinThePointBudgetAndKeepsTheSpike() throws {
        var fixture = TelemetryFixture()
        fixture.stepCount = 30_000
        fixture.withClipFactors = false
        fixture.withGradients = false
        fixture.evalEvery = 1000
        let written = fixture.generate()
        let report = try TrainingReport(runDirectory: try runDirectory(with: written.lines))
        let xml = try ReportXML(html: report.html)
        let counts = try xml.nodes("//*[@id='loss-0']//*[@data-points]").map { Int(ReportXML.attribute("data-points", of: $0)!)! }
        XCTAssertEqual(counts.count, 1)
        XCTAssertLessThanOrEqual(counts[0], TrainingReportDocument.pointsPerSeries)
        XCTAssertGreaterThan(counts[0], TrainingReportDocument.pointsPerSeries / 4)
        XCTAssertEqual(try envelopeMaximum(chart: "loss-0", xml: xml), written.maximumLoss[0], accuracy: 0.02)
        XCTAssertTrue(try xml.text(of: "clipping").contains("not recorded"))
        XCTAssertTrue(try xml.text(of: "gradients").contains("not recorded"))
    }

    // MARK: hostile names

    func testHostileNamesAreEscapedAndReadBackExactly() throws {
        var fixture = TelemetryFixture()
        fixture.name = "<script>alert(\"x\")</script> & ]]> \u{1}end"
        fixture.tasks = ["a<b", "x & y", "q\"uote's"]
        fixture.stepCount = 300
        fixture.evalEvery = 100
        let written = fixture.generate()
        var lines = written.lines
        lines.insert("{\"type\": \"event\", \"step\": 50, \"kind\": \"<kind>\", \"task\": \"x & y\", \"message\": \"</td></tr><b>\"}", at: 5)
        let report = try TrainingReport(runDirectory: try runDirectory(with: lines))
        let xml = try ReportXML(html: report.html)

        XCTAssertEqual(try xml.nodes("//*[local-name()='script']").count, 0)
        XCTAssertEqual(try xml.nodes("//*[local-name()='h1']").first?.stringValue, "<script>alert(\"x\")</script> & ]]> \u{FFFD}end")
        for (k, task) in fixture.tasks.enumerated() {
            XCTAssertEqual(try xml.seriesNames(in: "loss-\(k)"), [task])
        }
        XCTAssertEqual(try xml.seriesNames(in: "validation-auc"), fixture.tasks + ["mean AUC"])
        XCTAssertEqual(try xml.markerKinds(in: "loss-1"), ["<kind>"])
        let rows = try xml.nodes("//*[@id='event-table']//*[local-name()='tbody']/*[local-name()='tr']")
        XCTAssertTrue(rows.contains { $0.stringValue?.contains("</td></tr><b>") == true })
        XCTAssertEqual(try xml.nodes("//*[@id='event-table']//*[local-name()='b']").count, 0)
    }

    // MARK: damaged files

    func testTruncatedLastLineIsSkippedAndReported() throws {
        var fixture = TelemetryFixture()
        fixture.stepCount = 200
        fixture.withEnd = false
        let lines = fixture.generate().lines
        let complete = lines.count
        let partial = "{\"type\": \"step\", \"step\": 200, \"epoch\": 0, \"losses\": [0.5, 0."
        let report = try TrainingReport(runDirectory: try runDirectory(with: lines + [partial], terminateLastLine: false))
        XCTAssertEqual(report.notes.count, 1)
        XCTAssertTrue(report.notes[0].contains("line \(complete + 1)"), report.notes[0])
        XCTAssertTrue(report.notes[0].contains("\(partial.utf8.count) bytes"))
        let xml = try ReportXML(html: report.html)
        XCTAssertTrue(try xml.text(of: "summary").contains("line \(complete + 1)"))
        XCTAssertTrue(try xml.text(of: "summary").contains("200 step lines"), "the partial line is not counted")
        XCTAssertTrue(try xml.text(of: "summary").contains("no end line"))

        // an unterminated last line that is complete JSON is a normal record
        let whole = try TrainingReport(runDirectory: try runDirectory(with: lines, terminateLastLine: false))
        XCTAssertTrue(whole.notes.isEmpty)
        XCTAssertTrue(try ReportXML(html: whole.html).text(of: "summary").contains("200 step lines"))
    }

    func testMalformedLinesAreReportedWithTheirLineNumber() throws {
        var fixture = TelemetryFixture()
        fixture.stepCount = 20
        let lines = fixture.generate().lines
        let cases: [(String, String)] = [
            ("not json at all", "not valid JSON"),
            ("[1, 2, 3]", "expected a JSON object"),
            ("{\"step\": 3}", "no \"type\" field"),
            ("{\"type\": \"step\", \"step\": 5, \"losses\": \"oops\"}", "\"losses\""),
            ("{\"type\": \"step\", \"step\": 5, \"losses\": [0.1, 0.2]}", "has 2 entries but the run line names 3 tasks"),
            ("{\"type\": \"step\", \"losses\": [0.1, 0.2, 0.3]}", "missing field \"step\""),
            ("{\"type\": \"step\", \"step\": 5.5, \"losses\": [0.1, 0.2, 0.3]}", "\"step\": expected an integer"),
            ("{\"type\": \"eval\", \"step\": 5, \"metrics\": {\"click\": 0.7}}", "task \"click\""),
            ("{\"type\": \"step\", \"step\": 5, \"losses\": [0.1, 0.2, 0.3], \"clip_factors\": {\"w\": \"1\"}}", "entry \"w\""),
        ]
        for (bad, expected) in cases {
            var damaged = lines
            damaged.insert(bad, at: 3)                      // becomes line 4
            let directory = try runDirectory(with: damaged)
            XCTAssertThrowsError(try TrainingReport(runDirectory: directory), bad) { error in
                guard case TelemetryLogError.malformedLine(let path, let line, let reason, _) = error else {
                    return XCTFail("expected malformedLine for \(bad), got \(error)")
                }
                XCTAssertEqual(line, 4, bad)
                XCTAssertTrue(path.hasSuffix("telemetry.jsonl"))
                XCTAssertTrue(reason.contains(expected), "\(reason) should mention \(expected)")
                XCTAssertTrue("\(error)".contains("telemetry.jsonl:4:"), "\(error)")
            }
        }
        // a damaged line in the middle is an error even without a newline after the one before it
        let directory = try runDirectory(with: Array(lines.prefix(3)) + ["{\"type\": \"step\", \"st"] + Array(lines.dropFirst(3)))
        XCTAssertThrowsError(try TrainingReport(runDirectory: directory)) { error in
            guard case TelemetryLogError.malformedLine(_, 4, _, _) = error else { return XCTFail("\(error)") }
        }
    }

    func testEmptyMissingAndHeaderlessTelemetryGiveClearErrors() throws {
        let empty = try runDirectory(with: [])
        XCTAssertThrowsError(try TrainingReport.writeReport(runDirectory: empty)) { error in
            XCTAssertEqual(error as? TelemetryLogError, .empty(path: empty.appendingPathComponent("telemetry.jsonl").path))
            XCTAssertTrue("\(error)".contains("empty telemetry"))
        }
        let blank = try runDirectory(with: ["", "   ", ""])
        XCTAssertThrowsError(try TrainingReport(runDirectory: blank)) { error in
            guard case TelemetryLogError.empty = error else { return XCTFail("\(error)") }
        }
        XCTAssertFalse(FileManager.default.fileExists(atPath: empty.appendingPathComponent("report.html").path), "no report written on error")

        let missing = try TelemetryFixture.makeRunDirectory()
        directories.append(missing)
        XCTAssertThrowsError(try TrainingReport(runDirectory: missing)) { error in
            guard case TelemetryLogError.missingFile(let path) = error else { return XCTFail("\(error)") }
            XCTAssertTrue(path.hasSuffix("telemetry.jsonl"))
        }

        let headerless = try runDirectory(with: ["", "{\"type\": \"step\", \"step\": 0, \"losses\": [0.5]}"])
        XCTAssertThrowsError(try TrainingReport(runDirectory: headerless)) { error in
            guard case TelemetryLogError.missingRunLine(_, 2) = error else { return XCTFail("\(error)") }
        }
    }

    func testMinimalRunSaysWhatWasNotRecorded() throws {
        var fixture = TelemetryFixture()
        fixture.stepCount = 50
        fixture.withClipFactors = false
        fixture.withGradients = false
        fixture.evalEvery = 0
        fixture.withEnd = false
        fixture.combiner = "fixed"
        fixture.combinerKind = "loss_weights"
        fixture.optimizer = "adagrad"
        var lines = fixture.generate().lines
        lines.append("{\"type\": \"future\", \"step\": 50}")
        let report = try TrainingReport(runDirectory: try runDirectory(with: lines))
        XCTAssertEqual(report.notes, ["1 line of unknown type \"future\" ignored."])
        let xml = try ReportXML(html: report.html)
        XCTAssertTrue(try xml.text(of: "validation").contains("not recorded"))
        XCTAssertTrue(try xml.text(of: "clipping").contains("not recorded"))
        XCTAssertTrue(try xml.text(of: "gradients").contains("not recorded"))
        XCTAssertTrue(try xml.text(of: "test-metrics").contains("not recorded"))
        XCTAssertTrue(try xml.text(of: "summary").contains("no end line"))
        XCTAssertTrue(try xml.text(of: "weights").contains("Task loss weights"))
        XCTAssertNil(try xml.element(id: "configuration"))
    }

    func testWriteToAnUnwritablePlaceThrowsWithThePath() throws {
        var fixture = TelemetryFixture()
        fixture.stepCount = 5
        let report = try TrainingReport(runDirectory: try runDirectory(with: fixture.generate().lines))
        let target = URL(fileURLWithPath: "/nonexistent-\(UUID().uuidString)/report.html")
        XCTAssertThrowsError(try report.write(to: target)) { error in
            XCTAssertEqual((error as? TrainingReportWriteError)?.path, target.path)
        }
    }
}
