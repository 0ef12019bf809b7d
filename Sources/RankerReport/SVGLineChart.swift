import Foundation

/// A line chart rendered as inline SVG plus an XHTML legend: several series
/// over a shared step axis, linear or log y, optional min/max envelopes,
/// vertical markers and horizontal reference lines.
///
/// Output is well-formed XML (every text escaped with `XMLText`), needs no
/// script, font or network; colours come from the caller. Each series path
/// carries `data-series="name"` and each marker `data-marker="kind"`, so the
/// document can be inspected by tests or tools. The SVG scales to its
/// container's width (`viewBox`), its text size stays readable at 1100 px.
struct SVGLineChart {
    struct Series {
        /// Which bucket statistic the line follows.
        enum Aggregate {
            /// The bucket mean (the band shows min and max).
            case mean
            /// The bucket minimum (for a "minimum over …" series whose dips matter).
            case minimum
        }

        var name: String
        var color: String
        var points: [BucketedSeries.Point]
        /// Draw the min/max band of each bucket (skipped when every bucket holds one value).
        var showsEnvelope = true
        /// SVG `stroke-dasharray`, nil for solid.
        var dash: String?
        var lineWidth = 1.6
        /// Draw a dot at every point (for sparse series such as evaluations).
        var showsDots = false
        /// Listed in the legend.
        var inLegend = true
        var aggregate = Aggregate.mean

        func value(_ point: BucketedSeries.Point) -> Double { aggregate == .mean ? point.mean : point.minimum }
    }

    /// A vertical line at a step (events, best step).
    struct Marker {
        var step: Double
        var color: String
        /// Short text drawn at the top of the line (nil: none).
        var label: String?
        /// Hover text (`<title>`).
        var tooltip: String
        var kind: String
        var dash: String?
        var lineWidth = 1.2
    }

    /// A horizontal line at a y value (AUC 0.5, factor 1).
    struct ReferenceLine {
        var value: Double
        var label: String
        var color = "#888888"
    }

    var id: String
    var title: String
    var yLabel: String
    var xLabel = "step"
    var yScale: AxisScale = .linear
    /// Fixed x domain (charts of one report share it so they line up); nil: from the data.
    var xDomain: ClosedRange<Double>?
    /// Fixed y domain; nil: from the data (envelopes included).
    var yDomain: ClosedRange<Double>?
    /// Log scale: values below are drawn on the axis floor.
    var logFloor = 1e-12
    var width = 1100.0
    var height = 280.0
    var series: [Series] = []
    var markers: [Marker] = []
    var referenceLines: [ReferenceLine] = []
    /// Marker labels are drawn only when there are at most this many markers.
    var maximumMarkerLabels = 14
    var showsLegend = true
    /// Smaller fonts and margins (small multiples).
    var compact = false

    init(id: String, title: String, yLabel: String) {
        self.id = id
        self.title = title
        self.yLabel = yLabel
    }

    // MARK: layout

    var marginLeft: Double { compact ? 44 : 70 }
    var marginRight: Double { compact ? 12 : 18 }
    var marginTop: Double { compact ? 22 : (markers.contains { $0.label != nil } && markers.count <= maximumMarkerLabels ? 62 : 34) }
    var marginBottom: Double { compact ? 22 : 44 }
    var plotWidth: Double { width - marginLeft - marginRight }
    var plotHeight: Double { height - marginTop - marginBottom }

    func xAxis() -> ChartAxis {
        if let domain = xDomain { return ChartAxis(linearFrom: domain.lowerBound, to: domain.upperBound, targetTickCount: compact ? 3 : 8, nice: false) }
        let steps = series.flatMap { $0.points.map(\.step) } + markers.map(\.step)
        return ChartAxis(linearFrom: steps.min() ?? 0, to: steps.max() ?? 1, targetTickCount: compact ? 3 : 8, nice: false)
    }

