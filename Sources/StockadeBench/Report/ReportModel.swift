/// The report's data, arranged for the Markdown and the charts.
struct ReportModel {
    typealias Row = BenchReport.Row

    /// One latency benchmark (rows without a concurrency level), e.g. "spawn".
    struct Latency {
        var name: String
        var rows: [Row]
    }

    /// Throughput rows of one benchmark family, e.g. "pool-warm" from pool-warm-c1 ... pool-warm-c64.
    struct Throughput {
        struct Point {
            var clients: Int
            var row: Row
        }
        struct Series {
            var tool: String
            var points: [Point]
        }
        var name: String
        var series: [Series]
        var rows: [Row] { series.flatMap { $0.points.map(\.row) } }
        var clients: [Int] { Array(Set(series.flatMap { $0.points.map(\.clients) })).sorted() }
    }

    /// RSS figures of one memory measurement against the worker count.
    struct Memory {
        var name: String
        var points: [(workers: Int, bytes: UInt64)]

        /// Least-squares MiB per extra worker, when there are two or more worker counts.
        var mibPerWorker: Double? {
            let xs = points.map { Double($0.workers) }
            let ys = points.map { ReportFormat.mib($0.bytes) }
            guard Set(xs).count >= 2 else { return nil }
            let mx = xs.reduce(0, +) / Double(xs.count)
            let my = ys.reduce(0, +) / Double(ys.count)
            var num = 0.0, den = 0.0
            for (x, y) in zip(xs, ys) { num += (x - mx) * (y - my); den += (x - mx) * (x - mx) }
            return den > 0 ? num / den : nil
        }
    }

    let report: BenchReport
    let latency: [Latency]
    let throughput: [Throughput]
    let memory: [Memory]
    let palette: ToolPalette

    init(_ report: BenchReport) {
        self.report = report

        var latency: [Latency] = []
        var throughputByName: [String: [(clients: Int, row: Row)]] = [:]
        var throughputOrder: [String] = []
        for row in report.benchmarks {
            if let c = row.concurrency {
                let family = ReportModel.family(of: row.name, clients: c)
                if throughputByName[family] == nil { throughputOrder.append(family) }
                throughputByName[family, default: []].append((c, row))
            } else if let i = latency.firstIndex(where: { $0.name == row.name }) {
                latency[i].rows.append(row)
            } else {
                latency.append(Latency(name: row.name, rows: [row]))
            }
        }
        self.latency = latency

        self.throughput = throughputOrder.map { family in
            let entries = throughputByName[family] ?? []
            var tools: [String] = []
            for e in entries where !tools.contains(e.row.tool) { tools.append(e.row.tool) }
            let series = tools.map { tool in
                Throughput.Series(tool: tool, points: entries.filter { $0.row.tool == tool }
                    .sorted { $0.clients < $1.clients }
                    .map { Throughput.Point(clients: $0.clients, row: $0.row) })
            }
            return Throughput(name: family, series: series)
        }

        var memory: [Memory] = []
        for m in report.memory {
            if let i = memory.firstIndex(where: { $0.name == m.name }) {
                memory[i].points.append((m.workers, m.rss_bytes))
            } else {
                memory.append(Memory(name: m.name, points: [(m.workers, m.rss_bytes)]))
            }
        }
        for i in memory.indices { memory[i].points.sort { $0.workers < $1.workers } }
        self.memory = memory

        var tools: [String] = []
        for r in report.benchmarks where !tools.contains(r.tool) { tools.append(r.tool) }
        for r in report.ratios where !tools.contains(r.versus) { tools.append(r.versus) }
        for s in report.skipped where !tools.contains(s.tool) { tools.append(s.tool) }
        self.palette = ToolPalette(tools: tools)
    }

    /// "pool-warm-c16" at 16 clients -> "pool-warm". Names without a concurrency suffix stay whole.
    static func family(of name: String, clients: Int) -> String {
        let digits = String(clients)
        guard name.hasSuffix(digits) else { return name }
        var stem = name.dropLast(digits.count)
        if stem.hasSuffix("c") || stem.hasSuffix("x") { stem = stem.dropLast() }
        var trimmed = false
        while let last = stem.last, last == "-" || last == "_" || last == "@" || last == "/" || last == " " {
            stem = stem.dropLast()
            trimmed = true
        }
        // Only a separated suffix counts: "spawn64" at 64 clients is not "spawn".
        guard trimmed, !stem.isEmpty else { return name }
        return String(stem)
    }

