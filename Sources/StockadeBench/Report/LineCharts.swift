import Glibc

/// A series of a line chart: a name, a colour and (x, y) points.
struct LineSeries {
    var name: String
    var color: String
    var points: [(x: Double, y: Double)]
    var bold: Bool = false
}

/// Draws one line-chart panel into a document: axes, gridlines, lines, dots and value labels.
struct LinePanel {
    enum XAxis {
        /// Evenly spaced on a log2 axis at exactly these values (1, 4, 16, 64 clients).
        case log2(ticks: [Double])
        case linear
    }

    var frame: (x: Double, y: Double, width: Double, height: Double)
    var xAxis: XAxis
    var xTitle: String
    var yTitle: String
    /// A log-scale y axis (for latencies spanning orders of magnitude).
    var yLog: Bool = false
    var yLabel: (Double) -> String = ReportFormat.compact
    var valueLabel: (Double) -> String = ReportFormat.compact

    func draw(_ series: [LineSeries], into svg: inout SVGDocument) {
        let (fx, fy, fw, fh) = frame
        let xs = series.flatMap { $0.points.map(\.x) }
        let ys = series.flatMap { $0.points.map(\.y) }.filter(\.isFinite)
        guard !xs.isEmpty, !ys.isEmpty else { return }

        // X mapping.
        let xMap: (Double) -> Double
        let xTicks: [Double]
        switch xAxis {
        case .log2(let ticks):
            let lo = log2(Swift.max(ticks.min() ?? 1, 1e-9)), hi = log2(Swift.max(ticks.max() ?? 1, 1e-9))
            let pad = 0.06 * fw
            if hi - lo < 1e-9 {
                xMap = { _ in fx + fw / 2 }
            } else {
                xMap = { v in fx + pad + (log2(Swift.max(v, 1e-9)) - lo) / (hi - lo) * (fw - 2 * pad) }
            }
            xTicks = ticks
        case .linear:
            let s = LinearScale(lower: 0, upper: Swift.max(xs.max() ?? 1, 1), rangeStart: fx + 6, rangeEnd: fx + fw, tickCount: 8)
            xMap = { s($0) }
            xTicks = s.ticks.filter { $0 == $0.rounded() }
        }

        // Y mapping.
        let yMap: (Double) -> Double
        let yTicks: [Double]
        var minor: [Double] = []
        if yLog {
            let s = LogScale(lower: ys.filter { $0 > 0 }.min() ?? 0.001, upper: ys.max() ?? 1,
                             rangeStart: fy + fh, rangeEnd: fy)
            yMap = { s($0) }
            yTicks = s.ticks
            minor = s.minorTicks
        } else {
            let s = LinearScale(lower: 0, upper: (ys.max() ?? 1) * 1.08, rangeStart: fy + fh, rangeEnd: fy, tickCount: 5)
            yMap = { s($0) }
            yTicks = s.ticks
        }

        for t in minor { svg.line(fx, yMap(t), fx + fw, yMap(t), stroke: SVGDocument.Ink.faintGrid) }
        for t in yTicks {
            svg.line(fx, yMap(t), fx + fw, yMap(t), stroke: SVGDocument.Ink.grid)
            svg.text(yLabel(t), x: fx - 8, y: yMap(t) + 4, size: 11, anchor: .end, fill: SVGDocument.Ink.muted)
        }
        for t in xTicks {
            svg.line(xMap(t), fy + fh, xMap(t), fy + fh + 5, stroke: SVGDocument.Ink.axis)
            svg.text(ReportFormat.tick(t), x: xMap(t), y: fy + fh + 18, size: 11, anchor: .middle, fill: SVGDocument.Ink.muted)
        }
        svg.line(fx, fy + fh, fx + fw, fy + fh, stroke: SVGDocument.Ink.axis)
        svg.line(fx, fy, fx, fy + fh, stroke: SVGDocument.Ink.axis)
        svg.text(xTitle, x: fx + fw / 2, y: fy + fh + 38, size: 12, anchor: .middle)
        svg.text(yTitle, x: fx - 46, y: fy + fh / 2, size: 12, anchor: .middle, rotate: -90)

        // Lines, then dots, then value labels where they fit (above the dot, else below, else none).
        for s in series {
            let pts = s.points.filter { $0.y.isFinite }.map { (xMap($0.x), yMap($0.y)) }
            svg.polyline(pts, stroke: s.color, width: s.bold ? 2.75 : 2)
        }
        let dots = series.flatMap { s in s.points.filter { $0.y.isFinite }.map { (x: xMap($0.x), y: yMap($0.y)) } }
        // Occupied boxes: (minX, minY, maxX, maxY). Dots count, so labels never cover a point.
        var taken: [(Double, Double, Double, Double)] = dots.map { ($0.x - 5, $0.y - 5, $0.x + 5, $0.y + 5) }
        func free(_ b: (Double, Double, Double, Double)) -> Bool {
            guard b.1 >= fy - 2, b.3 <= fy + fh - 2, b.0 >= fx - 20, b.2 <= fx + fw + 20 else { return false }
            return !taken.contains { $0.0 < b.2 && b.0 < $0.2 && $0.1 < b.3 && b.1 < $0.3 }
        }
        for s in series {
            for p in s.points where p.y.isFinite {
                let cx = xMap(p.x), cy = yMap(p.y)
                svg.group(tooltip: "\(s.name): \(valueLabel(p.y)) at \(ReportFormat.tick(p.x))") { svg in
                    svg.circle(cx: cx, cy: cy, r: 4, fill: "#ffffff", stroke: s.color, strokeWidth: 2)
                }
                let text = valueLabel(p.y)
                let half = SVGDocument.textWidth(text, size: 10.5) / 2 + 1
                for baseline in [cy - 9, cy + 18] {
                    let box = (cx - half, baseline - 10, cx + half, baseline + 2)
                    guard free(box) else { continue }
                    taken.append(box)
                    svg.text(text, x: cx, y: baseline, size: 10.5, anchor: .middle, weight: "600", fill: s.color, halo: true)
                    break
                }
            }
        }
    }
}

