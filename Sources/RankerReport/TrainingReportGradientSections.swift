import Foundation
import Ranker

/// The report's sections of the optimizer and the gradients: clipping
/// factors per tensor, per-task gradient norms, cosines and conflicts, run
/// health (learning rate, throughput) and the event table.
extension TrainingReportDocument {
    // MARK: clipping

    func clippingSection() -> String {
        var html = "<section id=\"clipping\"><h2>Clipping factors per tensor</h2>"
        let ranked = summary.tensorsByClipping
        guard !ranked.isEmpty else {
            return html + "<p class=\"not-recorded\">Clipping factors not recorded (the optimizer reports none, e.g. plain Adagrad).</p></section>\n"
        }
        html += "<p class=\"muted\">The factor by which the optimizer scaled each tensor's update (1 = unclipped; Clippy's sigma, or the GC/AGC factor), on a log scale. A factor of 0 is drawn on the axis floor.</p>"
        // one y domain for every clipping chart so they compare
        var lowest = 1.0
        for name in ranked {
            if let minimum = summary.clipStatistics[name]?.minimum, minimum > 0 { lowest = min(lowest, minimum) }
            else if summary.clipStatistics[name]?.minimum == 0 { lowest = min(lowest, 1e-8) }
        }
        let domain = max(lowest, TrainingRunSummary.clipFloor)...1.0

        var overview = SVGLineChart(id: "clipping-overview", title: "Most clipped tensors, and the minimum and median over all \(ranked.count) tensors", yLabel: "clipping factor")
        overview.xDomain = xDomain
        overview.yScale = .logarithmic
        overview.yDomain = domain
        overview.height = 320
        overview.series.append(.init(name: "minimum over tensors", color: ReportPalette.gray, points: summary.clipMinimum.points(maxCount: Self.pointsPerSeries),
                                     showsEnvelope: false, dash: "3 2", lineWidth: 1.4, aggregate: .minimum))
        for (index, name) in ranked.prefix(Self.overviewTensorCount).enumerated() {
            overview.series.append(.init(name: name, color: ReportPalette.color(index), points: summary.clipFactors[name]!.points(maxCount: Self.pointsPerSeries), showsEnvelope: false))
        }
        overview.series.append(.init(name: "median over tensors", color: ReportPalette.dark, points: summary.clipMedian.points(maxCount: Self.pointsPerSeries), showsEnvelope: false, dash: "7 3", lineWidth: 2.4))
        overview.referenceLines.append(.init(value: 1, label: "unclipped", color: "#888888"))
        html += overview.render()

        // small multiples in model order
        let modelOrder = summary.clipOrder.filter { summary.clipFactors[$0] != nil }
        html += "<h3>Per tensor (model order; line: mean per bucket, band: min–max)</h3><div class=\"multiples\">"
        for (index, name) in modelOrder.prefix(Self.smallMultipleLimit).enumerated() {
            let title = name.count > 38 ? String(name.prefix(37)) + "…" : name
            var chart = SVGLineChart(id: "clip-\(index)", title: title, yLabel: "factor")
            chart.compact = true
            chart.width = 270
            chart.height = 130
            chart.xDomain = xDomain
            chart.yScale = .logarithmic
            chart.yDomain = domain
            chart.showsLegend = false
            let rank = ranked.firstIndex(of: name)!
            let color = rank < Self.overviewTensorCount ? ReportPalette.color(rank) : ReportPalette.series[0]
            chart.series = [.init(name: name, color: color, points: summary.clipFactors[name]!.points(maxCount: Self.pointsPerSmallMultiple), lineWidth: 1.2)]
            html += chart.render()
        }
        html += "</div>"
        if modelOrder.count > Self.smallMultipleLimit {
            html += "<p class=\"muted\">\(modelOrder.count - Self.smallMultipleLimit) more tensors not drawn; see the table.</p>"
        }
        // table of the clipped tensors; the never clipped ones named after it
        let clipped = ranked.filter { (summary.clipStatistics[$0]?.clippedSteps ?? 0) > 0 }
        let unclipped = ranked.filter { (summary.clipStatistics[$0]?.clippedSteps ?? 0) == 0 }
        if !clipped.isEmpty {
            html += "<table id=\"clipping-table\"><caption>Clipped tensors, most clipped first</caption><thead><tr><th>tensor</th><th>geometric mean factor</th><th>steps clipped</th><th>minimum factor</th></tr></thead><tbody>"
            for name in clipped.prefix(200) {
                let statistics = summary.clipStatistics[name] ?? .init()
                let fraction = statistics.steps == 0 ? 0 : Double(statistics.clippedSteps) / Double(statistics.steps)
                html += "<tr><td class=\"text\">\(XMLText.escape(name))</td><td>\(Self.number(statistics.geometricMean))</td>"
                html += "<td>\(statistics.clippedSteps) (\(String(format: "%.1f", 100 * fraction)) %)</td><td>\(statistics.minimum.isFinite ? Self.number(statistics.minimum) : "–")</td></tr>"
            }
            html += "</tbody></table>"
            if clipped.count > 200 { html += "<p class=\"muted\">\(clipped.count - 200) more clipped tensors not listed.</p>" }
        }
        if !unclipped.isEmpty {
            html += "<p class=\"muted\" id=\"never-clipped\">Never clipped (\(unclipped.count)): \(XMLText.escape(unclipped.joined(separator: ", "))).</p>"
        }
        return html + "</section>\n"
    }

