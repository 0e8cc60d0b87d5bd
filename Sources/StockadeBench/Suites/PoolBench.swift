import Stockade
import StockadeProtocol

/// `stockade bench pool`: warm requests through the pool (shell `true`, 10 users) with 1, 4, 16
/// and 64 concurrent clients, and the cold path (a new user each request), against a fresh bwrap
/// sandbox per request at the same concurrency, run one after the other per level; then 800
/// requests/s offered in an open loop (the tail below saturation).
public enum PoolBench {
    public static func run(_ settings: BenchSettings) async -> BenchReport {
        Sandbox.prime()
        var report = BenchReport(host: [:])
        var config = PoolConfiguration()
        config.maxWorkers = 10
        config.maxConcurrentPerUser = 16
        config.maxConcurrentPerWorker = 16
        config.queueTimeoutSeconds = 120
        let pool = WorkerPool(configuration: config) { _ in WorkerConfiguration() }
        let users = (0..<10).map { "bench\($0)" }
        // Warm every user's worker first.
        for u in users { _ = try? await pool.execute(user: u, request: ExecuteParams(language: .shell, code: "true")) }
        let bwrap = BwrapPeer()
        let levels = [1, 4, 16, 64]
        let perLevel = settings.quick ? 40 : 2000
        settings.progress.start("pool throughput", total: levels.count * 2)
        for c in levels {
            let ours = await ThroughputRunner.run(concurrency: c, requests: perLevel) { client, _ in
                let r = try await pool.execute(user: users[client % users.count], request: ExecuteParams(language: .shell, code: "true"))
                guard r.status == .ok else { throw ExternalCommand.Failure(description: "\(r.status)") }
            }
            report.benchmarks.append(.init(name: "pool-warm-c\(c)", tool: "stockade-api", stats: Statistics(ours.latencies),
                                           raw: ours.latencies, throughput: ours.rps, concurrency: c))
            if ours.failures > 0 { report.notes.append("pool-warm-c\(c): \(ours.failures) requests failed") }
            settings.progress.step()
            if let bwrap {
                let theirs = await ThroughputRunner.run(concurrency: c, requests: max(c, perLevel / 10)) { _, _ in
                    let command = bwrap.command(["/bin/sh", "-c", "true"])
                    try await OffPool.run { try command.run() }
                }
                report.benchmarks.append(.init(name: "pool-warm-c\(c)", tool: "bwrap", stats: Statistics(theirs.latencies),
                                               raw: theirs.latencies, throughput: theirs.rps, concurrency: c))
                report.ratios.append(.init(name: "pool-warm-c\(c)", tool: "stockade-api", versus: "bwrap",
                                           median_ratio: Statistics(theirs.latencies).median / max(Statistics(ours.latencies).median, 1e-9)))
            } else if c == 1 {
                report.skipped.append(.init(name: "pool-warm", tool: "bwrap", reason: BwrapPeer.skipReason))
            }
            settings.progress.step()
        }
        settings.progress.finish()
        // The closed loops above run at saturation, where the tail is the queue (Little's law). An
        // open loop at 800 requests/s offered, 16 clients, measures the tail at a load the pool
        // carries: latency counts from when a request was due.
        let rate = 800.0
        let open = await OpenLoopRunner.run(rate: rate, concurrency: 16, requests: settings.quick ? 400 : 8000) { client, _ in
            let r = try await pool.execute(user: users[client % users.count], request: ExecuteParams(language: .shell, code: "true"))
            guard r.status == .ok else { throw ExternalCommand.Failure(description: "\(r.status)") }
        }
        report.benchmarks.append(.init(name: "pool-open-800rps-16-clients", tool: "stockade-api", stats: Statistics(open.latencies),
                                       raw: open.latencies, throughput: open.rps))
        if open.failures > 0 { report.notes.append("pool-open-800rps: \(open.failures) requests failed") }
        // Cold path: every request is a new user, so each one starts a worker (evicting an idle one).
        let counter = Counter()
        let cold = Contender(tool: "stockade-api") {
            let r = try await pool.execute(user: "cold\(counter.next())-\(Int(BenchClock.nowMs()))", request: ExecuteParams(language: .shell, code: "true"))
            guard r.status == .ok else { throw ExternalCommand.Failure(description: "\(r.status)") }
        }
        var contenders = [cold]
        if let bwrap { contenders.append(Contender(tool: "bwrap") { try bwrap.command(["/bin/sh", "-c", "true"]).run() }) }
        report.merge(await settings.runner(warmup: 5, iterations: 200).run("pool-new-user", contenders))
        let stats = await pool.stats()
        report.notes.append("pool: \(stats.started) workers started, \(stats.evicted) evicted, \(stats.served) requests served")
        await pool.shutdown(grace: 1)
        return report
    }
}
