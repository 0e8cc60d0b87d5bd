import Glibc
import StockadeProtocol
import Testing
@testable import Stockade

@Suite("worker: every status", .enabled(if: Harness.isRoot, Harness.rootReason))
struct WorkerStatusTests {
    @Test("ok, with stdout and stderr")
    func ok() async throws {
        let r = try await WorkerHarness.with { try await WorkerHarness.run($0, .shell, "echo out; echo err >&2") }
        #expect(r.status == .ok)
        #expect(r.exitCode == 0)
        #expect(r.stdout == "out\n")
        #expect(r.stderr == "err\n")
        #expect(r.wallMs > 0)
    }

    @Test("runtime_error: a Python exception, a JavaScript throw, shell exit 3")
    func runtimeErrors() async throws {
        try await WorkerHarness.with { w in
            let py = try await WorkerHarness.run(w, .python, "def f():\n    raise ValueError('bad value')\nf()")
            #expect(py.status == .runtimeError)
            #expect(py.exitCode == 1)
            #expect(py.stderr.contains("ValueError: bad value"))
            #expect(py.error?.type == "ValueError")
            #expect(py.error?.traceback?.contains("line 2") == true)
            let js = try await WorkerHarness.run(w, .javascript, "throw new TypeError('nope')")
            #expect(js.status == .runtimeError)
            #expect(js.error?.type == "TypeError")
            #expect(js.stderr.contains("nope"))
            let sh = try await WorkerHarness.run(w, .shell, "exit 3")
            #expect(sh.status == .runtimeError)
            #expect(sh.exitCode == 3)
            // Exits with a code or a message, as the interpreters report them run directly.
            let pyExit = try await WorkerHarness.run(w, .python, "import sys\nprint('out')\nsys.exit(4)")
            #expect(pyExit.status == .runtimeError && pyExit.exitCode == 4 && pyExit.stdout == "out\n")
            let pyMessage = try await WorkerHarness.run(w, .python, "import sys\nsys.exit('gave up')")
            #expect(pyMessage.status == .runtimeError && pyMessage.exitCode == 1 && pyMessage.stderr.contains("gave up"))
            let jsExit = try await WorkerHarness.run(w, .javascript, "console.log('out'); process.exitCode = 5")
            #expect(jsExit.status == .runtimeError && jsExit.exitCode == 5 && jsExit.signal == nil && jsExit.stdout == "out\n")
            let jsExplicit = try await WorkerHarness.run(w, .javascript, "setTimeout(() => process.exit(6), 20)")
            #expect(jsExplicit.status == .runtimeError && jsExplicit.exitCode == 6 && jsExplicit.signal == nil)
            // A process that kills itself is signaled, whatever the runner would have reported.
            let jsKill = try await WorkerHarness.run(w, .javascript, "process.kill(process.pid, 'SIGKILL')")
            #expect(jsKill.status == .signaled && jsKill.signal == SIGKILL && jsKill.exitCode == nil)
        }
    }

    @Test("signaled: kill -SEGV of itself")
    func signaled() async throws {
        let r = try await WorkerHarness.with { try await WorkerHarness.run($0, .shell, "kill -SEGV $$") }
        #expect(r.status == .signaled)
        #expect(r.signal == SIGSEGV)
    }

    @Test("timeout: sleep past wall_ms, and the whole process group is gone after")
    func timeout() async throws {
        try await WorkerHarness.with { w in
            let r = try await WorkerHarness.run(w, .shell, "sleep 30 & sleep 30 & sleep 30") { $0.limits.wallMs = 300 }
            #expect(r.status == .timeout)
            #expect(r.wallMs < 3000)
            #expect(r.message?.contains("300 ms") == true)
            let stats = try await w.stats()
            #expect(stats["processes"]?.intValue == 0, "left behind: \(stats)")
        }
    }

    @Test("memory_limit: allocating past memory_bytes")
    func memoryLimit() async throws {
        try await WorkerHarness.with { w in
            let py = try await WorkerHarness.run(w, .python, "x = bytearray(400 * 1024 * 1024)\nprint('allocated')") { $0.limits.memoryBytes = 64 << 20 }
            #expect(py.status == .memoryLimit, "\(py)")
            #expect(!py.stdout.contains("allocated"))
            let js = try await WorkerHarness.run(w, .javascript, "const a = []; while (true) a.push(new Array(1e6).fill(1));") {
                $0.limits.memoryBytes = 128 << 20
                $0.limits.wallMs = 20_000
            }
            #expect(js.status == .memoryLimit, "\(js.status) \(js.stderr.suffix(300))")
        }
    }

    @Test("output_limit: printing forever stops at output_bytes")
    func outputLimit() async throws {
        let r = try await WorkerHarness.with {
            try await WorkerHarness.run($0, .python, "while True: print('x' * 100)") { $0.limits.outputBytes = 10_000 }
        }
        #expect(r.status == .outputLimit)
        #expect(r.stdoutTruncated)
        #expect(r.stdout.utf8.count == 10_000)
    }

    @Test("cpu time: a busy loop is stopped at cpu_ms (whole seconds) and reported as timeout")
    func cpuTime() async throws {
        let r = try await WorkerHarness.with {
            try await WorkerHarness.run($0, .shell, "while :; do :; done") { $0.limits.cpuMs = 1000; $0.limits.wallMs = 20_000 }
        }
        #expect(r.status == .timeout)
        #expect(r.signal == SIGXCPU || r.signal == SIGKILL)
        // rusage is sampled from ticks; the kernel enforced the limit on the precise clock.
        #expect(r.cpuMs >= 500, "\(r.cpuMs)")
    }

    @Test("pids: a request may have this many processes, itself included, cold or warm")
    func pidsLimit() async throws {
        let forker = """
        import os, sys
        made = 0
        for i in range(20):
            try:
                pid = os.fork()
            except OSError as e:
                print("refused:", e.strerror, file=sys.stderr)
                break
            if pid == 0:
                import time
                time.sleep(30)
                os._exit(0)
            made += 1
        print(made)
        """
        try await WorkerHarness.with { w in
            for round in 0..<2 {   // the second round: the zygote has pre-forked again
                let py = try await WorkerHarness.run(w, .python, forker) { $0.limits.pids = 4 }
                #expect(py.status == .ok, "\(py)")
                #expect(py.stdout == "3\n", "round \(round): \(py.stdout) \(py.stderr)")
                #expect(py.stderr.contains("Resource temporarily unavailable"))
            }
            // sh gives up at the first fork that fails.
            let sh = try await WorkerHarness.run(w, .shell, "for i in 1 2 3 4 5 6; do sleep 30 & echo $i; done") {
                $0.limits.pids = 3
            }
            #expect(sh.stdout == "1\n2\n", "\(sh.stdout) \(sh.stderr)")
            #expect(sh.stderr.contains("fork"), "\(sh.stderr)")
            let stats = try await w.stats()
            #expect(stats["processes"]?.intValue == 0, "left behind: \(stats)")
        }
    }
}
