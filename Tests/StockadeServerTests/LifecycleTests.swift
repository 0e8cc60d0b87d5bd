import Glibc
import StockadeProtocol
import StockadeServer
import Testing

extension Daemon {
    /// The daemon's live worker processes (its children executing the sealed stockade-worker memfd).
    func workers() -> [Sys.ProcInfo] {
        Sys.descendants(of: pid).filter { $0.ppid == pid && Sys.isWorker($0) }
    }

    /// Wait until at least `count` workers are alive; returns all of the daemon's descendants then.
    func waitForWorkers(_ count: Int, seconds: Double = 10) async throws -> (workers: [Sys.ProcInfo], all: [Sys.ProcInfo]) {
        let deadline = Sys.now() + seconds
        while Sys.now() < deadline {
            let w = workers()
            if w.count >= count { return (w, Sys.descendants(of: pid)) }
            try await Task.sleep(for: .milliseconds(20))
        }
        return (workers(), Sys.descendants(of: pid))
    }
}

/// Wait until none of `procs` is alive; returns the survivors after `seconds`.
func survivors(of procs: [Sys.ProcInfo], within seconds: Double) async -> [Sys.ProcInfo] {
    let deadline = Sys.now() + seconds
    while true {
        let alive = procs.filter(Sys.isAlive)
        if alive.isEmpty || Sys.now() >= deadline { return alive }
        try? await Task.sleep(for: .milliseconds(20))
    }
}

@Suite("Daemon lifecycle", .enabled(if: isRoot, needsRoot))
struct LifecycleTests {
    @Test("restarting on the same data directory keeps the history and the files")
    func persistence() async throws {
        try await DaemonScope.run { scope in
            let d1 = try await scope.start()
            var ids: [String] = []
            for i in 1...3 {
                let r = try await d1.execute(["user_id": "keeper", "language": "shell", "code": .string("echo run-\(i)")])
                ids.append(try #require(r["execution_id"]?.stringValue))
            }
            let asyncID = try await d1.submit(["user_id": "keeper", "language": "python", "code": "print(6 * 7)"])
            _ = try #require(try await d1.waitForState(asyncID, ["completed"]))
            ids.append(asyncID)
            #expect(try await d1.uploadRaw("keeper", name: "kept.txt", Array("still here".utf8)).status == 201)
            let status = await d1.stop()
            #expect(status == 0, "SIGTERM exit status \(status)")

            let d2 = try await scope.start()
            #expect(d2.port != 0)
            let page = try await d2.get("/v1/executions?user_id=keeper&order=oldest")
            #expect(page.status == 200, "\(page.text)")
            let items = page.json?["items"]?.arrayValue ?? []
            #expect(items.compactMap { $0["execution_id"]?.stringValue } == ids, "\(page.text)")
            #expect(page.json?["total"] == 4)
            for (i, item) in items.prefix(3).enumerated() {
                #expect(item["state"] == "completed")
                #expect(item["result"]?["stdout"] == .string("run-\(i + 1)\n"), "\(item)")
                #expect(item["result"]?["status"] == "ok")
            }
            #expect(items.last?["result"]?["stdout"] == "42\n")
            #expect(items.last?["mode"] == "async")
            let one = try await d2.record(ids[1])
            #expect(one?["result"]?["stdout"] == "run-2\n")
            #expect(try await d2.get("/v1/users/keeper/files/kept.txt").text == "still here")
            // And it still executes, for the same user.
            let again = try await d2.sh("keeper", "cat /uploads/kept.txt")
            #expect(again["stdout"] == "still here")
        }
    }

    @Test("kill -9 mid-execution: no sandbox process survives; after a restart the execution is interrupted")
    func crashRecovery() async throws {
        try await DaemonScope.run { scope in
            let d1 = try await scope.start()
            let id = "crash-sleeper-1"
            let inflight = Task {
                try? await d1.post("/v1/execute", ["user_id": "crasher", "language": "shell",
                                                   "code": "echo going; sleep 20; echo survived", "execution_id": .string(id)],
                                   timeout: 40)
            }
            let asyncID = try await d1.submit(["user_id": "crasher2", "language": "python", "code": "import time\ntime.sleep(20)"])
            _ = try #require(try await d1.waitForState(id, ["running"]), "the sync execution was never recorded running")
            let (workers, all) = try await d1.waitForWorkers(2)
            #expect(workers.count == 2, "workers of the daemon: \(workers); descendants: \(all)")
            // Let the sleeps start inside the workers.
            let sleepDeadline = Sys.now() + 10
            var tree = all
            while Sys.now() < sleepDeadline {
                tree = Sys.descendants(of: d1.pid)
                if tree.count >= workers.count + 2 { break }
                try await Task.sleep(for: .milliseconds(50))
            }
            #expect(tree.count >= 4, "expected 2 workers and their 2 programs: \(tree)")

            await d1.kill9()
            let left = await survivors(of: tree, within: 2)
            #expect(left.isEmpty, "processes of the killed daemon still alive 2 s after kill -9: \(left)")
            #expect(!Daemon.cgroupsExist(madeBy: d1.pid), "cgroups of the killed daemon left after the sweep")
            _ = await inflight.value

            let d2 = try await scope.start()
            let rec = try #require(try await d2.record(id), "the execution's record is missing after the crash")
            #expect(rec["state"] == "interrupted", "\(rec)")
            #expect(rec["error"]?["code"] == "interrupted", "\(rec)")
            #expect(isISOTimestamp(rec["finished_at"]))
            let rec2 = try #require(try await d2.record(asyncID))
            #expect(rec2["state"] == "interrupted", "\(rec2)")
            let hist = try await d2.get("/v1/executions?user_id=crasher")
            #expect(hist.json?["total"] == 1)
            // The restarted daemon runs code for the same user.
            let again = try await d2.sh("crasher", "echo back")
            #expect(again["stdout"] == "back\n")
        }
    }

    /// Each worker's cgroup is named "user-<id>-<n>" with n a per-process counter from 1, and an
    /// existing group is reused (EEXIST is accepted): two Stockade processes on one host give the
    /// same user the same cgroup, and the first to destroy it (killAll) kills the other's worker.
    @Test("two daemons on one host: stopping one does not kill the other's workers of the same user id")
    func twoDaemonsSameUser() async throws {
        try await DaemonScope.run { scopeA in
            let a = try await scopeA.start()
            let user = "shared-name"
            let id = try await a.submit(["user_id": .string(user), "language": "shell", "code": "sleep 3; echo survived",
                                         "execution_id": "two-daemons-a"])
            _ = try #require(try await a.waitForState(id, ["running"]))
            _ = try await a.waitForWorkers(1)
            try await DaemonScope.run { scopeB in
                let b = try await scopeB.start()
                let r = try await b.sh(user, "echo b")
                #expect(r["stdout"] == "b\n")
                #expect(await b.stop() == 0)
            }
            let rec = try #require(try await a.waitForState(id, ["completed", "failed", "cancelled"], seconds: 10))
            #expect(rec["state"] == "completed",
                    "daemon A's run was killed when daemon B (another data dir) stopped its worker for the same user id: \(rec)")
            #expect(rec["result"]?["stdout"] == "survived\n", "\(rec)")
        }
    }