    func yAxis() -> ChartAxis {
        let tickCount = compact ? 3 : 6
        if let domain = yDomain {
            switch yScale {
            case .linear: return ChartAxis(linearFrom: domain.lowerBound, to: domain.upperBound, targetTickCount: tickCount)
            case .logarithmic: return ChartAxis(logarithmicFrom: Swift.max(domain.lowerBound, logFloor), to: domain.upperBound, maximumTickCount: compact ? 5 : 9)
            }
        }
        var low = Double.infinity, high = -Double.infinity
        for s in series {
            for p in s.points {
                let a = s.showsEnvelope ? p.minimum : s.value(p), b = s.showsEnvelope ? p.maximum : s.value(p)
                if yScale == .logarithmic {
                    if a > logFloor { low = Swift.min(low, a) } else if b > 0 || a <= logFloor { low = Swift.min(low, logFloor) }
                    if b > 0 { high = Swift.max(high, b) }
                } else {
                    low = Swift.min(low, a)
                    high = Swift.max(high, b)
                }
            }
        }
        for line in referenceLines where line.value.isFinite && (yScale == .linear || line.value > 0) {
            low = Swift.min(low, line.value)
            high = Swift.max(high, line.value)
        }
        switch yScale {
        case .linear:
            return ChartAxis(linearFrom: low.isFinite ? low : 0, to: high.isFinite ? high : 1, targetTickCount: tickCount)
        case .logarithmic:
            let floor = low.isFinite && low > 0 ? low : logFloor
            return ChartAxis(logarithmicFrom: floor, to: high.isFinite && high > 0 ? high : Swift.max(floor * 10, 1), maximumTickCount: compact ? 5 : 9)
        }
    }

    // MARK: rendering

