import Glibc

/// One benchmark's latency per tool: a row per tool on a log-scale ms axis, with the spread of the
/// raw samples (when kept) behind a min-max whisker, a median-p90 box, a p90-p99 box and the median.
enum LatencyChart {
    static func render(_ bench: ReportModel.Latency, palette: ToolPalette) -> String? {
        let rows = bench.rows.filter { $0.samples > 0 }
        guard !rows.isEmpty else { return nil }

        let labelSize = 13.0
        // Labels are bold-ish: allow 12% over the regular width estimate.
        let labelWidth = (rows.map { SVGDocument.textWidth($0.tool, size: labelSize) }.max() ?? 60) * 1.12
        let left = Swift.min(300, Swift.max(120, 40 + labelWidth + 22))
        let right = 112.0
        let width = 820.0
        let top = 96.0
        let rowHeight = 50.0
        let bottom = 58.0
        let plotRight = width - right
        let height = top + rowHeight * Double(rows.count) + bottom

        let positives = rows.flatMap { r -> [Double] in
            [r.min_ms, r.median_ms, r.max_ms, r.p99_ms] + (r.raw_ms ?? [])
        }.filter { $0 > 0 && $0.isFinite }
        let lo = positives.min() ?? 0.001
        let hi = positives.max() ?? 1
        let x = LogScale(lower: lo, upper: hi, rangeStart: left, rangeEnd: plotRight)
        let floorValue = x.lower
        func px(_ v: Double) -> Double { x(v > 0 ? v : floorValue) }

        let n = rows.map(\.samples)
        let nText = Set(n).count == 1 ? "\(n[0]) samples per tool" : "\(n.min() ?? 0)–\(n.max() ?? 0) samples per tool"
        var svg = SVGDocument(
            width: width, height: height,
            title: "\(bench.name): latency per tool",
            description: "Latency distribution of \(bench.name) for " + rows.map(\.tool).joined(separator: ", ")
                + "; log-scale milliseconds, lower is better.")
        svg.heading("\(bench.name) — latency per tool", subtitle: "\(nText) · log scale · lower is better")
        let rawCounts = rows.map { $0.raw_ms?.count ?? 0 }
        legend(&svg, y: 70, x: 20, raw: rawCounts.contains { $0 >= 20 } ? .violin : rawCounts.contains { $0 > 0 } ? .dots : nil)

        // Grid.
        let plotTop = top - 6
        let plotBottom = top + rowHeight * Double(rows.count) + 4
        for (i, _) in rows.enumerated() where i % 2 == 1 {
            svg.rect(x: 8, y: top + rowHeight * Double(i), width: width - 16, height: rowHeight, fill: SVGDocument.Ink.stripe)
        }
        for t in x.minorTicks { svg.line(x(t), plotTop, x(t), plotBottom, stroke: SVGDocument.Ink.faintGrid) }
        for t in x.ticks {
            svg.line(x(t), plotTop, x(t), plotBottom, stroke: SVGDocument.Ink.grid)
            svg.text(ReportFormat.tick(t), x: x(t), y: plotBottom + 16, size: 11, anchor: .middle, fill: SVGDocument.Ink.muted)
        }
        svg.line(left, plotBottom, plotRight, plotBottom, stroke: SVGDocument.Ink.axis)
        svg.text("latency per run (ms, log scale)", x: (left + plotRight) / 2, y: plotBottom + 38,
                 size: 12, anchor: .middle, fill: SVGDocument.Ink.text)
        svg.text("median", x: width - 18, y: top - 8, size: 11, anchor: .end, fill: SVGDocument.Ink.muted)

        for (i, r) in rows.enumerated() {
            let cy = top + rowHeight * (Double(i) + 0.5)
            let color = palette.color(r.tool)
            // Label with a colour swatch.
            svg.rect(x: 20, y: cy - 6, width: 12, height: 12, fill: color, radius: 2)
            svg.text(r.tool, x: 40, y: cy + 4.5, size: labelSize, weight: ReportModel.isStockade(r.tool) ? "600" : nil)

            let tooltip = "\(r.tool): n \(r.samples), min \(ReportFormat.ms(r.min_ms)), median \(ReportFormat.ms(r.median_ms)), "
                + "p90 \(ReportFormat.ms(r.p90_ms)), p99 \(ReportFormat.ms(r.p99_ms)), max \(ReportFormat.ms(r.max_ms))"
            svg.group(tooltip: tooltip) { svg in
                if let raw = r.raw_ms?.filter({ $0.isFinite }), !raw.isEmpty {
                    if raw.count >= 20 {
                        let shape = violin(raw, scale: x, cy: cy, halfHeight: 17)
                        svg.polygon(shape, fill: color, fillOpacity: 0.16, stroke: color, strokeOpacity: 0.45)
                    } else {
                        for (k, v) in raw.enumerated() {
                            let jitter = Double((k * 7919) % 13) - 6
                            svg.circle(cx: px(v), cy: cy + jitter * 1.4, r: 2.5, fill: color, opacity: 0.45)
                        }
                    }
                }
                // min-max whisker with caps.
                svg.line(px(r.min_ms), cy, px(r.max_ms), cy, stroke: color, width: 1.5)
                svg.line(px(r.min_ms), cy - 5, px(r.min_ms), cy + 5, stroke: color, width: 1.5)
                svg.line(px(r.max_ms), cy - 5, px(r.max_ms), cy + 5, stroke: color, width: 1.5)
                // p90-p99 and median-p90 boxes.
                svg.rect(x: px(r.p90_ms), y: cy - 6, width: px(r.p99_ms) - px(r.p90_ms), height: 12, fill: color, opacity: 0.35)
                svg.rect(x: px(r.median_ms), y: cy - 6, width: px(r.p90_ms) - px(r.median_ms), height: 12, fill: color, opacity: 0.75)
                // p99 tick and the median bar.
                svg.line(px(r.p99_ms), cy - 6, px(r.p99_ms), cy + 6, stroke: color, width: 2)
                svg.rect(x: px(r.median_ms) - 2, y: cy - 11, width: 4, height: 22, fill: SVGDocument.Ink.text, radius: 1)
            }
            // Figures on the right.
            svg.text(ReportFormat.ms(r.median_ms), x: width - 18, y: cy + 1, size: 13, anchor: .end, weight: "600")
            svg.text("p99 \(ReportFormat.sig(r.p99_ms))" + (r.noisy ? " · noisy" : ""), x: width - 18, y: cy + 15,
                     size: 10.5, anchor: .end, fill: r.noisy ? "#9a6700" : SVGDocument.Ink.muted)
        }
        return svg.render()
    }

