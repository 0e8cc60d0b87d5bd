import Glibc
import StockadeProtocol
import Testing
@testable import Stockade

enum PoolHarness {
    /// A pool whose workers are plain sandboxes (no user data dirs), for testing the pool alone.
    static func pool(_ configure: (inout PoolConfiguration) -> Void = { _ in }) -> WorkerPool {
        var c = PoolConfiguration()
        c.startupTimeoutSeconds = 10
        configure(&c)
        return WorkerPool(configuration: c) { _ in
            var w = WorkerConfiguration()
            w.startupTimeoutSeconds = 10
            return w
        }
    }

    static func sh(_ code: String, wallMs: Int64? = nil) -> ExecuteParams {
        ExecuteParams(language: .shell, code: code, limits: ExecutionLimits(wallMs: wallMs))
    }

    /// Host pids of this process's children running the worker image (exe is the sealed memfd).
    static func workerProcesses() -> [Int32] {
        guard let dir = opendir("/proc") else { return [] }
        defer { closedir(dir) }
        var out: [Int32] = []
        let me = getpid()
        while let e = readdir(dir) {
            let name = withUnsafeBytes(of: e.pointee.d_name) { String(decoding: $0.prefix { $0 != 0 }, as: UTF8.self) }
            guard let pid = Int32(name), let stat = KernelFile.readIfPresent("/proc/\(pid)/stat"),
                  let close = stat.lastIndex(of: ")") else { continue }
            let fields = stat[stat.index(after: close)...].split(separator: " ")
            guard fields.count > 2, Int32(fields[1]) == me else { continue }
            var buf = [CChar](repeating: 0, count: 256)
            let n = readlink("/proc/\(pid)/exe", &buf, 255)
            if n > 0, String(decoding: buf[0..<n].map { UInt8(bitPattern: $0) }, as: UTF8.self).contains("memfd:stockade-worker") {
                out.append(pid)
            }
        }
        return out
    }

    /// Cgroup directories whose name starts with `prefix`, in every hierarchy.
    static func cgroups(prefix: String) -> [String] {
        CgroupSystem.host.bases.values.flatMap { base -> [String] in
            guard let d = opendir(base) else { return [] }
            defer { closedir(d) }
            var out: [String] = []
            while let e = readdir(d) {
                let n = withUnsafeBytes(of: e.pointee.d_name) { String(decoding: $0.prefix { $0 != 0 }, as: UTF8.self) }
                if n.hasPrefix(prefix) { out.append(base + "/" + n) }
            }
            return out
        }
    }
}

@Suite("worker pool", .enabled(if: Harness.isRoot, Harness.rootReason))
struct PoolTests {
    @Test("affinity: a user's requests reuse one worker; two users never share one")
    func affinity() async throws {
        let pool = PoolHarness.pool()
        let a1 = try await pool.execute(user: "alice", request: PoolHarness.sh("echo $$"))
        let pidA = await pool.workerPID(user: "alice")
        let a2 = try await pool.execute(user: "alice", request: PoolHarness.sh("true"))
        #expect(await pool.workerPID(user: "alice") == pidA)
        _ = try await pool.execute(user: "bob", request: PoolHarness.sh("true"))
        let pidB = await pool.workerPID(user: "bob")
        #expect(pidA != nil && pidB != nil && pidA != pidB)
        #expect(a1.status == .ok && a2.status == .ok)
        let stats = await pool.stats()
        #expect(stats.started == 2)
        #expect(stats.served == 3)
        await pool.shutdown(grace: 1)
    }

