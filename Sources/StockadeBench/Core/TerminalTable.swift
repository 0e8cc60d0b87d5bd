/// The readable table printed at the end of a run.
public enum TerminalTable {
    public static func render(_ report: BenchReport) -> String {
        var lines: [String] = []
        let header = ["benchmark", "tool", "n", "median ms", "p90 ms", "p99 ms", "min ms", "max ms", "rps"]
        var rows: [[String]] = [header]
        for r in report.benchmarks {
            rows.append([r.name, r.tool, "\(r.samples)", fmt(r.median_ms), fmt(r.p90_ms), fmt(r.p99_ms),
                         fmt(r.min_ms), fmt(r.max_ms), r.throughput_rps.map { fmt($0, 0) } ?? ""])
        }
        lines += table(rows)
        if !report.ratios.isEmpty {
            lines.append("")
            var ratioRows: [[String]] = [["benchmark", "tool", "versus", "ratio (>1: Stockade faster)"]]
            for r in report.ratios { ratioRows.append([r.name, r.tool, r.versus, fmt(r.median_ratio, 2) + "x"]) }
            lines += table(ratioRows)
        }
        if !report.memory.isEmpty {
            lines.append("")
            var memRows: [[String]] = [["memory", "workers", "RSS MiB"]]
            for m in report.memory { memRows.append([m.name, "\(m.workers)", fmt(Double(m.rss_bytes) / 1_048_576, 1)]) }
            lines += table(memRows)
        }
        for s in report.skipped { lines.append("skipped: \(s.name)/\(s.tool): \(s.reason)") }
        for n in report.notes { lines.append("note: \(n)") }
        return lines.joined(separator: "\n")
    }

    static func table(_ rows: [[String]]) -> [String] {
        guard let first = rows.first else { return [] }
        var widths = [Int](repeating: 0, count: first.count)
        for row in rows { for (i, cell) in row.enumerated() where i < widths.count { widths[i] = max(widths[i], cell.count) } }
        return rows.enumerated().flatMap { index, row -> [String] in
            let line = row.enumerated().map { i, cell in
                i < 2 ? cell + String(repeating: " ", count: widths[i] - cell.count)
                      : String(repeating: " ", count: widths[i] - cell.count) + cell
            }.joined(separator: "  ")
            if index == 0 { return [line, String(repeating: "-", count: line.count)] }
            return [line]
        }
    }
}