    /// The `<figure>`: SVG chart and (unless `showsLegend` is off) its legend.
    func render() -> String {
        let x = xAxis(), y = yAxis()
        let left = marginLeft, top = marginTop, plotW = plotWidth, plotH = plotHeight
        func px(_ step: Double) -> Double { left + x.fraction(step) * plotW }
        func py(_ value: Double) -> Double {
            let v = yScale == .logarithmic ? Swift.max(value, y.lower) : value
            return top + (1 - y.fraction(v)) * plotH
        }
        let clipID = "clip-\(id)"
        var svg = ""
        svg.reserveCapacity(4096 + series.reduce(0) { $0 + $1.points.count * 40 })
        svg += "<svg xmlns=\"http://www.w3.org/2000/svg\" class=\"chart\(compact ? " compact" : "")\" viewBox=\"0 0 \(n(width)) \(n(height))\" width=\"\(n(width))\" height=\"\(n(height))\" role=\"img\" aria-label=\"\(XMLText.escape(title))\">"
        svg += "<title>\(XMLText.escape(title))</title>"
        svg += "<defs><clipPath id=\"\(clipID)\"><rect x=\"\(n(left))\" y=\"\(n(top))\" width=\"\(n(plotW))\" height=\"\(n(plotH))\"/></clipPath></defs>"
        svg += "<text class=\"chart-title\" x=\"\(n(left))\" y=\"\(compact ? 14 : 20)\">\(XMLText.escape(title))</text>"
        svg += "<rect class=\"plot-area\" x=\"\(n(left))\" y=\"\(n(top))\" width=\"\(n(plotW))\" height=\"\(n(plotH))\"/>"

        // grid and y ticks
        for tick in y.ticks where tick >= y.lower * (1 - 1e-12) && tick <= y.upper * (1 + 1e-12) + (yScale == .linear ? 1e-12 : 0) {
            let ty = py(tick)
            let decade = yScale != .logarithmic || Swift.abs(log10(tick) - log10(tick).rounded()) < 1e-9
            svg += "<line class=\"grid\(decade ? "" : " minor")\" x1=\"\(n(left))\" x2=\"\(n(left + plotW))\" y1=\"\(n(ty))\" y2=\"\(n(ty))\"/>"
            svg += "<text class=\"tick y\" x=\"\(n(left - 6))\" y=\"\(n(ty))\" dominant-baseline=\"central\">\(XMLText.escape(y.label(tick)))</text>"
        }
        // x ticks
        for tick in x.ticks {
            let tx = px(tick)
            svg += "<line class=\"grid vertical\" x1=\"\(n(tx))\" x2=\"\(n(tx))\" y1=\"\(n(top))\" y2=\"\(n(top + plotH))\"/>"
            let anchor = tx > left + plotW - 12 ? " style=\"text-anchor: end\"" : ""
            svg += "<text class=\"tick x\"\(anchor) x=\"\(n(tx))\" y=\"\(n(top + plotH + (compact ? 13 : 16)))\">\(XMLText.escape(ChartAxis.stepLabel(tick)))</text>"
        }
        if !compact {
            svg += "<text class=\"axis-label\" x=\"\(n(left + plotW / 2))\" y=\"\(n(height - 6))\">\(XMLText.escape(xLabel))</text>"
            svg += "<text class=\"axis-label\" transform=\"translate(14 \(n(top + plotH / 2))) rotate(-90)\">\(XMLText.escape(yLabel))</text>"
        }

        // reference lines
        for line in referenceLines where line.value.isFinite && line.value >= y.lower && line.value <= y.upper {
            let ly = py(line.value)
            svg += "<g class=\"reference\" data-reference=\"\(XMLText.escape(line.label))\"><title>\(XMLText.escape(line.label))</title>"
            svg += "<line x1=\"\(n(left))\" x2=\"\(n(left + plotW))\" y1=\"\(n(ly))\" y2=\"\(n(ly))\" stroke=\"\(line.color)\" stroke-dasharray=\"2 3\"/>"
            svg += "<text class=\"reference-label\" x=\"\(n(left + plotW - 4))\" y=\"\(n(ly - 4))\" fill=\"\(line.color)\">\(XMLText.escape(line.label))</text></g>"
        }

        // markers, behind the series so a spike at an event stays visible
        let labelled = markers.count <= maximumMarkerLabels && !compact
        for (index, marker) in markers.enumerated() where marker.step >= x.lower && marker.step <= x.upper {
            let mx = px(marker.step)
            let dash = marker.dash.map { " stroke-dasharray=\"\($0)\"" } ?? ""
            svg += "<g class=\"marker\" data-marker=\"\(XMLText.escape(marker.kind))\"><title>\(XMLText.escape(marker.tooltip))</title>"
            svg += "<line x1=\"\(n(mx))\" x2=\"\(n(mx))\" y1=\"\(n(top))\" y2=\"\(n(top + plotH))\" stroke=\"\(marker.color)\" stroke-width=\"\(marker.lineWidth)\"\(dash)/>"
            if labelled, let label = marker.label {
                let row = Double(index % 3)
                svg += "<text class=\"marker-label\" x=\"\(n(mx))\" y=\"\(n(top - 6 - row * 12))\" fill=\"\(marker.color)\">\(XMLText.escape(label))</text>"
            }
            svg += "</g>"
        }
        // series: envelopes first, lines over them
        svg += "<g clip-path=\"url(#\(clipID))\">"
        for s in series where s.showsEnvelope && s.points.contains(where: { $0.count > 1 && $0.maximum > $0.minimum }) {
            var d = "M"
            for p in s.points { d += "\(n(px(p.step))) \(n(py(p.maximum))) " }
            for p in s.points.reversed() { d += "L\(n(px(p.step))) \(n(py(p.minimum))) " }
            d += "Z"
            svg += "<path class=\"envelope\" data-envelope=\"\(XMLText.escape(s.name))\" d=\"\(d)\" fill=\"\(s.color)\" stroke=\"\(s.color)\"/>"
        }
        for s in series where !s.points.isEmpty {
            svg += "<g class=\"series\" data-series=\"\(XMLText.escape(s.name))\" data-points=\"\(s.points.count)\"><title>\(XMLText.escape(s.name))</title>"
            if s.points.count > 1 {
                var d = ""
                d.reserveCapacity(s.points.count * 14)
                for (index, p) in s.points.enumerated() {
                    d += index == 0 ? "M" : "L"
                    d += "\(n(px(p.step))) \(n(py(s.value(p))))"
                }
                let dash = s.dash.map { " stroke-dasharray=\"\($0)\"" } ?? ""
                svg += "<path class=\"line\" d=\"\(d)\" stroke=\"\(s.color)\" stroke-width=\"\(s.lineWidth)\"\(dash)/>"
            }
            if s.showsDots || s.points.count == 1 {
                for p in s.points {
                    svg += "<circle cx=\"\(n(px(p.step)))\" cy=\"\(n(py(s.value(p))))\" r=\"\(compact ? 1.8 : 2.6)\" fill=\"\(s.color)\"/>"
                }
            }
            svg += "</g>"
        }
        svg += "</g>"

        svg += "</svg>"

        guard showsLegend else { return "<figure class=\"chart-figure\" id=\"\(XMLText.escape(id))\">\(svg)</figure>" }
        var legend = "<ul class=\"legend\">"
        for s in series where s.inLegend {
            let style = s.dash == nil ? "border-top: 3px solid \(s.color)" : "border-top: 3px dashed \(s.color)"
            let empty = s.points.isEmpty ? " (no data)" : ""
            legend += "<li><span class=\"swatch\" style=\"\(style)\"></span>\(XMLText.escape(s.name + empty))</li>"
        }
        legend += "</ul>"
        return "<figure class=\"chart-figure\" id=\"\(XMLText.escape(id))\">\(svg)\(legend)</figure>"
    }

    /// A coordinate with one decimal (`12.3`, `-4.0` as `-4`), enough at 1100 px.
    private func n(_ value: Double) -> String {
        guard value.isFinite else { return "0" }
        let tenths = Int((value * 10).rounded())
        let magnitude = Swift.abs(tenths)
        let sign = tenths < 0 ? "-" : ""
        return magnitude % 10 == 0 ? "\(sign)\(magnitude / 10)" : "\(sign)\(magnitude / 10).\(magnitude % 10)"
    }
}
