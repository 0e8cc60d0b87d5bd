import Glibc
import StockadeProtocol
import StockadeServer
import Testing

@Suite("Daemon endpoints", .enabled(if: isRoot, needsRoot))
struct EndpointTests {
    @Test("warm runtimes are settings: flags and variables reach the workers and /info; a bad value is refused")
    func warmRuntimeSettings() async throws {
        try await withDaemon(["--warm-python", "false", "--node-spares", "2"], environment: ["STOCKADE_WARM_JAVASCRIPT": "off"]) { d in
            let info = try await d.get("/info")
            let warm = try #require(info.json?["warm_runtimes"], "\(info.text)")
            #expect(warm["python"] == false && warm["javascript"] == false && warm["node_spares"] == 2, "\(warm)")
            // Cold runtimes keep the same contract.
            let py = try await d.post("/v1/execute", ["user_id": "warmcfg", "language": "python", "code": "import sys\nprint(1)\nsys.exit(3)"])
            #expect(py.json?["status"] == "runtime_error" && py.json?["exit_code"] == 3 && py.json?["stdout"] == "1\n", "\(py.text)")
            let js = try await d.post("/v1/execute", ["user_id": "warmcfg", "language": "javascript", "handler": true, "event": ["n": 4],
                                                      "code": "exports.handler = async (e) => e.n * 2"])
            #expect(js.json?["status"] == "ok" && js.json?["return_value"] == 8, "\(js.text)")
        }
        var config = DaemonConfig()
        #expect(config.warmPython && config.warmJavaScript && config.nodeSpares == 1, "on by default")
        try config.apply(["STOCKADE_WARM_PYTHON": "no", "STOCKADE_WARM_JAVASCRIPT": "1", "STOCKADE_NODE_SPARES": "3"])
        #expect(!config.warmPython && config.warmJavaScript && config.nodeSpares == 3)
        for bad in [["STOCKADE_WARM_PYTHON": "maybe"], ["STOCKADE_NODE_SPARES": "0"], ["STOCKADE_NODE_SPARES": "99"]] {
            #expect(throws: DaemonConfig.Invalid.self, "\(bad)") { try config.apply(bad) }
        }
    }

    @Test("GET /health, /info, /v1/stats and /metrics answer with what they promise")
    func systemEndpoints() async throws {
        try await withDaemon(["--max-workers", "4", "--max-upload", "1M"]) { d in
            let health = try await d.get("/health")
            #expect(health.status == 200, "\(health.text)")
            #expect(health.header("content-type")?.hasPrefix("application/json") == true)
            #expect(health.json?["can_spawn"] == true, "\(health.text)")
            #expect(health.json?["status"] == "ok", "\(health.text)")
            #expect(health.json?["accepting"] == true, "\(health.text)")

            let info = try await d.get("/info")
            #expect(info.status == 200, "\(info.text)")
            let i = try #require(info.json, "\(info.text)")
            #expect(i["version"] == "0.1.0")
            let iso = try #require(i["isolation"]?.objectValue, "no isolation object: \(info.text)")
            let namespaces = (iso["namespaces"]?.arrayValue ?? []).compactMap(\.stringValue)
            for ns in ["user", "pid", "mount", "network", "ipc", "uts"] {
                #expect(namespaces.contains(ns), "namespace \(ns) missing from \(namespaces)")
            }
            #expect(iso["seccomp"]?.stringValue?.contains("BPF") == true, "seccomp: \(String(describing: iso["seccomp"]))")
            #expect(iso["landlock"]?.stringValue?.isEmpty == false)
            #expect(["v1", "v2", "none"].contains(iso["cgroup"]?.stringValue ?? "?"), "cgroup: \(String(describing: iso["cgroup"]))")
            #expect(iso["cgroup_controllers"]?.arrayValue != nil)
            var u = utsname()
            uname(&u)
            let release = withUnsafeBytes(of: u.release) { String(decoding: $0.prefix { $0 != 0 }, as: UTF8.self) }
            #expect(i["platform"]?["kernel"]?.stringValue == release)
            #expect(i["platform"]?["os"] == "linux")
            let limits = try #require(i["limits"]?.objectValue, "no limits: \(info.text)")
            #expect(limits["max_workers"] == 4, "flags must reach the config: \(info.text)")
            #expect(limits["max_upload_bytes"] == .int(1 << 20))
            #expect(limits["max_body_bytes"] == .int(16 << 20))
            #expect(limits["default_timeout_s"]?.doubleValue == 300)
            let extensions = (limits["allowed_extensions"]?.arrayValue ?? []).compactMap(\.stringValue)
            #expect(extensions.contains("csv"), "\(extensions)")
            #expect(extensions.contains("exe") == false, "\(extensions)")
            #expect(i["languages"]?.arrayValue?.count == 3)

            // Something for the stats and metrics to count.
            _ = try await d.execute(["user_id": "stats-user", "language": "shell", "code": "echo hi"])

            let stats = try await d.get("/v1/stats")
            #expect(stats.status == 200, "\(stats.text)")
            let s = try #require(stats.json)
            #expect(s["workers"]?["max"] == 4, "\(stats.text)")
            #expect((s["workers"]?["total"]?.intValue ?? 0) >= 1, "\(stats.text)")
            #expect((s["totals"]?["served"]?.intValue ?? 0) >= 1, "\(stats.text)")
            #expect((s["totals"]?["started"]?.intValue ?? 0) >= 1, "\(stats.text)")
            #expect(s["per_user"]?["stats-user"]?["workers"] == 1, "\(stats.text)")
            #expect(s["queue_depth"]?.intValue != nil)
            #expect(s["latency"]?["execution"]?["count"]?.intValue ?? 0 >= 1, "\(stats.text)")
            #expect(s["accepting"] == true)

            let metrics = try await d.get("/metrics")
            #expect(metrics.status == 200)
            #expect(metrics.header("content-type")?.hasPrefix("text/plain") == true)
            let m = metrics.text
            #expect(m.contains("stockade_pool_"), "no pool metrics in:\n\(m)")
            #expect(m.contains("stockade_pool_workers_started_total"), "\(m)")
            #expect(m.contains("stockade_pool_requests_total"), "\(m)")
            #expect(m.contains("stockade_http_executions_started_total"), "\(m)")
            // Prometheus text format: "# TYPE name kind" lines and "name{labels} value" samples.
            #expect(m.contains("# TYPE "))
            let started = m.split(separator: "\n").first { $0.hasPrefix("stockade_http_executions_started_total") }
            #expect(started.flatMap { Double($0.split(separator: " ").last ?? "") } == 1, "\(String(describing: started))")
        }
    }

