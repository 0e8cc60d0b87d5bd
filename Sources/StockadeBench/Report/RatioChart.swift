import Glibc

/// At a glance: for every benchmark and Stockade tool, the pair-by-pair ratio to each peer on a log
/// axis centred on 1x (right of it, Stockade is faster).
enum RatioChart {
    static func render(_ model: ReportModel) -> String? {
        struct Line { var label: String; var ratios: [BenchReport.Ratio] }
        var lines: [Line] = []
        let multiTool = Set(model.report.ratios.map(\.tool)).count > 1
        for r in model.report.ratios where r.median_ratio > 0 && r.median_ratio.isFinite {
            let label = multiTool ? "\(r.name) · \(r.tool)" : r.name
            if let i = lines.firstIndex(where: { $0.label == label }) {
                lines[i].ratios.append(r)
            } else {
                lines.append(Line(label: label, ratios: [r]))
            }
        }
        guard !lines.isEmpty else { return nil }
        var peers: [String] = []
        for l in lines { for r in l.ratios where !peers.contains(r.versus) { peers.append(r.versus) } }

        let width = 820.0
        let labelW = (lines.map { SVGDocument.textWidth($0.label, size: 12.5) }.max() ?? 80) * 1.12
        let left = Swift.min(340, Swift.max(140, 20 + labelW + 24))
        let right = 40.0
        let legendH = legendHeight(peers.map { "vs " + $0 + "   " }, maxWidth: width - 40)
        let top = 64 + legendH + 34
        let rowH = 40.0
        let bottom = top + rowH * Double(lines.count)
        let height = bottom + 62

        let values = lines.flatMap { $0.ratios.map(\.median_ratio) }
        // Symmetric around 1x so "faster" and "slower" get the same room.
        let extent = Swift.max(2, values.map { Swift.max($0, 1 / $0) }.max() ?? 2)
        let x = LogScale(lower: 1 / extent, upper: extent, rangeStart: left, rangeEnd: width - right)

        var svg = SVGDocument(width: width, height: height, title: "Stockade against its peers",
                              description: "Median pair-by-pair ratio of peer time to Stockade time per benchmark; above 1 Stockade is faster. "
                                + lines.map { l in l.label + ": " + l.ratios.map { "\($0.versus) \(ReportFormat.ratio($0.median_ratio))" }.joined(separator: ", ") }.joined(separator: "; "))
        svg.heading("Stockade against its peers", subtitle: "median of pair-by-pair ratios, peer time ÷ Stockade time · log scale · right of 1× Stockade is faster")
        drawDotLegend(peers.map { ($0, model.palette.color($0)) }, into: &svg, x: 20, y: 70, maxWidth: width - 40)

        let one = x(1)
        svg.rect(x: one, y: top - 22, width: width - right - one, height: bottom - top + 22, fill: "#dafbe1", opacity: 0.45)
        svg.rect(x: left, y: top - 22, width: one - left, height: bottom - top + 22, fill: "#fff1e5", opacity: 0.55)
        svg.text("◀ peer faster", x: one - 8, y: top - 8, size: 11, anchor: .end, fill: "#953800")
        svg.text("Stockade faster ▶", x: one + 8, y: top - 8, size: 11, fill: "#116329")
        for t in x.minorTicks { svg.line(x(t), top, x(t), bottom, stroke: SVGDocument.Ink.faintGrid) }
        for t in x.ticks {
            svg.line(x(t), top, x(t), bottom, stroke: SVGDocument.Ink.grid)
            svg.text(ReportFormat.tick(t) + "×", x: x(t), y: bottom + 16, size: 11, anchor: .middle, fill: SVGDocument.Ink.muted)
        }
        svg.line(one, top - 22, one, bottom, stroke: SVGDocument.Ink.text, width: 1.5)
        svg.line(left, bottom, width - right, bottom, stroke: SVGDocument.Ink.axis)
        svg.text("peer time ÷ Stockade time (log scale)", x: (left + width - right) / 2, y: bottom + 38, size: 12, anchor: .middle)

        for (i, line) in lines.enumerated() {
            let cy = top + rowH * (Double(i) + 0.5)
            svg.line(left, cy, width - right, cy, stroke: SVGDocument.Ink.grid, dash: "2 3")
            svg.text(line.label, x: 20, y: cy + 4, size: 12.5, weight: "600")
            var placed: [Double] = []
            for r in line.ratios.sorted(by: { $0.median_ratio < $1.median_ratio }) {
                let cx = x(r.median_ratio)
                let color = model.palette.color(r.versus)
                svg.group(tooltip: "\(line.label) vs \(r.versus): \(ReportFormat.ratio(r.median_ratio))") { svg in
                    svg.circle(cx: cx, cy: cy, r: 6, fill: color, stroke: "#ffffff", strokeWidth: 1.5)
                }
                let below = placed.contains { abs($0 - cx) < 40 }
                placed.append(cx)
                svg.text(ReportFormat.ratio(r.median_ratio), x: cx, y: below ? cy + 19 : cy - 10, size: 10.5,
                         anchor: .middle, weight: "600", fill: color, halo: true)
            }
        }
        return svg.render()
    }

    static func drawDotLegend(_ entries: [(name: String, color: String)], into svg: inout SVGDocument, x: Double, y: Double, maxWidth: Double) {
        var cx = x, cy = y
        for e in entries {
            let w = 30 + SVGDocument.textWidth(e.name, size: 12) + 22
            if cx + w > x + maxWidth && cx > x { cx = x; cy += 20 }
            svg.circle(cx: cx + 6, cy: cy, r: 6, fill: e.color, stroke: "#ffffff", strokeWidth: 1.5)
            svg.text("vs " + e.name, x: cx + 18, y: cy + 4, size: 12)
            cx += w + 16
        }
    }
}
