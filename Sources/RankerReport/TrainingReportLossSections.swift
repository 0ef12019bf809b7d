import Foundation
import Ranker

/// The report's sections of the training curves: task losses with the
/// stability events marked, validation metrics, task weights.
extension TrainingReportDocument {
    // MARK: losses

    func lossSection() -> String {
        var html = "<section id=\"losses\"><h2>Training loss per task</h2>"
        guard summary.losses.contains(where: { !$0.isEmpty }) else {
            return html + "<p class=\"not-recorded\">Training losses not recorded.</p></section>\n"
        }
        html += "<p class=\"muted\">Line: mean loss per bucket of steps; band: min–max within the bucket (spikes stay visible however long the run). Vertical lines: stability events of that task or of the whole run.</p>"
        if summary.eventTotal > 0 { html += eventLegend() }
        for (k, task) in summary.tasks.enumerated() {
            let series = summary.losses[k]
            var chart = SVGLineChart(id: "loss-\(k)", title: "Loss: \(task)", yLabel: "loss")
            chart.xDomain = xDomain
            chart.height = 250
            let points = series.points(maxCount: Self.pointsPerSeries)
            chart.yScale = Self.prefersLogarithmic(points) ? .logarithmic : .linear
            chart.series = [SVGLineChart.Series(name: task, color: ReportPalette.color(k), points: points)]
            let events = summary.events.filter { $0.task == nil || $0.task == task }
            chart.markers = events.prefix(Self.markerLimit).map(Self.marker)
            chart.showsLegend = false
            html += chart.render()
            var facts: [String] = []
            if series.nonFiniteCount > 0 { facts.append("\(series.nonFiniteCount) non-finite losses (not drawn)") }
            if events.count > Self.markerLimit { facts.append("first \(Self.markerLimit) of \(events.count) events marked") }
            if chart.yScale == .logarithmic { facts.append("log scale: the losses span several orders of magnitude") }
            if !facts.isEmpty { html += "<p class=\"muted\">\(XMLText.escape(facts.joined(separator: "; ")))</p>" }
        }
        return html + "</section>\n"
    }

    func eventLegend() -> String {
        var html = "<ul class=\"legend\" aria-label=\"event markers\">"
        for (kind, count) in eventKindCounts() {
            let style = ReportPalette.event(kind)
            html += "<li><span class=\"swatch\" style=\"border-top: 3px \(style.dash == nil ? "solid" : "dashed") \(style.color)\"></span>\(XMLText.escape(kind)) (\(count))</li>"
        }
        return html + "</ul>"
    }

    static func marker(_ event: TelemetryRecord.Event) -> SVGLineChart.Marker {
        let style = ReportPalette.event(event.kind)
        var tooltip = "step \(event.step): \(event.kind)"
        if let task = event.task { tooltip += ", task \(task)" }
        if let parameter = event.parameter { tooltip += ", \(parameter)" }
        if let value = event.value { tooltip += ", value \(number(value))" }
        if let message = event.message { tooltip += " — \(message)" }
        return SVGLineChart.Marker(step: Double(event.step), color: style.color, label: event.kind, tooltip: tooltip,
                                   kind: event.kind, dash: style.dash, lineWidth: event.kind == "rollback" || event.kind == "nan" ? 1.8 : 1.2)
    }

    /// Log scale when the bucket means span more than two decades (positive values only).
    static func prefersLogarithmic(_ points: [BucketedSeries.Point]) -> Bool {
        let means = points.map(\.mean).sorted()
        guard let first = means.first, first > 0, let high = points.map(\.maximum).max() else { return false }
        let p10 = means[means.count / 10]
        return high / p10 > 100
    }

    // MARK: validation

    func validationSection() -> String {
        var html = "<section id=\"validation\"><h2>Validation</h2>"
        guard summary.evaluationCounts["valid", default: 0] + summary.evaluationCounts["validation", default: 0] > 0 else {
            return html + "<p class=\"not-recorded\">Validation metrics not recorded (no eval lines with split \"valid\").</p></section>\n"
        }
        let tasks = summary.metricTasks
        var chart = SVGLineChart(id: "validation-auc", title: "Validation AUC per task and mean AUC", yLabel: "AUC")
        chart.xDomain = xDomain
        for (k, task) in tasks.enumerated() {
            guard let series = summary.validationAUC[task] else { continue }
            chart.series.append(.init(name: task, color: ReportPalette.color(k), points: series.points(maxCount: Self.pointsPerSeries), showsDots: series.count <= 200))
        }
        if !summary.validationMeanAUC.isEmpty {
            chart.series.append(.init(name: "mean AUC", color: ReportPalette.dark, points: summary.validationMeanAUC.points(maxCount: Self.pointsPerSeries),
                                      dash: "6 3", lineWidth: 2.4, showsDots: summary.validationMeanAUC.count <= 200))
        }
        let lowest = chart.series.flatMap { $0.points.map(\.minimum) }.min() ?? 1
        if lowest < 0.55 { chart.referenceLines.append(.init(value: 0.5, label: "AUC 0.5 (chance)", color: "#c0392b")) }
        if let best = bestStep().step {
            chart.markers.append(.init(step: Double(best), color: "#27ae60", label: "best", tooltip: "best step \(best)", kind: "best", dash: "2 2"))
        }
        if chart.series.isEmpty {
            html += "<p class=\"not-recorded\">AUC not recorded in the validation lines.</p>"
        } else {
            html += chart.render()
        }
        for (id, title, label, table) in [("validation-gauc", "Validation GAUC per task", "GAUC", summary.validationGAUC),
                                          ("validation-logloss", "Validation log loss per task", "log loss", summary.validationLogLoss)] where !table.isEmpty {
            var extra = SVGLineChart(id: id, title: title, yLabel: label)
            extra.xDomain = xDomain
            extra.height = 240
            for (k, task) in tasks.enumerated() {
                guard let series = table[task] else { continue }
                extra.series.append(.init(name: task, color: ReportPalette.color(k), points: series.points(maxCount: Self.pointsPerSeries), showsDots: series.count <= 200))
            }
            html += extra.render()
        }
        if let last = summary.lastValidation {
            html += metricTable(last.metrics, caption: "Last validation (step \(last.step))", id: "last-validation-metrics")
        }
        return html + "</section>\n"
    }

    // MARK: weights

    func weightSection() -> String {
        let coefficients = summary.run.combinerKind == "coefficients"
        let title = coefficients ? "Gradient combination coefficients" : (summary.run.combinerKind == "loss_weights" ? "Task loss weights" : "Task weights (\(summary.run.combinerKind))")
        var html = "<section id=\"weights\"><h2>\(XMLText.escape(title))</h2>"
        guard summary.weights.contains(where: { !$0.isEmpty }) else {
            return html + "<p class=\"not-recorded\">Task weights not recorded.</p></section>\n"
        }
        html += "<p class=\"muted\">Combiner \(XMLText.escape(summary.run.combiner)): " + (coefficients
            ? "the coefficients that combine the task gradients over the shared parameters."
            : "the weight of each task loss in the training objective.") + "</p>"
        var chart = SVGLineChart(id: "weights-chart", title: title + " per task", yLabel: coefficients ? "coefficient" : "weight")
        chart.xDomain = xDomain
        chart.height = 260
        for (k, task) in summary.tasks.enumerated() {
            chart.series.append(.init(name: task, color: ReportPalette.color(k), points: summary.weights[k].points(maxCount: Self.pointsPerSeries)))
        }
        return html + chart.render() + "</section>\n"
    }
}
