import FoundationEssentials
import Glibc
import Testing
@testable import StockadeBench

@Suite("BenchReport: the --report DIR Markdown and SVG charts")
struct BenchReportWriterTests {
    static let weird = "we<i>&rd\"tool'"

    /// A run with latency benchmarks (some with raw samples), ratios, throughput and memory rows,
    /// skipped peers and notes.
    static func syntheticReport() -> BenchReport {
        var report = BenchReport(host: [
            "date": "2025-06-01T12:00:00Z", "kernel": "6.8.0-test", "arch": "x86_64", "cpus": "8",
            "memory_gib": "15.6", "cgroup": "v2", "landlock_abi": "4", "bwrap": "0.8.0",
        ])
        func samples(_ median: Double, _ n: Int, spread: Double = 0.3) -> [Double] {
            // Deterministic, right-skewed around `median`.
            (0..<n).map { i in
                let u = Double((i * 7919) % n) / Double(n)
                return median * (1 - spread / 2 + spread * u + (u > 0.97 ? 2 * spread : 0))
            }
        }
        func row(_ name: String, _ tool: String, _ raw: [Double], keepRaw: Bool = true,
                 rps: Double? = nil, clients: Int? = nil) -> BenchReport.Row {
            .init(name: name, tool: tool, stats: Statistics(raw), raw: keepRaw ? raw : nil, throughput: rps, concurrency: clients)
        }
        report.benchmarks = [
            row("spawn", "stockade-api", samples(2.1, 300)),
            row("spawn", "stockade-cli", samples(6.3, 300)),
            row("spawn", "bwrap", samples(5.5, 300, spread: 0.6)),
            row("spawn", "fork-exec", samples(0.84, 300)),
            row("worker-cold-start", "stockade-api", samples(48, 12)),
            row("ping", "stockade-api", samples(0.041, 2000), keepRaw: false),
            row("warm-shell", "stockade-api", samples(0.9, 300)),
            row("warm-shell", "bwrap", samples(4.4, 300)),
            row("warm-shell", "host", samples(0.7, 300)),
            row("warm-shell", weird, samples(3.0, 300)),
        ]
        for (c, rps, p99) in [(1, 1850.0, 0.9), (4, 6400.0, 1.3), (16, 11800.0, 3.9), (64, 12300.0, 14.8)] {
            var r = row("pool-warm-c\(c)", "stockade-api", samples(p99 / 2, 200), keepRaw: false, rps: rps, clients: c)
            r.p99_ms = p99
            report.benchmarks.append(r)
            report.benchmarks.append(row("http-c\(c)", "stockade-http", samples(p99, 200), keepRaw: false, rps: rps / 3, clients: c))
        }
        report.ratios = [
            .init(name: "spawn", tool: "stockade-api", versus: "bwrap", median_ratio: 2.62),
            .init(name: "spawn", tool: "stockade-api", versus: "fork-exec", median_ratio: 0.40),
            .init(name: "spawn", tool: "stockade-cli", versus: "bwrap", median_ratio: 0.87),
            .init(name: "spawn", tool: "stockade-cli", versus: "fork-exec", median_ratio: 0.13),
            .init(name: "warm-shell", tool: "stockade-api", versus: "bwrap", median_ratio: 4.9),
            .init(name: "warm-shell", tool: "stockade-api", versus: "host", median_ratio: 0.78),
            .init(name: "warm-shell", tool: "stockade-api", versus: weird, median_ratio: 3.3),
        ]
        report.skipped = [
            .init(name: "spawn", tool: "crun", reason: "crun is not installed (apt-get install crun)"),
            .init(name: "spawn", tool: "firejail", reason: "firejail is not installed"),
            .init(name: "warm-python", tool: "crun", reason: "crun is not installed (apt-get install crun)"),
        ]
        report.memory = [
            .init(name: "worker-idle-rss", workers: 1, rss_bytes: 3_300_000),
            .init(name: "daemon-rss", workers: 1, rss_bytes: 40 * 1_048_576),
            .init(name: "daemon-rss", workers: 4, rss_bytes: 46 * 1_048_576),
            .init(name: "daemon-rss", workers: 16, rss_bytes: 70 * 1_048_576),
            .init(name: "daemon-rss", workers: 64, rss_bytes: 166 * 1_048_576),
        ]
        report.notes = ["spawn/bwrap: noisy (p90 9.1 ms is more than twice the median 4.2 ms)"]
        return report
    }

