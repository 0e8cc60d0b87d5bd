import Glibc
import StockadeProtocol
import Testing
@testable import Stockade

@Suite("worker: streaming, cancel, concurrency, orphans", .enabled(if: Harness.isRoot, Harness.rootReason))
struct WorkerBehaviourTests {
    @Test("streaming: chunks arrive in order, before the final result")
    func streaming() async throws {
        try await WorkerHarness.with { w in
            let code = "import time\nfor i in range(5):\n    print('line', i, flush=True)\n    time.sleep(0.02)"
            var chunks: [String] = []
            var sawResultAfterChunks = false
            var result: ExecutionResult?
            for try await event in w.executeStreaming(ExecuteParams(language: .python, code: code)) {
                switch event {
                case let .output(o):
                    #expect(result == nil, "output after the result")
                    #expect(o.stream == .stdout)
                    chunks.append(o.data)
                case let .result(r):
                    sawResultAfterChunks = !chunks.isEmpty
                    result = r
                }
            }
            #expect(sawResultAfterChunks)
            #expect(chunks.count >= 2, "expected several chunks, got \(chunks)")
            #expect(chunks.joined() == (0..<5).map { "line \($0)\n" }.joined())
            #expect(result?.status == .ok)
        }
    }

    @Test("streaming splits never break a UTF-8 character")
    func streamingUTF8() async throws {
        try await WorkerHarness.with { w in
            var text = ""
            let code = "import sys, time\nfor i in range(200):\n    sys.stdout.buffer.write('héllo→😀'.encode()); sys.stdout.flush()"
            for try await event in w.executeStreaming(ExecuteParams(language: .python, code: code)) {
                if case let .output(o) = event {
                    #expect(!o.data.contains("\u{FFFD}"))
                    text += o.data
                }
            }
            #expect(text == String(repeating: "héllo→😀", count: 200))
        }
    }

    @Test("cancel stops a running execution")
    func cancel() async throws {
        try await WorkerHarness.with { w in
            async let result = w.execute(ExecuteParams(language: .shell, code: "sleep 30", executionID: "to-cancel"))
            // Wait until the worker runs it (the request may still be on its way under load).
            for _ in 0..<200 where (try await w.stats())["running"]?.intValue != 1 {
                try await Task.sleep(for: .milliseconds(10))
            }
            try await w.cancel(executionID: "to-cancel")
            let r = try await result
            #expect(r.status == .cancelled)
            #expect(r.wallMs < 5000)
            do {
                try await w.cancel(executionID: "no-such-execution")
                Issue.record("cancel of an unknown id succeeded")
            } catch let WorkerError.rpc(e) {
                #expect(e.code == RPCError.Code.executionNotFound)
            }
        }
    }

    @Test("20 concurrent executions in one worker")
    func concurrent() async throws {
        try await WorkerHarness.with { w in
            let results = try await withThrowingTaskGroup(of: (Int, ExecutionResult).self) { group in
                for i in 0..<20 {
                    group.addTask { (i, try await WorkerHarness.run(w, .shell, "sleep 0.2; echo \(i)")) }
                }
                var out: [Int: ExecutionResult] = [:]
                for try await (i, r) in group { out[i] = r }
                return out
            }
            #expect(results.count == 20)
            for (i, r) in results {
                #expect(r.status == .ok)
                #expect(r.stdout == "\(i)\n")
            }
        }
    }

    @Test("orphans are reaped: a double-forked sleeper leaves no zombie and no process")
    func orphans() async throws {
        try await WorkerHarness.with { w in
            // The sleeper escapes into its own session, and its parent exits at once.
            let r = try await WorkerHarness.run(w, .python, """
                import os, time
                if os.fork() == 0:
                    os.setsid()
                    if os.fork() == 0:
                        time.sleep(60)
                    os._exit(0)
                time.sleep(0.1)
                print("parent done")
                """)
            #expect(r.status == .ok)
            #expect(r.stdout == "parent done\n")
            try await Task.sleep(for: .milliseconds(100))
            let stats = try await w.stats()
            #expect(stats["processes"]?.intValue == 0, "processes left: \(stats)")
        }
    }
}

@Suite("worker: the wire, raw", .enabled(if: Harness.isRoot, Harness.rootReason))
struct WorkerWireTests {
    @Test("malformed lines get -32700 / -32600 and the worker keeps serving")
    func malformed() async throws {
        var spec = WorkerConfiguration.defaultSandbox()
        spec.executable = .image(try WorkerImage.shared())
        spec.stdin = .pipe
        spec.stdout = .pipe
        let p = try await Sandbox.spawn(spec)
        let lines = [
            "{not json",
            #"{"jsonrpc":"1.0","method":"ping","id":1}"#,
            #"[{"jsonrpc":"2.0","method":"ping","id":2}]"#,
            #"{"jsonrpc":"2.0","method":"nope","id":3}"#,
            #"{"jsonrpc":"2.0","method":"execute","params":{"language":"cobol","code":"x"},"id":4}"#,
            #"{"jsonrpc":"2.0","method":"ping","id":5}"#,
            #"{"jsonrpc":"2.0","method":"shutdown","id":6}"#,
        ]
        let text = lines.joined(separator: "\n") + "\n"
        _ = text.withCString { write(p.stdin, $0, strlen($0)) }
        close(p.stdin)
        let out = await OutputCollector.collect(fd: p.stdout)
        _ = await p.wait()
        let replies = String(decoding: out.bytes, as: UTF8.self).split(separator: "\n").map {
            try? JSONParser.parse(String($0))
        }
        #expect(replies.count == 7, "\(replies)")
        #expect(replies[0]?["error"]?["code"]?.intValue == -32700)
        #expect(replies[1]?["error"]?["code"]?.intValue == -32600)
        #expect(replies[2]?["error"]?["code"]?.intValue == -32600)
        #expect(replies[3]?["error"]?["code"]?.intValue == -32601)
        #expect(replies[4]?["error"]?["code"]?.intValue == -32602)
        #expect(replies[5]?["result"]?["pong"]?.boolValue == true, "still serving after the garbage")
        #expect(replies[6]?["result"]?["shutdown"]?.boolValue == true)
    }

