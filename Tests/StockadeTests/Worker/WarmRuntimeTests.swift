import Glibc
import StockadeProtocol
import Testing
@testable import Stockade

@Suite("warm runtimes: isolation between requests and fallbacks",
       .enabled(if: Harness.isRoot && !WorkerHarness.warmOff, "needs root, and the warm runtimes on"))
struct WarmRuntimeTests {
    static func hits(_ w: Worker) async throws -> Int64 { try await w.stats()["warm"]?["hits"]?.intValue ?? -1 }

    @Test("Python: a global, a module attribute, a monkeypatched builtin and a leftover thread do not reach the next request")
    func pythonIsolation() async throws {
        try await WorkerHarness.with { w in
            let before = try await Self.hits(w)
            let dirty = try await WorkerHarness.run(w, .python, """
                import json, builtins, threading, time
                global LEAK
                LEAK = 42
                json.dumps = lambda *a, **k: "hijacked"
                builtins.len = lambda x: -1
                threading.Thread(target=lambda: time.sleep(30), daemon=False).start()
                print("dirtied")
                """) { $0.limits.wallMs = 2000 }
            #expect(dirty.stdout == "dirtied\n" || dirty.status == .timeout)
            let clean = try await WorkerHarness.run(w, .python, """
                import json, threading
                print('LEAK' in globals(), json.dumps([1]), len([1, 2, 3]), threading.active_count())
                """)
            #expect(clean.status == .ok, "\(clean.stderr)")
            #expect(clean.stdout == "False [1] 3 1\n")
            #expect(try await Self.hits(w) >= before + 2, "both requests ran warm")
        }
    }

    @Test("JavaScript: globals, prototypes and timers do not reach the next request")
    func javascriptIsolation() async throws {
        try await WorkerHarness.with { w in
            let before = try await Self.hits(w)
            _ = try await WorkerHarness.run(w, .javascript, """
                globalThis.LEAK = 42; Array.prototype.sum = () => 'hijacked'; JSON.stringify = () => 'x';
                setInterval(() => {}, 1000); console.log('dirtied');
                """) { $0.limits.wallMs = 1000 }
            // Wait for the replacement spare.
            for _ in 0..<200 where (try await w.stats())["warm"]?["node_spares"]?.intValue ?? 0 < 1 {
                try await Task.sleep(for: .milliseconds(20))
            }
            let clean = try await WorkerHarness.run(w, .javascript,
                "console.log(typeof globalThis.LEAK, typeof [].sum, JSON.stringify({a: 1}))")
            #expect(clean.status == .ok, "\(clean.stderr)")
            #expect(clean.stdout == "undefined undefined {\"a\":1}\n")
            #expect(try await Self.hits(w) >= before + 2, "both requests ran warm")
        }
    }

    @Test("a killed zygote is restarted, and the request that found it dead still runs (cold)")
    func zygoteRestart() async throws {
        try await WorkerHarness.with { w in
            // The zygote is the sandbox's python process that is not a request: kill it from inside.
            let kill = try await WorkerHarness.run(w, .shell, """
                for p in /proc/[0-9]*; do
                  pid=${p#/proc/}
                  [ "$pid" = "$$" ] && continue
                  if grep -q recv_fds "$p/cmdline" 2>/dev/null; then kill -9 "$pid" && echo killed; fi
                done
                """)
            #expect(kill.stdout.contains("killed"), "\(kill.stdout) \(kill.stderr)")
            try await Task.sleep(for: .milliseconds(100))
            let r = try await WorkerHarness.run(w, .python, "print('still works')")
            #expect(r.status == .ok)
            #expect(r.stdout == "still works\n")
            var restarts: Int64 = 0
            for _ in 0..<300 {
                let warm = try await w.stats()["warm"]
                restarts = warm?["zygote_restarts"]?.intValue ?? 0
                if restarts >= 1, warm?["zygote_ready"]?.boolValue == true { break }
                _ = try await WorkerHarness.run(w, .python, "pass")
                try await Task.sleep(for: .milliseconds(20))
            }
            #expect(restarts >= 1)
            let after = try await WorkerHarness.run(w, .python, "print(1 + 1)")
            #expect(after.stdout == "2\n")
        }
    }

    @Test("concurrent warm Python requests each get their own process")
    func concurrentWarm() async throws {
        try await WorkerHarness.with { w in
            let pids = try await withThrowingTaskGroup(of: String.self) { group in
                for _ in 0..<8 { group.addTask { try await WorkerHarness.run(w, .python, "import os, time; time.sleep(0.2); print(os.getpid())").stdout } }
                var out: [String] = []
                for try await p in group { out.append(p) }
                return out
            }
            #expect(Set(pids).count == 8, "\(pids)")
        }
    }
}
