import Hummingbird
import Stockade
import StockadeProtocol
import Synchronization

/// Whether this host can still make sandboxes, checked with a real spawn at most every 10 s.
final class HealthProbe: Sendable {
    private let last = Mutex<(at: Double, ok: Bool, detail: String)?>(nil)

    func check() async -> (ok: Bool, detail: String) {
        let now = Timestamp.now()
        if let l = last.withLock({ $0 }), now - l.at < 10 { return (l.ok, l.detail) }
        var spec = SandboxSpec(arguments: ["/bin/true"])
        spec.stdout = .null
        spec.stderr = .null
        spec.landlock = .automatic
        var result: (Bool, String)
        do {
            let p = try await Sandbox.spawn(spec)
            let o = await p.wait()
            result = (o.termination == .exited(0), o.termination == .exited(0) ? "a sandbox started and exited 0" : "the test sandbox ended with \(o.termination)")
        } catch {
            result = (false, "\(error)")
        }
        last.withLock { $0 = (now, result.0, result.1) }
        return result
    }
}

extension StockadeAPI {
    /// GET /health: liveness, and whether the engine can spawn.
    func healthResponse() async -> Response {
        let (ok, detail) = await health.check()
        let stats = await pool.stats()
        return JSONResponse.make(.object([
            "status": .string(ok && stats.accepting ? "ok" : "unhealthy"),
            "can_spawn": .bool(ok), "detail": .string(detail), "accepting": .bool(stats.accepting),
            "workers": .int(Int64(stats.total)),
        ]), status: ok ? .ok : .serviceUnavailable)
    }

    /// GET /info: version, the isolation in use, kernel, cgroup mode, seccomp, Landlock, limits.
    func info() -> Response {
        let cg = CgroupSystem.host
        let seccompInstructions = (try? SeccompCompiler.program(for: users.settings.seccomp ?? .default).instructionCount) ?? 0
        return JSONResponse.make(.object([
            "status": "ok",
            "version": .string(StockadeDaemon.version),
            "isolation": .object([
                "mechanism": "stockade: clone3 namespaces + pivot_root + seccomp + Landlock + cgroups (no external runtime)",
                "namespaces": ["user", "pid", "mount", "network", "ipc", "uts", "cgroup"],
                "seccomp": users.settings.seccomp == nil ? "off" : .string("default-deny-list, \(seccompInstructions) BPF instructions"),
                "landlock": LandlockPolicy.kernelABI.map { .string("ABI \($0)") } ?? "unavailable",
                "cgroup": .string(cg.mode.rawValue),
                "cgroup_controllers": .array(cg.controllers.sorted().map { .string($0) }),
                "network": "private loopback only",
            ]),
            "platform": .object(["os": "linux", "kernel": .string(HostReport.kernelRelease()), "arch": .string(StockadeDaemon.arch)]),
            "limits": .object([
                "max_workers": .int(Int64(config.pool.maxWorkers)),
                "request_timeout_s": .double(config.pool.requestTimeoutSeconds),
                "default_timeout_s": .double(config.defaultTimeoutSeconds),
                "queue_timeout_s": .double(config.pool.queueTimeoutSeconds),
                "idle_timeout_s": .double(config.pool.idleTimeoutSeconds),
                "worker_memory_bytes": config.workerMemoryBytes.map { .int(Int64($0)) } ?? .null,
                "worker_pids": config.workerPids.map { .int(Int64($0)) } ?? .null,
                "max_body_bytes": .int(Int64(config.maxBodyBytes)),
                "max_upload_bytes": .int(Int64(config.maxUploadBytes)),
                "allowed_extensions": .array(config.allowedExtensions.sorted().map { .string($0) }),
            ]),
            "languages": ["python", "javascript", "shell"],
            "warm_runtimes": .object(["python": .bool(config.warmPython), "javascript": .bool(config.warmJavaScript),
                                      "node_spares": .int(Int64(config.nodeSpares))]),
        ]))
    }

    /// GET /v1/stats: the pool's figures.
    func stats() async -> Response {
        let s = await pool.stats()
        func hist(_ h: LatencyHistogram.Summary) -> JSONValue {
            .object(["count": .int(Int64(h.count)), "mean_ms": .double(h.meanMs), "p50_ms": .double(h.p50Ms),
                     "p90_ms": .double(h.p90Ms), "p99_ms": .double(h.p99Ms), "max_ms": .double(h.maxMs)])
        }
        func counts(_ d: [String: Int]) -> JSONValue {
            .object(JSONObject(d.sorted { $0.key < $1.key }.map { ($0.key, .int(Int64($0.value))) }))
        }
        var perUser = JSONObject()
        for (u, c) in s.perUser.sorted(by: { $0.key < $1.key }) {
            perUser[u] = .object(["workers": .int(Int64(c.workers)), "running": .int(Int64(c.running))])
        }
        return JSONResponse.make(.object([
            "workers": .object(["total": .int(Int64(s.total)), "busy": .int(Int64(s.busy)), "idle": .int(Int64(s.idle)),
                                "starting": .int(Int64(s.starting)), "max": .int(Int64(s.maxWorkers))]),
            "per_user": .object(perUser),
            "totals": .object(["started": .int(Int64(s.started)), "reaped": .int(Int64(s.reaped)), "evicted": .int(Int64(s.evicted)),
                               "crashed": .int(Int64(s.crashed)), "start_failures": .int(Int64(s.startFailures)),
                               "served": .int(Int64(s.served))]),
            "requests_by_status": counts(s.byStatus),
            "requests_failed": counts(s.failed),
            "queue_depth": .int(Int64(s.queueDepth)),
            "latency": .object(["queue_wait": hist(s.queueWait), "worker_start": hist(s.workerStart), "execution": hist(s.execution)]),
            "async_running": .int(Int64(await runs.count(mode: "async"))),
            "sync_running": .int(Int64(await runs.count(mode: "sync") + runs.count(mode: "stream"))),
            "accepting": .bool(s.accepting),
        ]))
    }
}
