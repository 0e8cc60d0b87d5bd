import Glibc
import Stockade
import StockadeProtocol

/// `stockade bench http`: the daemon under load from wrk (Debian's package) on loopback: POST
/// /v1/execute of shell `true` for 20 users from 64 connections, for 60 s (3 s in quick mode).
/// Reports throughput and p50/p90/p99, checks that every answered request has its record in
/// SQLite, and compares with the pool called in-process at the same concurrency (the daemon's
/// overhead as a ratio). Then 10 s (2 s quick) at the target load, about 500 requests/s from the
/// same 64 connections, for the latency there rather than at saturation. Also measures memory: an
/// idle worker, and the daemon with N warm workers.
public enum HTTPBench {
    public static func run(_ settings: BenchSettings) async -> BenchReport {
        var report = BenchReport(host: [:])
        guard let wrk = ExternalCommand.find("wrk") else {
            report.skipped.append(.init(name: "http", tool: "wrk", reason: "wrk is not installed (apt-get install wrk; scripts/bench installs it)"))
            return report
        }
        let users = 20
        let daemon: DaemonProcess
        do {
            daemon = try DaemonProcess(stockade: settings.stockadeExecutable,
                                       arguments: ["--max-workers", "\(users)", "--max-concurrent-per-user", "16", "--queue-timeout", "60"])
        } catch {
            report.notes.append("http benchmark skipped: \(error)")
            return report
        }
        defer { daemon.stop() }
        let script = daemon.dataDirectory + "/post.lua"
        let lua = """
            counter = 0
            request = function()
              counter = counter + 1
              local body = '{"user_id":"load' .. (counter % \(users)) .. '","language":"shell","code":"true"}'
              return wrk.format("POST", "/v1/execute", {["Content-Type"] = "application/json"}, body)
            end
            done = function(summary, latency, requests)
              local e = summary.errors
              io.write(string.format("STATS %d %d %d %.3f %.3f %.3f %.3f %.3f\\n", summary.requests, e.status,
                e.connect + e.read + e.write + e.timeout, latency:percentile(50) / 1000, latency:percentile(90) / 1000,
                latency:percentile(99) / 1000, latency.max / 1000, summary.duration / 1e6))
            end
            """
        _ = writeFile(script, lua)
        let url = "http://127.0.0.1:\(daemon.port)"
        // Warm every user's worker, then the measured run.
        _ = ExternalCommand(wrk, ["-t1", "-c\(users)", "-d2s", "-s", script, url]).output()
        let recordsBefore = countRecords(port: daemon.port, users: users)
        let seconds = settings.quick ? 3 : 60
        settings.progress.start("http: wrk \(seconds) s at 64 connections", total: 1)
        let out = ExternalCommand(wrk, ["-t2", "-c64", "-d\(seconds)s", "--timeout", "10s", "-s", script, url]).output() ?? ""
        settings.progress.step()
        settings.progress.finish()
        guard let run = WrkRun(out) else {
            report.notes.append("http: wrk printed no figures: \(out.suffix(300))")
            return report
        }
        let (requests, statusErrors, socketErrors, rps) = (run.stats.count, run.statusErrors, run.socketErrors, run.rps)
        report.benchmarks.append(.init(name: "http-execute-c64", tool: "stockade-http", stats: run.stats, throughput: rps, concurrency: 64))
        if statusErrors > 0 {
            // Show what an error looked like.
            let sample = ExternalCommand("/usr/bin/curl", ["-s", "-i", "http://127.0.0.1:\(daemon.port)/v1/execute",
                                                           "-d", "{\"user_id\":\"load1\",\"language\":\"shell\",\"code\":\"true\"}"]).output() ?? ""
            report.notes.append("http: non-2xx answers; a request now gets: \(sample.prefix(300))")
        }
        let recordsAfter = countRecords(port: daemon.port, users: users)
        let recorded = recordsAfter.map { $0 - (recordsBefore ?? 0) }
        // wrk stops counting at its deadline while up to 64 requests are still in flight; those
        // complete and are recorded too. Lost means answered but not recorded.
        report.notes.append("http: \(requests) requests answered in \(Int(run.seconds)) s, \(statusErrors) non-2xx, \(socketErrors) socket errors; \(recorded.map(String.init) ?? "?") records written (answered + at most 64 in flight when wrk stopped)")
        if let recorded, recorded < requests || recorded > requests + 64 {
            report.notes.append("http: RECORDS MISMATCH: \(recorded) records for \(requests) answered requests")
        }
        // The target load (500 executions/s) rather than saturation: the same 64 connections, each
        // pausing between its requests so that together they offer about 500 requests/s.
        if let paced = paced(wrk: wrk, script: script, lua: lua, url: url, seconds: settings.quick ? 2 : 10, settings: settings) {
            report.benchmarks.append(paced)
        } else {
            report.notes.append("http: the paced run printed no figures")
        }
        // The same load through the pool in-process: the daemon's overhead as a ratio.
        var config = PoolConfiguration()
        config.maxWorkers = users
        config.maxConcurrentPerUser = 16
        config.maxConcurrentPerWorker = 16
        let pool = WorkerPool(configuration: config) { _ in WorkerConfiguration() }
        for u in 0..<users { _ = try? await pool.execute(user: "direct\(u)", request: ExecuteParams(language: .shell, code: "true")) }
        let direct = await ThroughputRunner.run(concurrency: 64, requests: settings.quick ? 200 : 6000) { client, n in
            _ = try await pool.execute(user: "direct\((client + n) % users)", request: ExecuteParams(language: .shell, code: "true"))
        }
        report.benchmarks.append(.init(name: "http-execute-c64", tool: "pool-direct", stats: Statistics(direct.latencies),
                                       throughput: direct.rps, concurrency: 64))
        report.notes.append("http: daemon throughput is \(fmt(rps / max(direct.rps, 1e-9), 2))x of calling WorkerPool directly (\(fmt(rps, 0)) vs \(fmt(direct.rps, 0)) requests/s)")
        await pool.shutdown(grace: 1)
        report.memory += memory(daemon: daemon, users: settings.quick ? [1, 2] : [1, 5, 10, 20])
        return report
    }