    // MARK: gradients

    func gradientSection() -> String {
        var html = "<section id=\"gradients\"><h2>Task gradients</h2>"
        let hasConflicts = !summary.conflictRate.isEmpty
        let hasNorms = summary.gradientNorms.contains { !$0.isEmpty }
        let hasCosines = summary.cosines.contains { !$0.isEmpty }
        guard hasConflicts || hasNorms || hasCosines else {
            return html + "<p class=\"not-recorded\">Per-task gradients not recorded (the combiner computes no per-task gradients).</p></section>\n"
        }
        if hasConflicts {
            let t = summary.tasks.count
            html += "<p class=\"muted\">Conflict rate: conflicting task pairs (negative cosine) over all \(t * (t - 1) / 2) pairs, per step; thick line: moving average.</p>"
            var chart = SVGLineChart(id: "conflict-rate", title: "Gradient-conflict rate", yLabel: "conflicting pairs / all pairs")
            chart.xDomain = xDomain
            chart.yDomain = 0...1
            chart.height = 240
            let raw = summary.conflictRate.points(maxCount: Self.pointsPerSeries)
            chart.series = [
                .init(name: "per bucket", color: "#9fb8d6", points: raw, showsEnvelope: false, lineWidth: 1),
                .init(name: "moving average", color: ReportPalette.series[0], points: Self.movingAverage(raw), showsEnvelope: false, lineWidth: 2.4),
            ]
            html += chart.render()
            if summary.pseudoInverseFallbacks > 0 {
                html += "<p class=\"muted\">Pseudo-inverse fallbacks (singular Gram matrix): \(summary.pseudoInverseFallbacks) in total.</p>"
            }
        }
        if hasNorms {
            var chart = SVGLineChart(id: "gradient-norms", title: "Per-task gradient norm over the shared parameters", yLabel: "norm")
            chart.xDomain = xDomain
            chart.height = 250
            var all: [BucketedSeries.Point] = []
            for (k, task) in summary.tasks.enumerated() {
                let points = summary.gradientNorms[k].points(maxCount: Self.pointsPerSeries)
                all += points
                chart.series.append(.init(name: task, color: ReportPalette.color(k), points: points))
            }
            chart.yScale = Self.prefersLogarithmic(all) ? .logarithmic : .linear
            html += chart.render()
        }
        if hasCosines {
            var chart = SVGLineChart(id: "gradient-cosines", title: "Cosine similarity of task gradients", yLabel: "cosine")
            chart.xDomain = xDomain
            chart.yDomain = -1...1
            chart.height = 250
            for (index, pair) in summary.cosinePairs.enumerated() where !summary.cosines[index].isEmpty {
                let name = "\(summary.tasks[pair.0]) · \(summary.tasks[pair.1])"
                chart.series.append(.init(name: name, color: ReportPalette.color(index), points: summary.cosines[index].points(maxCount: Self.pointsPerSeries)))
            }
            chart.referenceLines.append(.init(value: 0, label: "orthogonal"))
            html += chart.render()
        }
        return html + "</section>\n"
    }