    /// The key to the glyphs, in neutral grey.
    enum RawGlyph { case violin, dots }

    static func legend(_ svg: inout SVGDocument, y: Double, x startX: Double, raw: RawGlyph?) {
        let ink = "#57606a"
        var x = startX
        switch raw {
        case .violin:
            svg.polygon([(x, y), (x + 8, y - 7), (x + 18, y - 4), (x + 26, y), (x + 18, y + 4), (x + 8, y + 7)],
                        fill: ink, fillOpacity: 0.16, stroke: ink, strokeOpacity: 0.45)
        case .dots:
            for (dx, dy) in [(3.0, 2.0), (9.0, -4.0), (15.0, 3.0), (22.0, -1.0)] {
                svg.circle(cx: x + dx, cy: y + dy, r: 2.5, fill: ink, opacity: 0.45)
            }
        case nil:
            break
        }
        if raw != nil {
            svg.text("samples", x: x + 32, y: y + 4, size: 11, fill: SVGDocument.Ink.muted)
            x += 90
        }
        svg.line(x, y, x + 26, y, stroke: ink, width: 1.5)
        svg.line(x, y - 5, x, y + 5, stroke: ink, width: 1.5)
        svg.line(x + 26, y - 5, x + 26, y + 5, stroke: ink, width: 1.5)
        svg.text("min–max", x: x + 32, y: y + 4, size: 11, fill: SVGDocument.Ink.muted)
        x += 92
        svg.rect(x: x, y: y - 11, width: 4, height: 22, fill: SVGDocument.Ink.text, radius: 1)
        svg.text("median", x: x + 10, y: y + 4, size: 11, fill: SVGDocument.Ink.muted)
        x += 62
        svg.rect(x: x, y: y - 6, width: 22, height: 12, fill: ink, opacity: 0.75)
        svg.text("median–p90", x: x + 28, y: y + 4, size: 11, fill: SVGDocument.Ink.muted)
        x += 100
        svg.rect(x: x, y: y - 6, width: 22, height: 12, fill: ink, opacity: 0.35)
        svg.line(x + 22, y - 6, x + 22, y + 6, stroke: ink, width: 2)
        svg.text("p90–p99", x: x + 28, y: y + 4, size: 11, fill: SVGDocument.Ink.muted)
    }

    /// A mirrored density of the samples in log space, smoothed, as polygon points.
    static func violin(_ samples: [Double], scale: LogScale, cy: Double, halfHeight: Double) -> [(Double, Double)] {
        let bins = 120
        let x0 = scale.rangeStart, x1 = scale.rangeEnd
        var counts = [Double](repeating: 0, count: bins)
        for v in samples {
            let p = (scale(v > 0 ? v : scale.lower) - x0) / (x1 - x0)
            let i = Swift.min(bins - 1, Swift.max(0, Int(p * Double(bins))))
            counts[i] += 1
        }
        // Gaussian smoothing over +-4 bins.
        let kernel = (-4...4).map { exp(-Double($0 * $0) / 4.5) }
        var smooth = [Double](repeating: 0, count: bins)
        for i in 0..<bins {
            var s = 0.0
            for (k, w) in kernel.enumerated() {
                let j = i + k - 4
                if j >= 0 && j < bins { s += counts[j] * w }
            }
            smooth[i] = s
        }
        guard let peak = smooth.max(), peak > 0,
              let first = smooth.firstIndex(where: { $0 > peak * 0.01 }),
              let last = smooth.lastIndex(where: { $0 > peak * 0.01 }) else { return [] }
        let binWidth = (x1 - x0) / Double(bins)
        var upper: [(Double, Double)] = [(x0 + binWidth * Double(first), cy)]
        for i in first...last {
            upper.append((x0 + binWidth * (Double(i) + 0.5), cy - smooth[i] / peak * halfHeight))
        }
        upper.append((x0 + binWidth * Double(last + 1), cy))
        let lower = upper.dropFirst().dropLast().reversed().map { ($0.0, 2 * cy - $0.1) }
        return upper + lower
    }
}