    /// wrk at 64 connections where each connection waits a random delay (uniform, mean `delay` ms)
    /// after each answer: about 64 / (delay + latency) requests/s offered, 500/s at the delay used.
    /// The randomness keeps the connections from firing in step (bursts of 64 at once). Latency is
    /// measured by wrk from each request's send; the achieved rate is reported beside it.
    static func paced(wrk: String, script: String, lua: String, url: String, seconds: Int,
                      settings: BenchSettings) -> BenchReport.Row? {
        let connections = 64, targetRps = 500.0
        let delayMs = Int(Double(connections) / targetRps * 1000) - 10
        let pacedScript = String(script.dropLast(4)) + "-paced.lua"
        guard writeFile(pacedScript, lua + "\ndelay = function() return math.random(\(delayMs / 2), \(delayMs * 3 / 2)) end\n") else { return nil }
        settings.progress.start("http: wrk \(seconds) s paced to \(Int(targetRps)) requests/s", total: 1)
        let out = ExternalCommand(wrk, ["-t2", "-c\(connections)", "-d\(seconds)s", "--timeout", "10s", "-s", pacedScript, url]).output() ?? ""
        settings.progress.step()
        settings.progress.finish()
        guard let run = WrkRun(out) else { return nil }
        return .init(name: "http-paced-\(Int(targetRps))rps-\(connections)-connections", tool: "stockade-http", stats: run.stats,
                     throughput: run.rps, concurrency: connections)
    }

    /// The figures the Lua `done` hook prints: `STATS requests status-errors socket-errors p50 p90
    /// p99 max seconds` (milliseconds). wrk gives percentiles only, so min is 0 and mean is p50.
    struct WrkRun {
        var stats: Statistics
        var statusErrors: Int
        var socketErrors: Int
        var seconds: Double
        var rps: Double { Double(stats.count) / seconds }

        init?(_ output: String) {
            guard let line = output.split(separator: "\n").first(where: { $0.hasPrefix("STATS ") }) else { return nil }
            let f = line.split(separator: " ").dropFirst().compactMap { Double($0) }
            guard f.count == 8, f[7] > 0 else { return nil }
            stats = Statistics([])
            stats.count = Int(f[0])
            stats.median = f[3]; stats.p90 = f[4]; stats.p99 = f[5]; stats.max = f[6]; stats.min = 0
            stats.mean = f[3]
            statusErrors = Int(f[1])
            socketErrors = Int(f[2])
            seconds = f[7]
        }
    }

    /// Records of the load users in the daemon's history (sum of totals).
    static func countRecords(port: Int, users: Int) -> Int? {
        var total = 0
        for u in 0..<users {
            guard let body = ExternalCommand("/usr/bin/curl", ["-s", "http://127.0.0.1:\(port)/v1/executions?user_id=load\(u)&limit=1"]).output(),
                  let n = (try? JSONParser.parse(body))?["total"]?.intValue else { return nil }
            total += Int(n)
        }
        return total
    }

    /// PSS of the daemon with N warm workers, after using N distinct users.
    static func memory(daemon: DaemonProcess, users levels: [Int]) -> [BenchReport.Memory] {
        var out: [BenchReport.Memory] = []
        // The daemon already has the load's workers: measure a fresh one instead.
        guard let fresh = try? DaemonProcess(stockade: daemon.stockadePath, arguments: ["--max-workers", "64"]) else { return out }
        defer { fresh.stop() }
        out.append(.init(name: "daemon+workers", workers: 0, rss_bytes: fresh.pssWithDescendants()))
        var used = 0
        for n in levels {
            while used < n {
                _ = ExternalCommand("/usr/bin/curl", ["-s", "-o", "/dev/null", "http://127.0.0.1:\(fresh.port)/v1/execute",
                                                      "-d", "{\"user_id\":\"mem\(used)\",\"language\":\"shell\",\"code\":\"true\"}"]).output()
                used += 1
            }
            usleep(200_000)
            out.append(.init(name: "daemon+workers", workers: n, rss_bytes: fresh.pssWithDescendants()))
        }
        return out
    }

    @discardableResult
    static func writeFile(_ path: String, _ text: String) -> Bool {
        let fd = open(path, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0o644)
        guard fd >= 0 else { return false }
        defer { close(fd) }
        return text.withCString { write(fd, $0, strlen($0)) } >= 0
    }
}