/// Legend entries in a row: a line-and-dot swatch and the name.
func drawLegend(_ entries: [(name: String, color: String)], into svg: inout SVGDocument, x: Double, y: Double, maxWidth: Double) {
    var cx = x, cy = y
    for e in entries {
        let w = 30 + SVGDocument.textWidth(e.name, size: 12) + 22
        if cx + w > x + maxWidth && cx > x { cx = x; cy += 20 }
        svg.line(cx, cy, cx + 22, cy, stroke: e.color, width: 2.5)
        svg.circle(cx: cx + 11, cy: cy, r: 3.5, fill: "#ffffff", stroke: e.color, strokeWidth: 2)
        svg.text(e.name, x: cx + 28, y: cy + 4, size: 12)
        cx += w
    }
}

/// Legend height for `entries` laid out by `drawLegend`.
func legendHeight(_ entries: [String], maxWidth: Double) -> Double {
    var cx = 0.0, rows = 1.0
    for e in entries {
        let w = 30 + SVGDocument.textWidth(e, size: 12) + 22
        if cx + w > maxWidth && cx > 0 { cx = 0; rows += 1 }
        cx += w
    }
    return rows * 20
}

/// Throughput and p99 latency against concurrent clients, side by side.
enum ThroughputChart {
    static func render(_ group: ReportModel.Throughput, palette: ToolPalette) -> String? {
        let clients = group.clients.map(Double.init)
        let rps = group.series.map { s in
            LineSeries(name: s.tool, color: palette.color(s.tool),
                       points: s.points.compactMap { p in p.row.throughput_rps.map { (Double(p.clients), $0) } },
                       bold: ReportModel.isStockade(s.tool))
        }.filter { !$0.points.isEmpty }
        let p99 = group.series.map { s in
            LineSeries(name: s.tool, color: palette.color(s.tool),
                       points: s.points.filter { $0.row.samples > 0 }.map { (Double($0.clients), $0.row.p99_ms) },
                       bold: ReportModel.isStockade(s.tool))
        }.filter { !$0.points.isEmpty }
        guard !clients.isEmpty, !rps.isEmpty || !p99.isEmpty else { return nil }

        let width = 880.0
        let names = group.series.map(\.tool)
        let legendH = legendHeight(names, maxWidth: width - 40)
        let top = 64 + legendH + 16
        let panelH = 250.0
        let height = top + panelH + 58
        var svg = SVGDocument(width: width, height: height,
                              title: "\(group.name): throughput and p99 latency by concurrent clients",
                              description: "Requests per second and p99 latency of \(group.name) at "
                                + clients.map { ReportFormat.tick($0) }.joined(separator: ", ") + " concurrent clients for "
                                + names.joined(separator: ", ") + ".")
        svg.heading("\(group.name) — throughput and tail latency by concurrency",
                    subtitle: "left: requests per second (higher is better) · right: p99 latency (lower is better)")
        drawLegend(group.series.map { ($0.tool, palette.color($0.tool)) }, into: &svg, x: 20, y: 70, maxWidth: width - 40)

        let panelW = (width - 2 * 74 - 40) / 2
        let x1 = 74.0, x2 = 74 + panelW + 74 + 40 - 34
        if !rps.isEmpty {
            LinePanel(frame: (x1, top, panelW, panelH), xAxis: .log2(ticks: clients), xTitle: "concurrent clients",
                      yTitle: "requests per second", valueLabel: ReportFormat.compact).draw(rps, into: &svg)
        } else {
            svg.text("no throughput figures", x: x1 + panelW / 2, y: top + panelH / 2, anchor: .middle, fill: SVGDocument.Ink.muted)
        }
        if !p99.isEmpty {
            let ys = p99.flatMap { $0.points.map(\.y) }.filter { $0 > 0 }
            let spread = (ys.max() ?? 1) / Swift.max(ys.min() ?? 1, 1e-9)
            let log = spread > 30
            LinePanel(frame: (x2, top, panelW, panelH), xAxis: .log2(ticks: clients), xTitle: "concurrent clients",
                      yTitle: log ? "p99 latency (ms, log scale)" : "p99 latency (ms)", yLog: log,
                      yLabel: ReportFormat.tick, valueLabel: ReportFormat.sig).draw(p99, into: &svg)
        }
        return svg.render()
    }
}