    @Test("POST /v1/execute: python, a javascript handler and shell exit codes with the full result contract")
    func execute() async throws {
        try await withDaemon { d in
            let py = try await d.execute(["user_id": "alice", "language": "python",
                                          "code": "import sys\nprint('hello from python')\nprint('warn', file=sys.stderr)"])
            #expect(py["status"] == "ok", "\(py)")
            #expect(py["exit_code"] == 0)
            #expect(py["signal"] == .null, "signal must be present and null: \(py)")
            #expect(py["stdout"] == "hello from python\n")
            #expect(py["stderr"] == "warn\n")
            #expect(py["stdout_truncated"] == false)
            #expect(py["stderr_truncated"] == false)
            #expect(py["files"] == .array([]))
            #expect(py["user_id"] == "alice")
            #expect(py["execution_id"]?.stringValue?.hasPrefix("ex_") == true, "\(py)")
            #expect((py["wall_ms"]?.doubleValue ?? 0) > 0, "\(py)")
            #expect((py["cpu_ms"]?.doubleValue ?? -1) > 0, "python takes CPU time to start: \(py)")
            #expect((py["peak_memory_bytes"]?.intValue ?? 0) > 1 << 20, "python needs more than 1 MiB: \(py)")
            for key in ["created_at", "started_at", "finished_at"] {
                #expect(isISOTimestamp(py[key]), "\(key): \(String(describing: py[key]))")
            }
            let created = py["created_at"]?.stringValue ?? "", finished = py["finished_at"]?.stringValue ?? ""
            #expect(created <= finished)
            #expect(py["session_id"] == .null)

            // The record of a sync run has the same result.
            let id = try #require(py["execution_id"]?.stringValue)
            let rec = try #require(try await d.record(id))
            #expect(rec["state"] == "completed")
            #expect(rec["mode"] == "sync")
            #expect(rec["language"] == "python")
            #expect(rec["result"]?["stdout"] == "hello from python\n")

            // A javascript handler's return value, with an event.
            let js = try await d.execute(["user_id": "alice", "language": "javascript", "handler": true,
                                          "event": ["a": 2, "b": 40],
                                          "code": "exports.handler = async (event) => { console.log('in handler'); return {sum: event.a + event.b, list: [1, 'x', null]}; }",
                                          "execution_id": "js-handler-1", "session_id": "sess-1"])
            #expect(js["status"] == "ok", "\(js)")
            #expect(js["return_value"] == ["sum": 42, "list": [1, "x", nil]], "\(js)")
            #expect(js["stdout"] == "in handler\n")
            #expect(js["execution_id"] == "js-handler-1")
            #expect(js["session_id"] == "sess-1")

            // Shell: the exit code and the runtime_error status.
            let sh = try await d.execute(["user_id": "bob", "language": "shell", "code": "echo out; echo err >&2; exit 3",
                                          "stdin": "ignored"])
            #expect(sh["status"] == "runtime_error", "\(sh)")
            #expect(sh["exit_code"] == 3)
            #expect(sh["signal"] == .null)
            #expect(sh["stdout"] == "out\n")
            #expect(sh["stderr"] == "err\n")
            #expect(sh["user_id"] == "bob")

            // stdin reaches the program.
            let cat = try await d.execute(["user_id": "bob", "language": "shell", "code": "tr a-z A-Z", "stdin": "shout\n"])
            #expect(cat["stdout"] == "SHOUT\n", "\(cat)")

            // A signal: status signaled, signal 9, exit_code null.
            let sig = try await d.execute(["user_id": "bob", "language": "shell", "code": "kill -9 $$"])
            #expect(sig["status"] == "signaled", "\(sig)")
            #expect(sig["signal"] == 9, "\(sig)")
            #expect(sig["exit_code"] == .null, "\(sig)")

            // A wall limit: status timeout.
            let t0 = Sys.now()
            let slow = try await d.execute(["user_id": "bob", "language": "shell", "code": "sleep 10", "limits": ["wall_ms": 300]])
            #expect(slow["status"] == "timeout", "\(slow)")
            #expect(Sys.now() - t0 < 5)

            // Output over the cap: truncated flag.
            let big = try await d.execute(["user_id": "bob", "language": "python",
                                           "code": "print('x' * 100000)", "limits": ["output_bytes": 1000]])
            #expect(big["stdout_truncated"] == true, "\(big)")
            #expect((big["stdout"]?.stringValue?.utf8.count ?? 0) <= 1000 + 16)
        }
    }
}
