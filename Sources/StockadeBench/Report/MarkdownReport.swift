/// The Markdown report: a summary first, then a section per benchmark with its table and chart.
struct MarkdownReport {
    /// Chart file names (relative to the report) by what they show; nil where no chart was drawn.
    struct Charts {
        var overview: String?
        var latency: [String: String] = [:]
        var throughput: [String: String] = [:]
        var memory: String?
    }

    let model: ReportModel
    let title: String
    let reproduce: String
    let charts: Charts

    func render() -> String {
        var out: [String] = []
        let host = model.report.host
        out.append("# \(md(title))")
        out.append("")
        out.append("_\(md(hostLine(host)))_")
        out.append("")
        summary(&out)
        latencySections(&out)
        throughputSections(&out)
        memorySection(&out)
        skippedSection(&out)
        notesSection(&out)
        hostSection(&out)
        reproduceSection(&out)
        return out.joined(separator: "\n") + "\n"
    }

    // MARK: Sections

    func summary(_ out: inout [String]) {
        out.append("## Summary")
        out.append("")
        var bullets: [String] = []
        for bench in model.latency {
            let ours = bench.rows.filter { ReportModel.isStockade($0.tool) }
            if ours.isEmpty {
                let peers = bench.rows.map { "\(md($0.tool)) \(ReportFormat.ms($0.median_ms)) median" }.joined(separator: ", ")
                bullets.append("- **\(md(bench.name))**: no Stockade figure; \(peers)")
                continue
            }
            for row in ours {
                let who = ours.count > 1 ? " (\(md(row.tool)))" : ""
                var parts = ["\(ReportFormat.ms(row.median_ms)) median"]
                parts += model.ratios(name: bench.name, tool: row.tool).map { md(ReportModel.phrase($0)) }
                bullets.append("- **\(md(bench.name))**\(who): " + parts.joined(separator: ", ")
                               + (row.noisy ? " (⚠️ noisy, see the notes)" : ""))
            }
        }
        for group in model.throughput {
            func peak(_ s: ReportModel.Throughput.Series) -> ReportModel.Throughput.Point? {
                s.points.filter { $0.row.throughput_rps != nil }
                    .max { ($0.row.throughput_rps ?? 0) < ($1.row.throughput_rps ?? 0) }
            }
            for s in group.series {
                guard let best = peak(s), let rps = best.row.throughput_rps else { continue }
                var line = "- **\(md(group.name))** (\(md(s.tool))): peaks at \(ReportFormat.thousands(rps)) requests/s "
                    + "with \(clients(best.clients))"
                if ReportModel.isStockade(s.tool) {
                    for peer in group.series where !ReportModel.isStockade(peer.tool) {
                        guard let theirs = peak(peer)?.row.throughput_rps, theirs > 0 else { continue }
                        line += ", \(ReportFormat.ratio(rps / theirs)) \(md(peer.tool))'s peak"
                    }
                }
                if let first = s.points.first, let last = s.points.last, s.points.count > 1 {
                    line += "; p99 \(ReportFormat.ms(first.row.p99_ms)) at \(clients(first.clients))"
                        + " → \(ReportFormat.ms(last.row.p99_ms)) at \(clients(last.clients))"
                } else {
                    line += "; p99 \(ReportFormat.ms(best.row.p99_ms))"
                }
                bullets.append(line)
            }
        }
        for m in model.memory {
            guard let first = m.points.first, let last = m.points.last else { continue }
            var line = "- **\(md(m.name))**: \(mib(first.bytes)) RSS with \(workers(first.workers))"
            if m.points.count > 1 {
                line += " → \(mib(last.bytes)) with \(workers(last.workers))"
                if let slope = m.mibPerWorker { line += " (about \(ReportFormat.sig(slope)) MiB per extra worker)" }
            }
            bullets.append(line)
        }
        if bullets.isEmpty { bullets.append("- This run produced no figures.") }
        out += bullets
        out.append("")
        out.append("Ratios are the median of pair-by-pair ratios (peer time ÷ Stockade time) over interleaved rounds: "
                   + "above 1x Stockade is faster. The floors (plain fork/exec, the unsandboxed host) are not sandboxes; "
                   + "they show what the isolation costs.")
        out.append("")
        if let overview = charts.overview {
            out.append(image("Stockade against its peers", overview))
            out.append("")
        }
    }

    func latencySections(_ out: inout [String]) {
        out.append("## Latency")
        out.append("")
        guard !model.latency.isEmpty else {
            out.append("No latency benchmarks in this run.")
            out.append("")
            return
        }
        for bench in model.latency {
            out.append("### \(md(bench.name))")
            out.append("")
            if let chart = charts.latency[bench.name] {
                out.append(image("\(bench.name): latency per tool", chart))
            } else {
                out.append("_No chart: no samples._")
            }
            out.append("")
            out += rowTable(bench.rows, first: nil)
            out.append("")
        }
        out.append("Times are wall-clock milliseconds per run; warm-up runs are not counted. "
                   + "⚠️ marks a noisy figure (p90 more than twice the median).")
        out.append("")
    }

