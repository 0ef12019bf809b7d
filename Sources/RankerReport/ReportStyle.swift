import Ranker

/// The report's inline stylesheet: system fonts only (no web font, no
/// network), print-friendly, and free of `<` and `&` so it reads the same as
/// XML character data and as an HTML `<style>` element.
enum ReportStyle {
    static let css = """
    :root { color-scheme: light; }
    body { margin: 0; background: #f4f5f7; color: #1d2330;
      font: 15px/1.45 system-ui, -apple-system, "Segoe UI", Roboto, "Helvetica Neue", Arial, "Noto Sans", "DejaVu Sans", sans-serif; }
    main { max-width: 1160px; margin: 0 auto; padding: 20px 20px 40px; }
    header.report, section { background: #ffffff; border: 1px solid #dadee5; border-radius: 8px; padding: 14px 20px 16px; margin: 0 0 16px; }
    h1 { font-size: 25px; margin: 0 0 2px; overflow-wrap: anywhere; }
    h2 { font-size: 19px; margin: 0 0 8px; padding-bottom: 4px; border-bottom: 1px solid #e6e9ee; }
    h3 { font-size: 15px; margin: 14px 0 4px; }
    p { margin: 4px 0 8px; }
    .subtitle, .muted, figcaption { color: #5a6475; }
    .subtitle { margin: 0 0 12px; }
    .facts { display: grid; grid-template-columns: max-content minmax(0, 1fr) max-content minmax(0, 1fr); gap: 3px 16px; margin: 0 0 12px; }
    .facts dt { color: #5a6475; }
    .facts dd { margin: 0; font-weight: 600; overflow-wrap: anywhere; }
    .tables { display: flex; flex-wrap: wrap; gap: 8px 40px; align-items: flex-start; }
    table { border-collapse: collapse; font-size: 13.5px; font-variant-numeric: tabular-nums; margin: 4px 0 8px; }
    caption { text-align: left; font-weight: 600; padding: 2px 0 4px; }
    th, td { padding: 3px 10px; border-bottom: 1px solid #e6e9ee; text-align: right; white-space: nowrap; }
    th { background: #f4f5f7; font-weight: 600; }
    th:first-child, td:first-child, th.text, td.text { text-align: left; }
    td.text { white-space: normal; overflow-wrap: anywhere; }
    .note { background: #fff6e5; border-left: 4px solid #e69b00; padding: 6px 12px; margin: 8px 0; }
    .not-recorded { color: #5a6475; font-style: italic; }
    .chips { display: flex; flex-wrap: wrap; gap: 6px; margin: 4px 0 8px; padding: 0; list-style: none; }
    .chips li { border: 1px solid #dadee5; border-radius: 12px; padding: 1px 10px; font-size: 13px; }
    figure { margin: 6px 0 14px; }
    svg.chart { display: block; width: 100%; height: auto; }
    svg.chart text { font-family: inherit; }
    .chart-title { font-size: 14px; font-weight: 600; fill: #1d2330; }
    .tick { font-size: 11.5px; fill: #4a5466; }
    .tick.y { text-anchor: end; }
    .tick.x { text-anchor: middle; }
    .axis-label { font-size: 12px; fill: #4a5466; text-anchor: middle; }
    .plot-area { fill: #ffffff; stroke: #c3c9d2; }
    .grid { stroke: #e6e9ee; stroke-width: 1; }
    .grid.minor { stroke: #f1f2f5; }
    .grid.vertical { stroke: #eef0f3; }
    .line { fill: none; stroke-linejoin: round; stroke-linecap: round; }
    .envelope { fill-opacity: 0.2; stroke-opacity: 0.45; stroke-width: 0.7; stroke-linejoin: round; }
    .marker-label { font-size: 10.5px; font-weight: 600; text-anchor: middle; }
    .reference-label { font-size: 10.5px; text-anchor: end; }
    .legend { list-style: none; display: flex; flex-wrap: wrap; gap: 2px 18px; padding: 0; margin: 2px 0 0 70px; font-size: 13px; }
    .legend li { overflow-wrap: anywhere; }
    .swatch { display: inline-block; width: 24px; height: 0; margin-right: 6px; vertical-align: middle; }
    .multiples { display: grid; grid-template-columns: repeat(4, minmax(0, 1fr)); gap: 2px 12px; }
    .multiples figure { margin: 0; }
    svg.chart.compact .chart-title { font-size: 11px; font-weight: 600; }
    svg.chart.compact .tick { font-size: 9.5px; }
    details summary { cursor: pointer; font-weight: 600; }
    pre { background: #f4f5f7; padding: 10px; overflow-x: auto; font-size: 12.5px; white-space: pre-wrap; overflow-wrap: anywhere; }
    footer { color: #5a6475; font-size: 13px; text-align: center; }
    @media print { body { background: #ffffff; } section, header.report { break-inside: avoid; border: none; } }
    """
}

/// The page every Ranker HTML document is: XHTML-compatible HTML5 with the
/// inline stylesheet, `body` (already escaped markup) inside `<main>`, and
/// an optional footer line (escaped here).
enum ReportPage {
    static func html(title: String, body: String, footer: String? = nil) -> String {
        let footerLine = footer.map { "<footer>\(XMLText.escape($0))</footer>\n" } ?? ""
        return """
        <!DOCTYPE html>
        <html xmlns="http://www.w3.org/1999/xhtml" lang="en" xml:lang="en">
        <head>
        <meta charset="utf-8"/>
        <meta name="viewport" content="width=device-width, initial-scale=1"/>
        <meta name="generator" content="Ranker \(XMLText.escape(RankerVersion.string))"/>
        <title>\(XMLText.escape(title))</title>
        <style>
        \(ReportStyle.css)
        </style>
        </head>
        <body>
        <main>
        \(body)
        \(footerLine)</main>
        </body>
        </html>

        """
    }
}