    /// Centred moving average over bucket means, weighted by bucket counts,
    /// over about a fiftieth of the points on each side.
    static func movingAverage(_ points: [BucketedSeries.Point]) -> [BucketedSeries.Point] {
        guard points.count > 2 else { return points }
        let half = max(1, points.count / 50)
        var prefixWeighted = [0.0], prefixCount = [0.0]
        for p in points {
            prefixWeighted.append(prefixWeighted.last! + p.mean * Double(p.count))
            prefixCount.append(prefixCount.last! + Double(p.count))
        }
        return points.indices.map { i in
            let low = max(0, i - half), high = min(points.count - 1, i + half)
            let mean = (prefixWeighted[high + 1] - prefixWeighted[low]) / (prefixCount[high + 1] - prefixCount[low])
            return BucketedSeries.Point(step: points[i].step, mean: mean, minimum: mean, maximum: mean, count: points[i].count)
        }
    }

    // MARK: health

    func healthSection() -> String {
        let hasRate = !summary.learningRate.isEmpty, hasThroughput = !summary.samplesPerSecond.isEmpty
        guard hasRate || hasThroughput else { return "" }
        var html = "<section id=\"health\"><h2>Learning rate and throughput</h2>"
        if hasRate {
            var chart = SVGLineChart(id: "learning-rate", title: "Learning rate", yLabel: "learning rate")
            chart.xDomain = xDomain
            chart.height = 200
            let points = summary.learningRate.points(maxCount: Self.pointsPerSeries)
            let low = points.map(\.minimum).min() ?? 0, high = points.map(\.maximum).max() ?? 0
            chart.yScale = low > 0 && high / low > 10 ? .logarithmic : .linear
            if chart.yScale == .linear { chart.yDomain = 0...max(high, 1e-12) }
            chart.series = [.init(name: "learning rate", color: ReportPalette.series[0], points: points)]
            chart.showsLegend = false
            html += chart.render()
        }
        if hasThroughput {
            var chart = SVGLineChart(id: "throughput", title: "Throughput", yLabel: "samples / s")
            chart.xDomain = xDomain
            chart.height = 200
            let points = summary.samplesPerSecond.points(maxCount: Self.pointsPerSeries)
            chart.yDomain = 0...max(points.map(\.maximum).max() ?? 1, 1e-12)
            chart.series = [.init(name: "samples per second", color: ReportPalette.series[4], points: points)]
            chart.showsLegend = false
            html += chart.render()
        }
        return html + "</section>\n"
    }

    // MARK: events

    /// A diagnosis cell of the event table: `tensor ratio` (and the step of
    /// the update measured), empty for lines without a diagnosis.
    static func ratioCell(_ tensor: String?, _ ratio: Double?, step: Int?) -> String {
        guard let tensor else { return "" }
        return XMLText.escape(tensor) + (ratio.map { " " + number($0) } ?? "") + (step.map { " (step \($0))" } ?? "")
    }

    func eventSection() -> String {
        var html = "<section id=\"events\"><h2>Stability events</h2>"
        guard summary.eventTotal > 0 else {
            return html + "<p class=\"muted\">No stability event recorded.</p></section>\n"
        }
        html += "<table id=\"event-table\"><thead><tr><th>step</th><th class=\"text\">kind</th><th class=\"text\">task</th><th class=\"text\">parameter</th><th>value</th><th class=\"text\">largest update/weight</th><th class=\"text\">largest gradient/weight</th><th class=\"text\">message</th></tr></thead><tbody>"
        for event in summary.events.prefix(Self.eventRowLimit) {
            let style = ReportPalette.event(event.kind)
            html += "<tr><td>\(event.step)</td><td class=\"text\" style=\"color: \(style.color); font-weight: 600\">\(XMLText.escape(event.kind))</td>"
            html += "<td class=\"text\">\(XMLText.escape(event.task ?? ""))</td><td class=\"text\">\(XMLText.escape(event.parameter ?? ""))</td>"
            html += "<td>\(event.value.map { Self.number($0) } ?? "")</td>"
            html += "<td class=\"text\">\(Self.ratioCell(event.updateRatioTensor, event.updateRatio, step: event.updateStep))</td>"
            html += "<td class=\"text\">\(Self.ratioCell(event.gradientRatioTensor, event.gradientRatio, step: nil))</td>"
            html += "<td class=\"text\">\(XMLText.escape(event.message ?? ""))</td></tr>"
        }
        html += "</tbody></table>"
        if summary.eventTotal > Self.eventRowLimit {
            html += "<p class=\"muted\">First \(Self.eventRowLimit) of \(summary.eventTotal) events listed.</p>"
        }
        return html + "</section>\n"
    }
}