    static func temporaryDirectory() -> String {
        var template = Array("/tmp/stockade-test-report-XXXXXX".utf8CString)
        let made = template.withUnsafeMutableBufferPointer { buffer -> String? in
            guard let base = buffer.baseAddress, mkdtemp(base) != nil else { return nil }
            return String(cString: base)
        }
        return made ?? "/tmp/stockade-test-report-\(getpid())"
    }

    static func read(_ path: String) -> String {
        guard let data = FileManager.default.contents(atPath: path) else { return "" }
        return String(decoding: data, as: UTF8.self)
    }

    /// Writes the synthetic report into a fresh directory and hands back the files' texts by name.
    static func writeSample(_ report: BenchReport = syntheticReport()) throws -> (paths: [String], files: [String: String]) {
        let dir = temporaryDirectory()
        defer { try? FileManager.default.removeItem(atPath: dir) }
        // A subdirectory that does not exist yet: the writer creates it.
        let paths = try BenchReportWriter.write(report, to: dir + "/report", reproduce: "scripts/bench && stockade bench all --report out")
        var files: [String: String] = [:]
        for p in paths {
            #expect(access(p, R_OK) == 0, "missing \(p)")
            files[String(p.split(separator: "/").last ?? "")] = read(p)
        }
        return (paths, files)
    }

    @Test("writes README.md first, then one SVG per chart")
    func filesWritten() throws {
        let (paths, files) = try Self.writeSample()
        #expect(paths.first?.hasSuffix("/report/README.md") == true)
        let names = Set(files.keys)
        for expected in ["README.md", "overview.svg", "latency-spawn.svg", "latency-worker-cold-start.svg", "latency-ping.svg",
                         "latency-warm-shell.svg", "throughput-pool-warm.svg", "throughput-http.svg", "memory.svg"] {
            #expect(names.contains(expected), "\(expected) not written; got \(names.sorted())")
        }
        #expect(paths.count == 9)
        #expect(files.values.allSatisfy { !$0.isEmpty })
    }