/// RSS against the number of workers: a line chart, or bars when every figure stands alone.
enum MemoryChart {
    static func render(_ memory: [ReportModel.Memory]) -> String? {
        let series = memory.enumerated().map { i, m in
            LineSeries(name: m.name, color: ToolPalette.series(i),
                       points: m.points.map { (Double($0.workers), ReportFormat.mib($0.bytes)) })
        }.filter { !$0.points.isEmpty }
        guard !series.isEmpty else { return nil }
        if series.allSatisfy({ Set($0.points.map(\.x)).count < 2 }) { return bars(memory) }

        let width = 760.0
        let legendH = legendHeight(series.map(\.name), maxWidth: width - 40)
        let top = 64 + legendH + 16
        let panelH = 260.0
        let height = top + panelH + 58
        var svg = SVGDocument(width: width, height: height, title: "Memory (RSS) against worker count",
                              description: "Resident memory in MiB against the number of workers for "
                                + series.map(\.name).joined(separator: ", ") + ".")
        svg.heading("Memory against worker count", subtitle: "resident set size (MiB) · lower is better")
        drawLegend(series.map { ($0.name, $0.color) }, into: &svg, x: 20, y: 70, maxWidth: width - 40)
        LinePanel(frame: (84, top, width - 84 - 40, panelH), xAxis: .linear, xTitle: "workers",
                  yTitle: "RSS (MiB)", yLabel: ReportFormat.tick, valueLabel: { ReportFormat.sig($0) })
            .draw(series, into: &svg)
        return svg.render()
    }

    /// Horizontal bars, one per figure, when there is no worker count to plot against.
    static func bars(_ memory: [ReportModel.Memory]) -> String? {
        var items: [(label: String, mib: Double, color: String)] = []
        for (i, m) in memory.enumerated() {
            for p in m.points {
                items.append(("\(m.name) (\(p.workers) worker\(p.workers == 1 ? "" : "s"))", ReportFormat.mib(p.bytes), ToolPalette.series(i)))
            }
        }
        guard !items.isEmpty else { return nil }
        let labelW = items.map { SVGDocument.textWidth($0.label, size: 12) }.max() ?? 80
        let width = 760.0
        let left = Swift.min(360, labelW + 36)
        let right = 80.0
        let top = 70.0, rowH = 32.0
        let height = top + rowH * Double(items.count) + 56
        let scale = LinearScale(lower: 0, upper: items.map(\.mib).max() ?? 1, rangeStart: left, rangeEnd: width - right, tickCount: 5)
        var svg = SVGDocument(width: width, height: height, title: "Memory (RSS)",
                              description: "Resident memory in MiB: " + items.map { "\($0.label) \(ReportFormat.sig($0.mib)) MiB" }.joined(separator: "; "))
        svg.heading("Memory", subtitle: "resident set size (MiB) · lower is better")
        let bottom = top + rowH * Double(items.count)
        for t in scale.ticks {
            svg.line(scale(t), top - 4, scale(t), bottom, stroke: SVGDocument.Ink.grid)
            svg.text(ReportFormat.tick(t), x: scale(t), y: bottom + 16, size: 11, anchor: .middle, fill: SVGDocument.Ink.muted)
        }
        svg.line(left, bottom, width - right, bottom, stroke: SVGDocument.Ink.axis)
        svg.text("RSS (MiB)", x: (left + width - right) / 2, y: bottom + 38, size: 12, anchor: .middle)
        for (i, item) in items.enumerated() {
            let cy = top + rowH * (Double(i) + 0.5)
            svg.text(item.label, x: left - 10, y: cy + 4, size: 12, anchor: .end)
            svg.rect(x: left, y: cy - 9, width: scale(item.mib) - left, height: 18, fill: item.color, opacity: 0.85, radius: 2)
            svg.text(ReportFormat.sig(item.mib) + " MiB", x: scale(item.mib) + 6, y: cy + 4, size: 11.5, weight: "600")
        }
        return svg.render()
    }
}