    @Test("concurrent first requests of one user start exactly one worker")
    func singleStart() async throws {
        let pool = PoolHarness.pool()
        try await withThrowingTaskGroup(of: ExecutionResult.self) { group in
            for _ in 0..<10 { group.addTask { try await pool.execute(user: "carol", request: PoolHarness.sh("true")) } }
            for try await r in group { #expect(r.status == .ok) }
        }
        #expect(await pool.stats().started == 1)
        await pool.shutdown(grace: 1)
    }

    @Test("max_workers is never exceeded under 200 concurrent requests from 50 users; all complete")
    func maxWorkers() async throws {
        let pool = PoolHarness.pool { $0.maxWorkers = 4; $0.queueTimeoutSeconds = 120 }
        let peak = Locked(0)
        let watcher = Task {
            while !Task.isCancelled {
                let n = await pool.stats().total
                peak.withLock { $0 = max($0, n) }
                try? await Task.sleep(for: .milliseconds(2))
            }
        }
        let outcome = try await withThrowingTaskGroup(of: (String, Bool).self) { group in
            for i in 0..<200 {
                group.addTask {
                    do {
                        let r = try await pool.execute(user: "u\(i % 50)", request: PoolHarness.sh("echo u\(i % 50)"))
                        return (r.stdout, r.status == .ok)
                    } catch {
                        return ("\(error)", false)
                    }
                }
            }
            var ok = 0
            var errors: [String] = []
            for try await (out, good) in group { if good { ok += 1 } else { errors.append(out) } }
            return (ok, errors)
        }
        watcher.cancel()
        #expect(outcome.0 == 200, "failures: \(outcome.1.prefix(3))")
        #expect(peak.value <= 4, "peak workers \(peak.value)")
        let stats = await pool.stats()
        #expect(stats.total <= 4)
        #expect(stats.evicted > 0)
        await pool.shutdown(grace: 1)
    }

    @Test("pool_exhausted only after queue_timeout, when every worker stays busy")
    func exhausted() async throws {
        let pool = PoolHarness.pool { $0.maxWorkers = 1; $0.queueTimeoutSeconds = 0.5 }
        let long = Task { try await pool.execute(user: "busy", request: PoolHarness.sh("sleep 3", wallMs: 10_000)) }
        try await Task.sleep(for: .milliseconds(300))
        let start = ContinuousClock.now
        do {
            _ = try await pool.execute(user: "other", request: PoolHarness.sh("true"))
            Issue.record("a request ran with no worker free")
        } catch {
            #expect(error.code == "pool_exhausted")
            #expect(error.retryAfterSeconds ?? 0 >= 1)
            #expect("\(error)".contains("retry"))
        }
        let waited = ContinuousClock.now - start
        // Not before the queue timeout; the upper bound is generous (the suites run side by side).
        #expect(waited >= .milliseconds(450) && waited < .seconds(10), "\(waited)")
        _ = try await long.value
        await pool.shutdown(grace: 1)
    }

    @Test("LRU eviction: the least recently used idle worker makes room")
    func lru() async throws {
        let pool = PoolHarness.pool { $0.maxWorkers = 2 }
        _ = try await pool.execute(user: "first", request: PoolHarness.sh("true"))
        _ = try await pool.execute(user: "second", request: PoolHarness.sh("true"))
        _ = try await pool.execute(user: "first", request: PoolHarness.sh("true")) // first is now more recent
        _ = try await pool.execute(user: "third", request: PoolHarness.sh("true"))
        #expect(await pool.workerPID(user: "second") == nil, "second was least recently used")
        #expect(await pool.workerPID(user: "first") != nil)
        #expect(await pool.workerPID(user: "third") != nil)
        #expect(await pool.stats().evicted == 1)
        await pool.shutdown(grace: 1)
    }

    @Test("idle workers are reaped after idle_timeout")
    func idleReaping() async throws {
        let pool = PoolHarness.pool { $0.idleTimeoutSeconds = 0.3; $0.maintenanceIntervalSeconds = 0.1 }
        await pool.startMaintenance()
        _ = try await pool.execute(user: "sleepy", request: PoolHarness.sh("true"))
        let pid = try #require(await pool.workerPID(user: "sleepy"))
        try await Task.sleep(for: .milliseconds(1200))
        #expect(await pool.workerPID(user: "sleepy") == nil)
        #expect(await pool.stats().reaped == 1)
        // Retiring stops the worker gracefully: give its exit a moment.
        for _ in 0..<150 where kill(pid, 0) == 0 { try await Task.sleep(for: .milliseconds(20)) }
        #expect(kill(pid, 0) != 0, "the reaped worker's process is gone")
        await pool.shutdown(grace: 1)
    }

    @Test("kill -9 of a worker mid-request: worker_crashed, and the next request runs in a new worker")
    func crash() async throws {
        let pool = PoolHarness.pool()
        _ = try await pool.execute(user: "victim", request: PoolHarness.sh("true"))
        let pid = try #require(await pool.workerPID(user: "victim"))
        let running = Task { try await pool.execute(user: "victim", request: PoolHarness.sh("sleep 5", wallMs: 10_000)) }
        try await Task.sleep(for: .milliseconds(300))
        kill(pid, SIGKILL)
        do {
            _ = try await running.value
            Issue.record("the request survived its worker")
        } catch let error as PoolError {
            #expect(error.code == "worker_crashed", "\(error)")
        }
        let next = try await pool.execute(user: "victim", request: PoolHarness.sh("echo again"))
        #expect(next.stdout == "again\n")
        let newPid = await pool.workerPID(user: "victim")
        #expect(newPid != nil && newPid != pid)
        #expect(await pool.stats().crashed == 1)
        await pool.shutdown(grace: 1)
    }

    @Test("a worker that keeps failing to start is backed off, not restarted in a tight loop")
    func crashLoopBackoff() async throws {
        var c = PoolConfiguration()
        // A backoff longer than the test: exactly one start may happen, however slow the machine.
        c.crashBackoffBaseSeconds = 5
        c.queueTimeoutSeconds = 0.2
        let attempts = Locked(0)
        let pool = WorkerPool(configuration: c) { _ in
            attempts.withLock { $0 += 1 }
            var w = WorkerConfiguration()
            w.sandbox.mounts = [.bind(source: "/nonexistent/stockade-crash-loop", destination: "/x", readOnly: true)]
            return w
        }
        for _ in 0..<5 {
            do {
                _ = try await pool.execute(user: "broken", request: PoolHarness.sh("true"))
            } catch {
                #expect(["worker_start_failed", "worker_backoff"].contains(error.code), "\(error)")
            }
        }
        // Five immediate requests: the first starts (and fails); the rest are held back.
        #expect(attempts.value == 1, "started \(attempts.value) times")
        await pool.shutdown(grace: 1)
    }

    @Test("graceful shutdown: running work finishes, then no process, cgroup or fd of any sandbox is left")
    func shutdown() async throws {
        let tag = "shutdowntest\(getpid())"
        var c = PoolConfiguration()
        c.startupTimeoutSeconds = 10
        let pool = WorkerPool(configuration: c) { user in
            var w = WorkerConfiguration()
            w.sandbox.limits.memoryBytes = 256 << 20
            w.sandbox.limits.pids = 64
            w.sandbox.cgroupName = "\(tag)-\(user)"
            return w
        }
        let slow = Task { try await pool.execute(user: "s1", request: PoolHarness.sh("sleep 0.5; echo finished")) }
        _ = try await pool.execute(user: "s2", request: PoolHarness.sh("true"))
        // s1's execution is running (its worker may start later than s2's when the machine is busy).
        for _ in 0..<200 {
            if await pool.workerPID(user: "s1") != nil, await pool.stats().busy >= 1 { break }
            try await Task.sleep(for: .milliseconds(50))
        }
        #expect(!PoolHarness.cgroups(prefix: tag).isEmpty, "workers run in their own cgroups")
        // What of these workers the host holds: their pids (pidfds) and their stdio pipes.
        var pids: [Int32] = []
        for user in ["s1", "s2"] { if let p = await pool.workerPID(user: user) { pids.append(p) } }
        #expect(pids.count == 2)
        let pipes = Set(pids.flatMap { pid in (0...2).compactMap { Harness.fdLink(pid: pid, fd: $0) } }.filter { $0.hasPrefix("pipe:") })
        #expect(pipes.count >= 2)
        await pool.shutdown(grace: 5)
        let r = try await slow.value
        #expect(r.stdout == "finished\n", "the running execution was allowed to finish")
        do {
            _ = try await pool.execute(user: "s3", request: PoolHarness.sh("true"))
            Issue.record("accepted after shutdown")
        } catch {
            #expect(error.code == "shutting_down")
        }
        #expect(await pool.stats().total == 0)
        #expect(PoolHarness.cgroups(prefix: tag).isEmpty, "left: \(PoolHarness.cgroups(prefix: tag))")
        for pid in pids { #expect(kill(pid, 0) != 0, "worker \(pid) is still alive") }
        // No fd of ours still points at those workers' pipes or pids.
        let mine = Harness.ownFDs()
        #expect(mine.filter { pipes.contains($0.link) }.isEmpty, "pipes of stopped workers still open")
        #expect(mine.filter { $0.pidfdPid.map(pids.contains) ?? false }.isEmpty, "pidfds of stopped workers still open")
    }

    @Test("configuration from STOCKADE_* variables, with clear errors for bad values")
    func configFromEnvironment() throws {
        let c = try PoolConfiguration(environment: ["STOCKADE_MAX_WORKERS": "3", "STOCKADE_IDLE_TIMEOUT": "12.5",
                                                    "STOCKADE_QUEUE_TIMEOUT": "2", "STOCKADE_REQUEST_TIMEOUT": "60",
                                                    "STOCKADE_STARTUP_TIMEOUT": "5", "STOCKADE_MAX_CONCURRENT_PER_USER": "4"])
        #expect(c.maxWorkers == 3)
        #expect(c.idleTimeoutSeconds == 12.5)
        #expect(c.queueTimeoutSeconds == 2)
        #expect(c.requestTimeoutSeconds == 60)
        #expect(c.startupTimeoutSeconds == 5)
        #expect(c.maxConcurrentPerUser == 4)
        #expect(throws: PoolConfiguration.InvalidSetting.self) { _ = try PoolConfiguration(environment: ["STOCKADE_MAX_WORKERS": "many"]) }
        #expect(throws: PoolConfiguration.InvalidSetting.self) { _ = try PoolConfiguration(environment: ["STOCKADE_MAX_WORKERS": "0"]) }
    }

    @Test("a bad user id is an invalid request, not a worker start")
    func badUser() async throws {
        let pool = PoolHarness.pool()
        do {
            _ = try await pool.execute(user: "../etc", request: PoolHarness.sh("true"))
            Issue.record("accepted a bad user id")
        } catch {
            #expect(error.code == "invalid_request")
        }
        #expect(await pool.stats().started == 0)
        await pool.shutdown(grace: 0)
    }

}
