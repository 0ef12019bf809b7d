import Foundation
import Ranker

/// `stability.html`: the stability sweep's figures as one self-contained
/// XHTML document in the style of `report.html` (inline CSS and SVG, no
/// script, no external resource). Per setting: the fraction of diverged
/// seeds against the learning-rate multiplier, one line per method; the
/// best (mean over seeds) final AUC against the multiplier; the setting's
/// table; and the list of paper claims with their verdicts.
///
/// The x axis is `log2(multiplier)` (0 = 1×, 4 = 16×), so that the √2 grid
/// is evenly spaced.
public struct StabilitySweepDocument {
    /// One method's values per multiplier (nil: no value, e.g. no AUC).
    public struct Line: Sendable {
        public var method: String
        public var multipliers: [Double]
        public var values: [Double?]

        public init(method: String, multipliers: [Double], values: [Double?]) {
            self.method = method
            self.multipliers = multipliers
            self.values = values
        }
    }

    /// One setting's section.
    public struct Setting: Sendable {
        public var name: String
        /// A sentence about the data and the model.
        public var description: String
        public var divergedFraction: [Line]
        public var meanAUC: [Line]
        public var tableHeader: [String]
        public var tableRows: [[String]]
        /// One line per paper claim (verdict and numbers).
        public var claims: [String]
        /// Links shown under the section (text, relative href).
        public var links: [(text: String, href: String)]

        public init(name: String, description: String, divergedFraction: [Line], meanAUC: [Line], tableHeader: [String],
                    tableRows: [[String]], claims: [String], links: [(text: String, href: String)] = []) {
            self.name = name
            self.description = description
            self.divergedFraction = divergedFraction
            self.meanAUC = meanAUC
            self.tableHeader = tableHeader
            self.tableRows = tableRows
            self.claims = claims
            self.links = links
        }
    }

    public var title: String
    /// Paragraphs under the title (the divergence rule, the grid, the seeds).
    public var notes: [String]
    public var settings: [Setting]

    public init(title: String, notes: [String], settings: [Setting]) {
        self.title = title
        self.notes = notes
        self.settings = settings
    }

    /// The document.
    public func render() -> String {
        var body = "<header class=\"report\"><h1>\(XMLText.escape(title))</h1>"
        for n in notes { body += "<p class=\"muted\">\(XMLText.escape(n))</p>" }
        body += "</header>\n"
        for (index, s) in settings.enumerated() { body += section(s, index: index) }
        return ReportPage.html(title: title, body: body)
    }

    private func chart(id: String, title: String, yLabel: String, lines: [Line],
                       yDomain: ClosedRange<Double>?) -> String {
        var chart = SVGLineChart(id: id, title: title, yLabel: yLabel)
        chart.xLabel = "learning-rate multiplier, log2 (0 = 1x, 1 = 2x, 2 = 4x, 3 = 8x, 4 = 16x)"
        chart.yDomain = yDomain
        chart.height = 300
        let all = lines.flatMap(\.multipliers).filter { $0 > 0 }
        if let low = all.min(), let high = all.max() { chart.xDomain = log2(low)...max(log2(high), log2(low) + 1) }
        for (i, line) in lines.enumerated() {
            let points = zip(line.multipliers, line.values).compactMap { m, v -> BucketedSeries.Point? in
                guard let v, v.isFinite, m > 0 else { return nil }
                return BucketedSeries.Point(step: log2(m), mean: v, minimum: v, maximum: v, count: 1)
            }
            // Dashes tell apart lines that lie on each other (0 diverged).
            let dashes: [String?] = [nil, "6 3", "2 3", "8 3 2 3", "4 4"]
            chart.series.append(.init(name: line.method, color: ReportPalette.color(i), points: points, showsEnvelope: false,
                                      dash: dashes[i % dashes.count], lineWidth: 2, showsDots: true))
        }
        return chart.render()
    }

    private func section(_ s: Setting, index: Int) -> String {
        var html = "<section id=\"setting-\(XMLText.escape(s.name))\"><h2>Setting: \(XMLText.escape(s.name))</h2>"
        html += "<p>\(XMLText.escape(s.description))</p>"
        html += chart(id: "diverged-\(index)", title: "Fraction of seeds diverged (\(s.name))",
                      yLabel: "diverged fraction", lines: s.divergedFraction, yDomain: 0...1)
        let aucs = s.meanAUC.flatMap(\.values).compactMap { $0 }.filter(\.isFinite)
        let low = max(0.5, (aucs.min() ?? 0.5) - 0.01), high = min(1, (aucs.max() ?? 1) + 0.01)
        html += chart(id: "auc-\(index)", title: "Mean final AUC over seeds (\(s.name); diverged seeds included)",
                      yLabel: "mean final AUC", lines: s.meanAUC, yDomain: low...max(high, low + 0.02))
        html += "<table><caption>Diverged seeds per multiplier, stability edge, half-divergence multiplier, best AUC</caption><tr>"
        for (c, h) in s.tableHeader.enumerated() { html += "<th\(c == 0 ? " class=\"text\"" : "")>\(XMLText.escape(h))</th>" }
        html += "</tr>"
        for row in s.tableRows {
            html += "<tr>"
            for (c, v) in row.enumerated() { html += "<td\(c == 0 ? " class=\"text\"" : "")>\(XMLText.escape(v))</td>" }
            html += "</tr>"
        }
        html += "</table><h3>The paper's claims</h3><ul>"
        for c in s.claims { html += "<li>\(XMLText.escape(c))</li>" }
        html += "</ul>"
        if !s.links.isEmpty {
            html += "<p>"
            html += s.links.map { "<a href=\"\(XMLText.escape($0.href))\">\(XMLText.escape($0.text))</a>" }
                .joined(separator: " · ")
            html += "</p>"
        }
        return html + "</section>\n"
    }
}