    func throughputSections(_ out: inout [String]) {
        out.append("## Throughput")
        out.append("")
        guard !model.throughput.isEmpty else {
            out.append("No throughput benchmarks in this run; no throughput chart.")
            out.append("")
            return
        }
        for group in model.throughput {
            out.append("### \(md(group.name))")
            out.append("")
            if let chart = charts.throughput[group.name] {
                out.append(image("\(group.name): throughput and p99 latency by concurrent clients", chart))
            } else {
                out.append("_No chart: no figures._")
            }
            out.append("")
            // Ordered by clients, then by tool, so each concurrency level reads as one block.
            let rows = group.series.flatMap { s in s.points.map { ($0.clients, $0.row) } }
            let order = group.series.map(\.tool)
            let sorted = rows.sorted { a, b in
                a.0 != b.0 ? a.0 < b.0 : (order.firstIndex(of: a.1.tool) ?? 0) < (order.firstIndex(of: b.1.tool) ?? 0)
            }
            out += rowTable(sorted.map(\.1), first: ("clients", sorted.map { "\($0.0)" }))
            out.append("")
        }
    }

    func memorySection(_ out: inout [String]) {
        out.append("## Memory")
        out.append("")
        guard !model.memory.isEmpty else {
            out.append("No memory figures in this run; no memory chart.")
            out.append("")
            return
        }
        if let chart = charts.memory {
            out.append(image("Memory against worker count", chart))
            out.append("")
        }
        out.append("| measurement | workers | RSS (MiB) | per worker (MiB) |")
        out.append("|---|--:|--:|--:|")
        for m in model.memory {
            for p in m.points {
                let per = p.workers > 0 ? ReportFormat.sig(ReportFormat.mib(p.bytes) / Double(p.workers)) : "-"
                out.append("| \(md(m.name)) | \(p.workers) | \(ReportFormat.sig(ReportFormat.mib(p.bytes))) | \(per) |")
            }
        }
        out.append("")
        let slopes = model.memory.compactMap { m in m.mibPerWorker.map { (m.name, $0) } }
        for (name, slope) in slopes {
            out.append("- \(md(name)) grows by about **\(ReportFormat.sig(slope)) MiB per extra worker** (least squares).")
        }
        if !slopes.isEmpty { out.append("") }
    }

    func skippedSection(_ out: inout [String]) {
        out.append("## Skipped peers")
        out.append("")
        guard !model.report.skipped.isEmpty else {
            out.append("None: every peer ran.")
            out.append("")
            return
        }
        // One line per tool and reason, listing the benchmarks it was skipped in.
        var groups: [(tool: String, reason: String, names: [String])] = []
        for s in model.report.skipped {
            if let i = groups.firstIndex(where: { $0.tool == s.tool && $0.reason == s.reason }) {
                if !groups[i].names.contains(s.name) { groups[i].names.append(s.name) }
            } else {
                groups.append((s.tool, s.reason, [s.name]))
            }
        }
        out.append("| tool | benchmarks | reason |")
        out.append("|---|---|---|")
        for g in groups {
            out.append("| \(md(g.tool)) | \(g.names.map(md).joined(separator: ", ")) | \(md(g.reason)) |")
        }
        out.append("")
    }

    func notesSection(_ out: inout [String]) {
        out.append("## Notes")
        out.append("")
        let noisy = model.report.benchmarks.filter(\.noisy)
        if model.report.notes.isEmpty && noisy.isEmpty {
            out.append("No noise: every figure's p90 is within twice its median.")
            out.append("")
            return
        }
        for n in model.report.notes { out.append("- \(md(n))") }
        if !noisy.isEmpty {
            out.append("- Noisy figures (p90 more than twice the median; rerun on a quieter machine before relying on them): "
                       + noisy.map { "\(md($0.name))/\(md($0.tool))" }.joined(separator: ", "))
        }
        out.append("")
    }

    func hostSection(_ out: inout [String]) {
        out.append("## Host")
        out.append("")
        let host = model.report.host
        guard !host.isEmpty else {
            out.append("No host information was recorded.")
            out.append("")
            return
        }
        let known: [(String, String)] = [
            ("date", "date"), ("kernel", "kernel"), ("arch", "architecture"), ("cpus", "CPUs"),
            ("memory_gib", "memory (GiB)"), ("cgroup", "cgroup mode"), ("landlock_abi", "Landlock ABI"),
        ]
        out.append("| | |")
        out.append("|---|---|")
        for (key, label) in known {
            if let v = host[key] { out.append("| \(label) | \(md(v)) |") }
        }
        let others = host.keys.filter { k in !known.contains { $0.0 == k } }.sorted()
        for k in others {
            let label = model.palette.isTool(k) || ReportModel.knownPeers.contains(k) ? "\(md(k)) version" : md(k)
            out.append("| \(label) | \(md(host[k] ?? "")) |")
        }
        out.append("")
    }