    @Test("SIGTERM while executions run: exits 0 within 15 s, nothing left running, no worker left")
    func gracefulStop() async throws {
        try await DaemonScope.run { scope in
            let d = try await scope.start()
            let syncID = "graceful-sync"
            let shortRun = Task {
                try await d.post("/v1/execute", ["user_id": "g1", "language": "shell", "code": "sleep 2; echo finished",
                                                  "execution_id": .string(syncID)], timeout: 40)
            }
            let longID = try await d.submit(["user_id": "g2", "language": "shell", "code": "sleep 30; echo never",
                                             "execution_id": "graceful-async"])
            _ = try #require(try await d.waitForState(syncID, ["running"]))
            _ = try #require(try await d.waitForState(longID, ["running"]))
            let (workers, _) = try await d.waitForWorkers(2)
            try await Task.sleep(for: .milliseconds(300))
            let tree = Sys.descendants(of: d.pid)
            #expect(workers.count == 2, "\(tree)")

            let t0 = Sys.now()
            kill(d.pid, SIGTERM)
            let status = await d.waitExit(seconds: 15)
            let took = Sys.now() - t0
            #expect(status != nil, "still running 15 s after SIGTERM")
            if let status {
                #expect(status == 0, "exit status \(status) (wait status), log:\n\(d.log.suffix(3000))")
            }
            #expect(took < 15)
            let left = await survivors(of: tree, within: 2)
            #expect(left.isEmpty, "processes left after the graceful stop: \(left)")

            // The short sync run had time to finish within the grace period.
            let answer = try? await shortRun.value
            if let answer {
                #expect(answer.status == 200 && answer.json?["stdout"] == "finished\n", "\(answer.status) \(answer.text)")
            }

            // What the daemon itself recorded (read the database directly: a restart would mark
            // anything left running as interrupted and hide it).
            await d.stop()
            let store = try ExecutionStore(path: d.dataDir + "/stockade.sqlite")
            let sync = try #require(try await store.get(syncID))
            #expect(sync.state == .completed, "a run that ends within the grace period completes: \(sync.state)")
            let long = try #require(try await store.get(longID))
            #expect([ExecutionRecord.State.cancelled, .interrupted].contains(long.state) || (long.state == .failed && long.error != nil),
                    "the 30 s run must be recorded as cancelled/interrupted, not \(long.state)")
            #expect(long.state != .running && long.state != .queued, "left as \(long.state) by the graceful stop")
            #expect(long.finishedAt != nil, "no finish time for the stopped run")
        }
    }
}
