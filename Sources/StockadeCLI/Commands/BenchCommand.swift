import ArgumentParser
import FoundationEssentials
import Glibc
import StockadeBench

struct BenchCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "bench",
        abstract: "Measure Stockade side by side with its peers (bwrap, crun, firejail, fork/exec, the host).",
        discussion: "Each part runs Stockade and the peers interleaved, pair by pair, and reports median, p90, p99, min, max and the ratio to each peer (above 1: Stockade is faster).",
        subcommands: [Spawn.self, WorkerPart.self, Pool.self, HTTP.self, Python.self, All.self]
    )

    struct Options: ParsableArguments {
        @Flag(help: "Few samples: checks the harness works, figures are not meaningful.")
        var quick = false
        @Option(help: ArgumentHelp("Write the results as JSON.", valueName: "FILE"))
        var json: String?
        @Option(help: ArgumentHelp("Write a Markdown report with SVG charts into DIR.", valueName: "DIR"))
        var report: String?
        @Option(name: .customLong("report-name"), help: ArgumentHelp("File name of the Markdown report in DIR (default README.md).", valueName: "NAME"))
        var reportName: String?
        @Option(name: .customLong("report-charts"), help: ArgumentHelp("Put the report's SVG charts in this subdirectory of DIR (default: DIR itself).", valueName: "SUBDIR"))
        var reportCharts: String?

        func settings() -> BenchSettings {
            BenchSettings(quick: quick, stockadeExecutable: Self.selfExecutable())
        }

        static func selfExecutable() -> String {
            var buf = [CChar](repeating: 0, count: 4096)
            let n = readlink("/proc/self/exe", &buf, 4095)
            return n > 0 ? String(decoding: buf[0..<n].map { UInt8(bitPattern: $0) }, as: UTF8.self) : "stockade"
        }

        func emit(_ report: BenchReport) throws {
            print(TerminalTable.render(report))
            if let json {
                try report.json().write(to: URL(fileURLWithPath: json), options: .atomic)
                print("wrote \(json)")
            }
            if let dir = self.report {
                let command = "stockade " + CommandLine.arguments.dropFirst().joined(separator: " ")
                let paths = try BenchReportWriter.write(report, to: dir, title: "Stockade benchmarks",
                                                        reproduce: "scripts/bench   # or: " + command,
                                                        markdownFile: reportName ?? "README.md",
                                                        chartsDirectory: reportCharts)
                print("wrote \(paths.count) files to \(dir) (\(paths.first ?? ""))")
            }
        }
    }

    struct Spawn: AsyncParsableCommand {
        static let configuration = CommandConfiguration(abstract: "Spawn latency of a fully isolated /bin/true.")
        @OptionGroup var options: Options
        func run() async throws {
            var report = BenchReport(host: HostInfo.collect())
            report.merge(await SpawnBench.run(options.settings()))
            try options.emit(report)
        }
    }

    struct WorkerPart: AsyncParsableCommand {
        static let configuration = CommandConfiguration(commandName: "worker",
            abstract: "Worker cold start, ping, warm shell and Python executions.")
        @OptionGroup var options: Options
        func run() async throws {
            var report = BenchReport(host: HostInfo.collect())
            report.merge(await WorkerBench.run(options.settings()))
            try options.emit(report)
        }
    }

    struct Pool: AsyncParsableCommand {
        static let configuration = CommandConfiguration(abstract: "Pool throughput and p99 at 1, 4, 16, 64 clients; a new user's first request.")
        @OptionGroup var options: Options
        func run() async throws {
            var report = BenchReport(host: HostInfo.collect())
            report.merge(await PoolBench.run(options.settings()))
            try options.emit(report)
        }
    }

    struct HTTP: AsyncParsableCommand {
        static let configuration = CommandConfiguration(commandName: "http",
            abstract: "The daemon under wrk load (64 connections, 20 users), records checked; daemon memory by worker count.")
        @OptionGroup var options: Options
        func run() async throws {
            var report = BenchReport(host: HostInfo.collect())
            report.merge(await HTTPBench.run(options.settings()))
            try options.emit(report)
        }
    }

    struct Python: AsyncParsableCommand {
        static let configuration = CommandConfiguration(abstract: "Warm Python and JavaScript runtimes against cold starts, bwrap and the host.")
        @OptionGroup var options: Options
        func run() async throws {
            var report = BenchReport(host: HostInfo.collect())
            report.merge(await PythonBench.run(options.settings()))
            try options.emit(report)
        }
    }

    struct All: AsyncParsableCommand {
        static let configuration = CommandConfiguration(abstract: "Every part, one after the other.")
        @OptionGroup var options: Options
        func run() async throws {
            let settings = options.settings()
            var report = BenchReport(host: HostInfo.collect())
            let spawn = await SpawnBench.run(settings)
            report.merge(spawn)
            report.host.merge(spawn.host) { a, _ in a }
            report.merge(await WorkerBench.run(settings))
            report.merge(await PoolBench.run(settings))
            report.merge(await PythonBench.run(settings))
            report.merge(await HTTPBench.run(settings))
            try options.emit(report)
        }
    }
}