    @Test("with a charts subdirectory the SVGs go there and the Markdown links into it")
    func chartsSubdirectory() throws {
        let dir = Self.temporaryDirectory()
        defer { try? FileManager.default.removeItem(atPath: dir) }
        let paths = try BenchReportWriter.write(Self.syntheticReport(), to: dir, reproduce: "scripts/bench",
                                                markdownFile: "BENCHMARKS.md", chartsDirectory: "../benchmarks")
        #expect(paths.first == dir + "/BENCHMARKS.md")
        #expect(paths.count == 9)
        // `..` is dropped: the charts stay inside the report's directory.
        #expect(paths.dropFirst().allSatisfy { $0.hasPrefix(dir + "/benchmarks/") && $0.hasSuffix(".svg") })
        for p in paths { #expect(access(p, R_OK) == 0, "missing \(p)") }
        let md = Self.read(dir + "/BENCHMARKS.md")
        #expect(md.contains("](benchmarks/overview.svg)"))
        #expect(md.contains("](benchmarks/memory.svg)"))
        #expect(!md.contains("](overview.svg)"))
    }

    @Test("the Markdown has the summary lines, tables, sections and a link to every SVG")
    func markdown() throws {
        let (_, files) = try Self.writeSample()
        let md = files["README.md"] ?? ""
        #expect(md.hasPrefix("# Stockade benchmarks\n"))
        #expect(md.contains("2025-06-01T12:00:00Z"))
        #expect(md.contains("Linux 6.8.0-test x86_64, 8 CPUs, 15.6 GiB memory, cgroup v2, Landlock ABI 4"))
        #expect(md.contains("bwrap 0.8.0"))
        // Summary: Stockade's median and its ratio to each peer.
        #expect(md.contains("- **spawn** (stockade-api): 2.10 ms median, 2.6x faster than bwrap, 0.4x the fork/exec floor"))
        #expect(md.contains("- **spawn** (stockade-cli): 6.30 ms median, 1.1x slower than bwrap, 0.13x the fork/exec floor"))
        #expect(md.contains("- **ping**: 0.0410 ms median"))
        #expect(md.contains("- **warm-shell**: 0.900 ms median, 4.9x faster than bwrap, 0.78x the unsandboxed host, 3.3x faster than we\\<i\\>\\&rd\"tool'"))
        #expect(md.contains("- **pool-warm** (stockade-api): peaks at 12,300 requests/s with 64 clients; p99 0.900 ms at 1 client → 14.8 ms at 64 clients"))
        #expect(md.contains("- **daemon-rss**: 40.0 MiB RSS with 1 worker → 166 MiB with 64 workers (about 2.00 MiB per extra worker)"))
        // Sections and tables.
        for heading in ["## Summary", "## Latency", "### spawn", "### warm-shell", "## Throughput", "### pool-warm",
                        "## Memory", "## Skipped peers", "## Notes", "## Host", "## How to reproduce"] {
            #expect(md.contains("\n\(heading)\n"), "missing \(heading)")
        }
        #expect(md.contains("| tool | n | median ms | p90 ms | p99 ms | min ms | max ms | vs bwrap | vs fork-exec |"))
        #expect(md.contains("| **stockade-api** | 300 | **2.10** |"))
        #expect(md.contains("| clients | tool | n | median ms | p90 ms | p99 ms | min ms | max ms | requests/s |"))
        #expect(md.contains("| 64 | **stockade-api** | 200 |"))
        #expect(md.contains("| daemon-rss | 64 | 166 | 2.59 |"))
        #expect(md.contains("| crun | spawn, warm-python | crun is not installed (apt-get install crun) |"))
        #expect(md.contains("| firejail | spawn | firejail is not installed |"))
        #expect(md.contains("- spawn/bwrap: noisy"))
        #expect(md.contains("```sh\nscripts/bench && stockade bench all --report out\n```"))
        // A link to every SVG written.
        for name in files.keys where name.hasSuffix(".svg") {
            #expect(md.contains("](\(name))"), "no link to \(name)")
        }
    }

    @Test("every SVG is well-formed XML with labelled axes, a legend and the tools' names")
    func svgs() throws {
        let (_, files) = try Self.writeSample()
        for (name, svg) in files where name.hasSuffix(".svg") {
            #expect(XMLCheck.wellFormed(svg) == nil, "\(name): \(XMLCheck.wellFormed(svg) ?? "")")
            #expect(svg.hasPrefix("<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n<svg xmlns=\"http://www.w3.org/2000/svg\""))
            #expect(svg.contains("<title>"))
        }
        let spawn = files["latency-spawn.svg"] ?? ""
        #expect(spawn.contains("latency per run (ms, log scale)"))
        for label in ["stockade-api", "stockade-cli", "bwrap", "fork-exec", "min–max", "median–p90", "p90–p99"] {
            #expect(spawn.contains(">\(label)<"), "spawn chart lacks \(label)")
        }
        let pool = files["throughput-pool-warm.svg"] ?? ""
        for label in ["concurrent clients", "requests per second", "p99 latency (ms)", "stockade-api", ">64<"] {
            #expect(pool.contains(label), "pool chart lacks \(label)")
        }
        let memory = files["memory.svg"] ?? ""
        for label in [">workers<", "RSS (MiB)", "daemon-rss", "worker-idle-rss"] {
            #expect(memory.contains(label), "memory chart lacks \(label)")
        }
        let overview = files["overview.svg"] ?? ""
        for label in ["vs bwrap", "vs fork-exec", "peer time ÷ Stockade time (log scale)", "spawn · stockade-api"] {
            #expect(overview.contains(label), "overview lacks \(label)")
        }
        // Tool colours are the same in every chart.
        #expect(spawn.contains("#e16f24") && (files["latency-warm-shell.svg"] ?? "").contains("#e16f24"))
    }

    @Test("text with <&> and quotes is escaped in SVG and Markdown")
    func escaping() throws {
        let (_, files) = try Self.writeSample()
        let chart = files["latency-warm-shell.svg"] ?? ""
        #expect(chart.contains("we&lt;i&gt;&amp;rd&quot;tool&apos;"))
        #expect(!chart.contains(Self.weird))
        #expect(XMLCheck.wellFormed(chart) == nil)
        let md = files["README.md"] ?? ""
        #expect(md.contains("we\\<i\\>\\&rd\"tool'"))
        #expect(!md.contains(Self.weird))
        #expect(SVGDocument.escape("a<b>&\"c'") == "a&lt;b&gt;&amp;&quot;c&apos;")
        #expect(SVGDocument.escape("bell\u{07}") == "bell")
        #expect(MarkdownReport.escape("a|b*c _d_ x86_64") == "a\\|b\\*c \\_d\\_ x86_64")
    }

    @Test("an empty run writes only the Markdown and says why there are no charts")
    func empty() throws {
        let (paths, files) = try Self.writeSample(BenchReport(host: [:]))
        #expect(paths.count == 1)
        let md = files["README.md"] ?? ""
        #expect(md.contains("No latency benchmarks in this run."))
        #expect(md.contains("No throughput benchmarks in this run; no throughput chart."))
        #expect(md.contains("No memory figures in this run; no memory chart."))
        #expect(md.contains("None: every peer ran."))
        #expect(md.contains("This run produced no figures."))
    }

    @Test("single-point memory figures become bars; lone benchmarks still chart")
    func sparse() throws {
        var report = BenchReport(host: ["kernel": "6.1"])
        report.memory = [.init(name: "worker-idle-rss", workers: 1, rss_bytes: 5 * 1_048_576)]
        report.benchmarks = [.init(name: "ping", tool: "stockade-api", stats: Statistics([0.04, 0.05, 0.06]), raw: [0.04, 0.05, 0.06])]
        let (_, files) = try Self.writeSample(report)
        let memory = files["memory.svg"] ?? ""
        #expect(memory.contains("5.00 MiB"))
        #expect(XMLCheck.wellFormed(memory) == nil)
        #expect(XMLCheck.wellFormed(files["latency-ping.svg"] ?? "") == nil)
        #expect(files["overview.svg"] == nil)
    }

    @Test("helpers: concurrency families, log ticks, file names, numbers")
    func helpers() {
        #expect(ReportModel.family(of: "pool-warm-c16", clients: 16) == "pool-warm")
        #expect(ReportModel.family(of: "http@64", clients: 64) == "http")
        #expect(ReportModel.family(of: "spawn64", clients: 64) == "spawn64")
        let log = LogScale(lower: 0.04, upper: 60, rangeStart: 0, rangeEnd: 100)
        #expect(log.lower <= 0.04 && log.upper >= 60)
        #expect(log.ticks.contains(1) && log.ticks.contains(10))
        #expect(BenchReportWriter.slug("Warm Python (3.12)") == "warm-python-3-12")
        #expect(BenchReportWriter.slug("<&>") == "chart")
        #expect(ReportFormat.thousands(1234567.4) == "1,234,567")
        #expect(ReportFormat.sig(0.0412) == "0.0412")
        #expect(ReportFormat.ratio(2.62) == "2.6x")
        #expect(ReportFormat.ratio(0.40) == "0.4x")
        #expect(ReportFormat.ratio(0.131) == "0.13x")
        #expect(ReportFormat.compact(12345) == "12.3k")
        // The checker itself catches what it should.
        #expect(XMLCheck.wellFormed("<a><b/></a>") == nil)
        #expect(XMLCheck.wellFormed("<a><b></a>") != nil)
        #expect(XMLCheck.wellFormed("<a>&</a>") != nil)
        #expect(XMLCheck.wellFormed("<a x=\"<\"/>") != nil)
        #expect(XMLCheck.wellFormed("<a x=y/>") != nil)
        #expect(XMLCheck.wellFormed("<a/><b/>") != nil)
    }
}

/// A small XML well-formedness checker: balanced tags, quoted attributes, valid entities, one root.
enum XMLCheck {
    /// nil when well-formed, else what is wrong.
    static func wellFormed(_ text: String) -> String? {
        let s = Array(text.unicodeScalars)
        var i = 0
        var stack: [String] = []
        var roots = 0
        func isNameChar(_ c: Unicode.Scalar) -> Bool {
            c.properties.isAlphabetic || ("0"..."9").contains(c) || c == "-" || c == "_" || c == ":" || c == "."
        }
        func entity(at j: Int) -> Int? {
            // Returns the index after ';' of a valid entity starting at '&'.
            var k = j + 1
            var name = ""
            while k < s.count, s[k] != ";", k - j < 12 { name.unicodeScalars.append(s[k]); k += 1 }
            guard k < s.count, s[k] == ";" else { return nil }
            let ok = ["amp", "lt", "gt", "quot", "apos"].contains(name)
                || (name.hasPrefix("#x") && name.count > 2 && name.dropFirst(2).allSatisfy(\.isHexDigit))
                || (name.hasPrefix("#") && name.count > 1 && name.dropFirst().allSatisfy(\.isNumber))
            return ok ? k + 1 : nil
        }
        while i < s.count {
            let c = s[i]
            if c == "<" {
                if text.unicodeScalars.count > i + 4, String(String.UnicodeScalarView(s[i..<(i + 4)])) == "<!--" {
                    var k = i + 4
                    while k + 2 < s.count, !(s[k] == "-" && s[k + 1] == "-" && s[k + 2] == ">") { k += 1 }
                    guard k + 2 < s.count else { return "unterminated comment" }
                    i = k + 3
                    continue
                }
                if i + 1 < s.count, s[i + 1] == "?" {
                    var k = i + 2
                    while k + 1 < s.count, !(s[k] == "?" && s[k + 1] == ">") { k += 1 }
                    guard k + 1 < s.count else { return "unterminated processing instruction" }
                    i = k + 2
                    continue
                }
                let closing = i + 1 < s.count && s[i + 1] == "/"
                var k = i + (closing ? 2 : 1)
                var name = ""
                while k < s.count, isNameChar(s[k]) { name.unicodeScalars.append(s[k]); k += 1 }
                guard !name.isEmpty else { return "empty tag name at \(i)" }
                var selfClosing = false
                // Attributes: name="value" or name='value'.
                while k < s.count, s[k] != ">" {
                    let ch = s[k]
                    if ch == " " || ch == "\n" || ch == "\t" || ch == "\r" { k += 1; continue }
                    if ch == "/" {
                        guard k + 1 < s.count, s[k + 1] == ">", !closing else { return "stray / in <\(name)>" }
                        selfClosing = true
                        k += 1
                        continue
                    }
                    guard !closing else { return "attributes on </\(name)>" }
                    var attr = ""
                    while k < s.count, isNameChar(s[k]) { attr.unicodeScalars.append(s[k]); k += 1 }
                    guard !attr.isEmpty, k + 1 < s.count, s[k] == "=", s[k + 1] == "\"" || s[k + 1] == "'" else {
                        return "bad attribute in <\(name)> at \(k)"
                    }
                    let quote = s[k + 1]
                    k += 2
                    while k < s.count, s[k] != quote {
                        if s[k] == "<" { return "< in attribute \(attr) of <\(name)>" }
                        if s[k] == "&" {
                            guard let next = entity(at: k) else { return "bad entity in attribute \(attr) of <\(name)>" }
                            k = next
                            continue
                        }
                        k += 1
                    }
                    guard k < s.count else { return "unterminated attribute \(attr)" }
                    k += 1
                }
                guard k < s.count else { return "unterminated tag <\(name)>" }
                if closing {
                    guard stack.last == name else { return "</\(name)> closes <\(stack.last ?? "nothing")>" }
                    stack.removeLast()
                } else if !selfClosing {
                    if stack.isEmpty { roots += 1 }
                    stack.append(name)
                } else if stack.isEmpty {
                    roots += 1
                }
                i = k + 1
            } else if c == "&" {
                guard let next = entity(at: i) else { return "bad entity in text at \(i)" }
                i = next
            } else if c == ">" {
                return "stray > in text at \(i)"
            } else {
                if stack.isEmpty, !(c == " " || c == "\n" || c == "\t" || c == "\r") { return "text outside the root at \(i)" }
                i += 1
            }
        }
        guard stack.isEmpty else { return "unclosed <\(stack.joined(separator: "> <"))>" }
        return roots == 1 ? nil : "\(roots) root elements"
    }
}