    func reproduceSection(_ out: inout [String]) {
        out.append("## How to reproduce")
        out.append("")
        var fence = "```"
        while reproduce.contains(fence) { fence += "`" }
        out.append(fence + "sh")
        out.append(reproduce)
        out.append(fence)
        out.append("")
        out.append("Each benchmark runs its tools interleaved, round by round (A B A B ...), with warm-up rounds that are "
                   + "not counted; ratios pair the runs of the same round. Peers that are not installed are listed as skipped.")
    }

    // MARK: Pieces

    /// A table of rows: tool, n, median, p90, p99, min, max, rps (when any), one ratio column per peer.
    func rowTable(_ rows: [BenchReport.Row], first: (title: String, values: [String])?) -> [String] {
        let names = Set(rows.map(\.name))
        let peers = model.ratioPeers(names: names)
        let hasRps = rows.contains { $0.throughput_rps != nil }
        var header: [String] = []
        var align: [String] = []
        if let first { header.append(first.title); align.append("--:") }
        header += ["tool", "n", "median ms", "p90 ms", "p99 ms", "min ms", "max ms"]
        align += ["---", "--:", "--:", "--:", "--:", "--:", "--:"]
        if hasRps { header.append("requests/s"); align.append("--:") }
        for p in peers { header.append("vs \(md(p))"); align.append("--:") }
        var lines = ["| " + header.joined(separator: " | ") + " |", "|" + align.joined(separator: "|") + "|"]
        for (i, r) in rows.enumerated() {
            var cells: [String] = []
            if let first { cells.append(i < first.values.count ? first.values[i] : "") }
            let tool = ReportModel.isStockade(r.tool) ? "**\(md(r.tool))**" : md(r.tool)
            cells.append(tool + (r.noisy ? " ⚠️" : ""))
            cells.append("\(r.samples)")
            cells.append(ReportModel.isStockade(r.tool) ? "**\(ReportFormat.sig(r.median_ms))**" : ReportFormat.sig(r.median_ms))
            cells += [r.p90_ms, r.p99_ms, r.min_ms, r.max_ms].map(ReportFormat.sig)
            if hasRps { cells.append(r.throughput_rps.map(ReportFormat.thousands) ?? "") }
            let ratios = model.ratios(name: r.name, tool: r.tool)
            for p in peers {
                cells.append(ratios.first { $0.versus == p }.map { ReportFormat.ratio($0.median_ratio) } ?? "")
            }
            lines.append("| " + cells.joined(separator: " | ") + " |")
        }
        return lines
    }

    func hostLine(_ host: [String: String]) -> String {
        var parts: [String] = []
        parts.append("Run " + (host["date"].map { "on \($0)" } ?? "at an unrecorded date"))
        var machine: [String] = []
        if let k = host["kernel"] { machine.append("Linux \(k)" + (host["arch"].map { " \($0)" } ?? "")) }
        if let c = host["cpus"] { machine.append("\(c) CPUs") }
        if let m = host["memory_gib"] { machine.append("\(m) GiB memory") }
        if let c = host["cgroup"] { machine.append("cgroup \(c)") }
        if let l = host["landlock_abi"] { machine.append(l == "none" ? "no Landlock" : "Landlock ABI \(l)") }
        if !machine.isEmpty { parts.append(machine.joined(separator: ", ")) }
        let versioned = host.keys.filter { ReportModel.knownPeers.contains($0) || model.palette.isTool($0) }.sorted()
        let peers = versioned.compactMap { p in host[p].map { "\(p) \($0)" } }
        if !peers.isEmpty { parts.append(peers.joined(separator: ", ")) }
        return parts.joined(separator: " · ")
    }

    func image(_ alt: String, _ file: String) -> String { "![\(md(alt))](\(file))" }

    func clients(_ n: Int) -> String { n == 1 ? "1 client" : "\(n) clients" }
    func workers(_ n: Int) -> String { n == 1 ? "1 worker" : "\(n) workers" }
    func mib(_ bytes: UInt64) -> String { ReportFormat.sig(ReportFormat.mib(bytes)) + " MiB" }

    /// Escapes text for Markdown (inline and table cells): punctuation that would format, link or
    /// break a table is backslash-escaped, and newlines become spaces.
    func md(_ s: String) -> String { MarkdownReport.escape(s) }

    static func escape(_ s: String) -> String {
        var out = ""
        let chars = Array(s)
        for (i, ch) in chars.enumerated() {
            switch ch {
            case "_" where i > 0 && i + 1 < chars.count && chars[i - 1].isLetterOrDigit && chars[i + 1].isLetterOrDigit:
                // Inside a word (x86_64, memory_gib) an underscore never starts emphasis.
                out.append(ch)
            case "\\", "`", "*", "_", "[", "]", "<", ">", "|", "&", "~", "#", "!", "{", "}":
                out.append("\\")
                out.append(ch)
            case "\n", "\r", "\r\n", "\t":
                out.append(" ")
            default:
                out.append(ch)
            }
        }
        return out
    }
}

private extension Character {
    var isLetterOrDigit: Bool { isLetter || isNumber }
}