    static func isStockade(_ tool: String) -> Bool { tool.hasPrefix("stockade") }

    /// Peers whose versions HostInfo may record under their own name.
    static let knownPeers = ["bwrap", "crun", "runc", "firejail", "nsjail", "runsc", "podman", "docker"]

    /// Ratios for one row (Stockade tools only), in report order.
    func ratios(name: String, tool: String) -> [BenchReport.Ratio] {
        report.ratios.filter { $0.name == name && $0.tool == tool }
    }

    /// The peers that some ratio of these benchmark names compares against, in order.
    func ratioPeers(names: Set<String>) -> [String] {
        var out: [String] = []
        for r in report.ratios where names.contains(r.name) && !out.contains(r.versus) { out.append(r.versus) }
        return out
    }

    // MARK: Phrases

    /// Floors are not sandboxes: Stockade is expected to be slower than them.
    static func floorLabel(_ tool: String) -> String? {
        switch tool {
        case "fork-exec": return "fork/exec floor"
        case "host": return "unsandboxed host"
        default: return nil
        }
    }

    /// "2.6x faster than bwrap", "1.4x slower than crun", "0.4x the fork/exec floor".
    static func phrase(_ ratio: BenchReport.Ratio) -> String {
        let r = ratio.median_ratio
        if let floor = floorLabel(ratio.versus), r < 0.95 {
            return "\(ReportFormat.ratio(r)) the \(floor)"
        }
        let peer = floorLabel(ratio.versus).map { "the " + $0 } ?? ratio.versus
        if r >= 1.05 { return "\(ReportFormat.ratio(r)) faster than \(peer)" }
        if r > 0.95 { return "on par with \(peer) (\(ReportFormat.ratio(r)))" }
        return "\(ReportFormat.ratio(r > 0 ? 1 / r : .infinity)) slower than \(peer)"
    }
}

/// Tool colours, the same in every chart: Stockade in blues, peers in distinct hues, floors grey.
struct ToolPalette {
    static let stockadeFamily = ["#0969da", "#1a9fc0", "#0a3069", "#54aeff", "#3e63dd"]
    static let known: [String: String] = [
        "stockade-api": "#0969da",
        "stockade-cli": "#1a9fc0",
        "stockade-http": "#0a3069",
        "bwrap": "#e16f24",
        "crun": "#2da44e",
        "firejail": "#cf222e",
        "fork-exec": "#6e7781",
        "host": "#9a6700",
    ]
    static let peerFamily = ["#8250df", "#bf3989", "#953800", "#116329", "#a40e26", "#4d2d00"]

    private var colors: [String: String] = [:]

    init(tools: [String]) {
        var usedStockade = Set(tools.filter(ReportModel.isStockade).compactMap { ToolPalette.known[$0] })
        var usedPeers = Set(tools.filter { !ReportModel.isStockade($0) }.compactMap { ToolPalette.known[$0] })
        for tool in tools {
            if let c = ToolPalette.known[tool] { colors[tool] = c; continue }
            if ReportModel.isStockade(tool) {
                let c = ToolPalette.stockadeFamily.first { !usedStockade.contains($0) }
                    ?? ToolPalette.stockadeFamily[usedStockade.count % ToolPalette.stockadeFamily.count]
                usedStockade.insert(c)
                colors[tool] = c
            } else {
                let c = ToolPalette.peerFamily.first { !usedPeers.contains($0) }
                    ?? ToolPalette.peerFamily[usedPeers.count % ToolPalette.peerFamily.count]
                usedPeers.insert(c)
                colors[tool] = c
            }
        }
    }

    func isTool(_ name: String) -> Bool { colors[name] != nil }

    func color(_ tool: String) -> String {
        colors[tool] ?? (ReportModel.isStockade(tool) ? ToolPalette.stockadeFamily[0] : "#57606a")
    }

    /// Colours for series that are not tools (memory figures): Stockade's family, in order.
    static func series(_ index: Int) -> String { stockadeFamily[index % stockadeFamily.count] }
}