    @Test("the worker refuses to run outside a sandbox (it must be PID 1)")
    func refusesOutsideSandbox() async throws {
        let path = try WorkerImage.locate()
        var pid: pid_t = 0
        var argv: [UnsafeMutablePointer<CChar>?] = [strdup(path), nil]
        defer { argv.forEach { free($0) } }
        var actions = posix_spawn_file_actions_t()
        posix_spawn_file_actions_init(&actions)
        posix_spawn_file_actions_addopen(&actions, 2, "/dev/null", O_WRONLY, 0)
        #expect(posix_spawn(&pid, path, &actions, nil, &argv, nil) == 0)
        posix_spawn_file_actions_destroy(&actions)
        var status: Int32 = 0
        waitpid(pid, &status, 0)
        #expect((status >> 8) & 0xff == 70)
    }
}

@Suite("worker: a hostile worker never hangs or crashes the host", .enabled(if: Harness.isRoot, Harness.rootReason))
struct HostileWorkerTests {
    static func fake(_ mode: String, _ configure: (inout WorkerConfiguration) -> Void = { _ in }) async throws -> Worker {
        try await WorkerHarness.start { c in
            c.image = try? WorkerHarness.fakeImage()
            c.extraArguments = ["--mode", mode]
            c.maxLineBytes = 1 << 20
            configure(&c)
        }
    }

    @Test("garbage, a giant line, a wrong id, an unknown event: the worker is ended with a clear error", arguments: ["garbage", "hugeline", "wrongid", "unknownevent"])
    func violations(mode: String) async throws {
        let w = try await Self.fake(mode)
        do {
            _ = try await w.execute(ExecuteParams(language: .shell, code: "true"))
            Issue.record("\(mode): the request succeeded")
        } catch {
            // The violation kills the worker; the request fails as crashed or as the violation.
            #expect(["worker_crashed", "worker_protocol_error"].contains(error.code), "\(mode): \(error)")
        }
        let outcome = await w.waitForExit()
        #expect(outcome.termination == .signaled(SIGKILL), "\(mode): \(outcome.termination)")
        #expect(!w.isAlive)
        do {
            _ = try await w.ping()
            Issue.record("a dead worker answered")
        } catch {}
    }

    @Test("a worker that closed its input: the host's write fails with EPIPE, not SIGPIPE, and the request with worker_crashed")
    func closedInput() async throws {
        let w = try await Self.fake("closein")
        // Another test's sandbox may be mid-spawn: its child holds copies of this process's fds,
        // the worker's pipe ends among them, until its exec closes them (they are close-on-exec).
        // Until then a write still finds a reader; give those spawns time to reach exec.
        try await Task.sleep(for: .milliseconds(300))
        // Process-wide from the first connection on (the test process may have ignored it already).
        var current = sigaction()
        #expect(sigaction(SIGPIPE, nil, &current) == 0)
        #expect(unsafeBitCast(current.__sigaction_handler.sa_handler, to: Int.self) == unsafeBitCast(SIG_IGN, to: Int.self))
        for _ in 0..<3 {
            do {
                _ = try await w.execute(ExecuteParams(language: .shell, code: "true"))
                Issue.record("the request succeeded")
            } catch {
                #expect(error.code == "worker_crashed", "\(error)")
            }
        }
        w.kill()
        _ = await w.waitForExit()
        #expect(!w.isAlive)
    }

    @Test("exiting mid-request fails the request with worker_crashed and the exit status")
    func exitMidRequest() async throws {
        let w = try await Self.fake("exitmid")
        do {
            _ = try await w.execute(ExecuteParams(language: .shell, code: "true"))
            Issue.record("the request succeeded")
        } catch {
            #expect(error.code == "worker_crashed")
            #expect("\(error)".contains("exit status 3"))
        }
    }

    @Test("a flood of output events is consumed without blocking")
    func flood() async throws {
        let w = try await Self.fake("flood")
        var chunks = 0
        var final: ExecutionResult?
        for try await event in w.executeStreaming(ExecuteParams(language: .shell, code: "true")) {
            switch event {
            case .output: chunks += 1
            case let .result(r): final = r
            }
        }
        #expect(chunks == 20_000)
        #expect(final?.status == .ok)
        await w.stop(grace: 0)
    }

    @Test("a worker that never answers its first ping times out at startup")
    func silent() async throws {
        let start = ContinuousClock.now
        do {
            _ = try await Self.fake("silent") { $0.startupTimeoutSeconds = 0.5 }
            Issue.record("a silent worker started")
        } catch {
            #expect((error as? WorkerError)?.code == "worker_startup_timeout", "\(error)")
        }
        #expect(ContinuousClock.now - start < .seconds(15), "never hangs (a generous bound: the suites run side by side)")
    }

    @Test("a worker that stalls mid-request is killed by the host's backstop")
    func stall() async throws {
        let w = try await Self.fake("stall") { $0.backstopGraceSeconds = 0.3 }
        do {
            _ = try await w.execute(ExecuteParams(language: .shell, code: "true", limits: ExecutionLimits(wallMs: 200)))
            Issue.record("the request succeeded")
        } catch {
            #expect(error.code == "worker_unresponsive")
        }
        _ = await w.waitForExit()
        #expect(!w.isAlive)
    }
}
