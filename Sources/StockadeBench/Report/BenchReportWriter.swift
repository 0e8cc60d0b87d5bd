import FoundationEssentials

/// `stockade bench --report DIR`: a Markdown report with SVG charts next to it.
///
/// Writes, into `directory` (created if needed):
/// - `README.md`: title, date and host, a summary, a section per benchmark (table and chart),
///   throughput, memory, skipped peers, noise notes, host details and how to reproduce the run;
/// - `overview.svg`: every Stockade-to-peer ratio on one axis centred on 1x;
/// - `latency-<benchmark>.svg`: latency distribution per tool (log-scale ms);
/// - `throughput-<benchmark>.svg`: requests per second and p99 against concurrent clients;
/// - `memory.svg`: RSS against worker count.
/// A chart with no data is not written, and the Markdown says so.
public enum BenchReportWriter {
    public struct WriteError: Error, CustomStringConvertible {
        public var path: String
        public var underlying: String
        public var description: String { "cannot write the benchmark report to \(path): \(underlying)" }
    }

    /// Writes the report as `README.md` and its charts; returns every path written, Markdown first.
    public static func write(_ report: BenchReport, to directory: String, title: String = "Stockade benchmarks",
                             reproduce: String) throws -> [String] {
        try write(report, to: directory, title: title, reproduce: reproduce, markdownFile: "README.md")
    }

    /// As above, with the Markdown file's name chosen (e.g. `BENCHMARKS.md`) and, if given, the
    /// charts in a subdirectory of `directory` (e.g. `benchmarks`) that the Markdown links into.
    public static func write(_ report: BenchReport, to directory: String, title: String = "Stockade benchmarks",
                             reproduce: String, markdownFile: String, chartsDirectory: String? = nil) throws -> [String] {
        let files = render(report, title: title, reproduce: reproduce, markdownFile: markdownFile,
                           chartsDirectory: chartsDirectory)
        do {
            try FileManager.default.createDirectory(atPath: directory, withIntermediateDirectories: true)
        } catch {
            throw WriteError(path: directory, underlying: "\(error)")
        }
        var written: [String] = []
        for (name, text) in files {
            let path = directory.hasSuffix("/") ? directory + name : directory + "/" + name
            do {
                if name.contains("/") {
                    let parent = String(path[..<(path.lastIndex(of: "/") ?? path.endIndex)])
                    try FileManager.default.createDirectory(atPath: parent, withIntermediateDirectories: true)
                }
                try Data(text.utf8).write(to: URL(filePath: path), options: .atomic)
            } catch {
                throw WriteError(path: path, underlying: "\(error)")
            }
            written.append(path)
        }
        return written
    }

    /// The files of the report, by name relative to the report's directory, Markdown first.
    static func render(_ report: BenchReport, title: String, reproduce: String,
                       markdownFile: String = "README.md", chartsDirectory: String? = nil) -> [(name: String, text: String)] {
        let model = ReportModel(report)
        var names = Set<String>([markdownFile])
        let prefix = chartsDirectory.map { dir in
            let parts = dir.split(separator: "/").map(String.init).filter { $0 != "." && $0 != ".." }
            return parts.isEmpty ? "" : parts.map(slug).joined(separator: "/") + "/"
        } ?? ""
        func unique(_ stem: String) -> String {
            var name = prefix + stem + ".svg"
            var i = 2
            while names.contains(name) { name = "\(prefix)\(stem)-\(i).svg"; i += 1 }
            names.insert(name)
            return name
        }

        var svgs: [(String, String)] = []
        var charts = MarkdownReport.Charts()
        if let svg = RatioChart.render(model) {
            let name = unique("overview")
            charts.overview = name
            svgs.append((name, svg))
        }
        for bench in model.latency {
            guard let svg = LatencyChart.render(bench, palette: model.palette) else { continue }
            let name = unique("latency-" + slug(bench.name))
            charts.latency[bench.name] = name
            svgs.append((name, svg))
        }
        for group in model.throughput {
            guard let svg = ThroughputChart.render(group, palette: model.palette) else { continue }
            let name = unique("throughput-" + slug(group.name))
            charts.throughput[group.name] = name
            svgs.append((name, svg))
        }
        if let svg = MemoryChart.render(model.memory) {
            let name = unique("memory")
            charts.memory = name
            svgs.append((name, svg))
        }
        let markdown = MarkdownReport(model: model, title: title, reproduce: reproduce, charts: charts).render()
        return [(markdownFile, markdown)] + svgs
    }

    /// A file-name-safe form of a benchmark name: lowercase letters, digits and dashes.
    static func slug(_ s: String) -> String {
        var out = ""
        for ch in s.lowercased() {
            if ch.isASCII && (ch.isLetter || ch.isNumber) {
                out.append(ch)
            } else if !out.isEmpty && !out.hasSuffix("-") {
                out.append("-")
            }
        }
        while out.hasSuffix("-") { out.removeLast() }
        return out.isEmpty ? "chart" : String(out.prefix(80))
    }
}
