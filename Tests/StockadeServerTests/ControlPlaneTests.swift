import StockadeProtocol
import Testing

extension ControlPlaneReceiver.Delivery {
    /// A /results delivery accepted (answered 200) for execution `id`.
    func isAcceptedResult(for id: String) -> Bool { path == "/results" && idempotencyKey == id && answered == 200 }
}

@Suite("Daemon control plane", .enabled(if: isRoot, needsRoot))
struct ControlPlaneTests {
    static func cpArguments(_ r: ControlPlaneReceiver) -> [String] {
        ["--control-plane-url", r.url, "--heartbeat-interval", "0.2"]
    }

    /// The checks on one delivered result.
    static func checkResult(_ delivery: ControlPlaneReceiver.Delivery?, id: String, stdout: String,
                            sourceLocation: SourceLocation = #_sourceLocation) {
        guard let delivery else {
            Issue.record("no accepted delivery for \(id)", sourceLocation: sourceLocation)
            return
        }
        #expect(delivery.method == "POST", sourceLocation: sourceLocation)
        #expect(delivery.contentType?.hasPrefix("application/json") == true, sourceLocation: sourceLocation)
        let json = delivery.json
        let text = String(decoding: delivery.body, as: UTF8.self)
        #expect(json?["type"] == "execution.finished", "\(text)", sourceLocation: sourceLocation)
        let e = json?["execution"]
        #expect(e?["execution_id"] == .string(id), "\(text)", sourceLocation: sourceLocation)
        #expect(e?["state"] == "completed", "\(text)", sourceLocation: sourceLocation)
        #expect(e?["mode"] == "async", "\(text)", sourceLocation: sourceLocation)
        #expect(e?["result"]?["stdout"] == .string(stdout), "\(text)", sourceLocation: sourceLocation)
        #expect(e?["result"]?["status"] == "ok", "\(text)", sourceLocation: sourceLocation)
    }

    @Test("heartbeats arrive; finished async executions are delivered with their id; 503s are retried until accepted")
    func heartbeatsAndResults() async throws {
        let receiver = try ControlPlaneReceiver.start()
        defer { Task { await receiver.stop() } }
        try await withDaemon(Self.cpArguments(receiver)) { d in
            // Heartbeats, about every 0.2 s.
            let start = Sys.now()
            let beats = await receiver.wait(seconds: 5) { $0.filter { $0.path == "/heartbeat" }.count >= 4 }
            #expect(beats, "heartbeats in \(Sys.now() - start) s: \(receiver.deliveries(path: "/heartbeat").count)")
            let hb = receiver.deliveries(path: "/heartbeat").first
            #expect(hb?.method == "POST")
            #expect(hb?.json?["type"] == "heartbeat", "\(String(describing: hb.map { String(decoding: $0.body, as: UTF8.self) }))")
            #expect(hb?.json?["version"] == "0.1.0")
            #expect(hb?.json?["workers"]?.intValue != nil)
            #expect(hb?.json?["outbox_pending"]?.intValue != nil)
            let hbTimes = receiver.deliveries(path: "/heartbeat").map(\.at)
            if hbTimes.count >= 4 {
                let span = hbTimes[3] - hbTimes[0]
                #expect(span < 2.0, "3 heartbeat intervals took \(span) s at a 0.2 s interval")
            }

            // Finished async executions are delivered, each with its id as Idempotency-Key.
            let a = try await d.submit(["user_id": "cp", "language": "shell", "code": "echo alpha"])
            let b = try await d.submit(["user_id": "cp2", "language": "python", "code": "print('beta')"])
            let sync = try await d.execute(["user_id": "cp", "language": "shell", "code": "echo sync", "execution_id": "cp-sync-1"])
            #expect(sync["stdout"] == "sync\n")
            let both = await receiver.wait(seconds: 15) { ds in
                ds.contains { $0.isAcceptedResult(for: a) } && ds.contains { $0.isAcceptedResult(for: b) }
            }
            #expect(both, "results delivered: \(receiver.deliveries(path: "/results").map { ($0.idempotencyKey ?? "-", $0.answered) })")
            Self.checkResult(receiver.deliveries.first { $0.isAcceptedResult(for: a) }, id: a, stdout: "alpha\n")
            Self.checkResult(receiver.deliveries.first { $0.isAcceptedResult(for: b) }, id: b, stdout: "beta\n")
            #expect(receiver.deliveries(path: "/results").allSatisfy { $0.idempotencyKey != nil }, "a /results POST without Idempotency-Key")

            // The control plane refuses (503): the result is retried, then delivered once it accepts.
            receiver.answer(503)
            let c = try await d.submit(["user_id": "cp", "language": "shell", "code": "echo gamma"])
            _ = try #require(try await d.waitForState(c, ["completed"]))
            let refused = await receiver.wait(seconds: 10) { ds in
                ds.filter { $0.path == "/results" && $0.idempotencyKey == c && $0.answered == 503 }.count >= 3
            }
            #expect(refused, "attempts for \(c): \(receiver.deliveries.filter { $0.idempotencyKey == c }.count)")
            receiver.answer(200)
            let accepted = await receiver.wait(seconds: 20) { ds in ds.contains { $0.isAcceptedResult(for: c) } }
            #expect(accepted, "\(c) not delivered after the control plane came back")
            Self.checkResult(receiver.deliveries.first { $0.isAcceptedResult(for: c) }, id: c, stdout: "gamma\n")
            let attempts = receiver.deliveries.filter { $0.idempotencyKey == c }
            let bodies = Set(attempts.map(\.body))
            #expect(bodies.count == 1, "every attempt carries the same payload")
            // Once accepted it is not sent again.
            try await Task.sleep(for: .seconds(1))
            #expect(receiver.deliveries.filter { $0.isAcceptedResult(for: c) }.count == 1)
            // Synchronous runs are not owed to the control plane.
            #expect(!receiver.deliveries.contains { $0.idempotencyKey == "cp-sync-1" })
        }
        await receiver.stop()
    }

    /// Gap in "never lost when the daemon restarts": an asynchronous run that a crash interrupted
    /// is finished (state interrupted) but nothing tells the control plane, which waits forever.
    @Test("an async execution interrupted by a daemon crash is reported to the control plane as interrupted")
    func interruptedIsReported() async throws {
        let receiver = try ControlPlaneReceiver.start()
        let args = Self.cpArguments(receiver)
        do {
            try await DaemonScope.run { scope in
                let d1 = try await scope.start(args)
                let id = try await d1.submit(["user_id": "cpcrash", "language": "shell", "code": "sleep 20",
                                              "execution_id": "cp-crashed-1"])
                _ = try #require(try await d1.waitForState(id, ["running"]))
                try await Task.sleep(for: .milliseconds(300))
                await d1.kill9()
                let d2 = try await scope.start(args)
                let rec = try await d2.record(id)
                #expect(rec?["state"] == "interrupted")
                let delivered = await receiver.wait(seconds: 5) { ds in ds.contains { $0.isAcceptedResult(for: id) } }
                #expect(delivered, "the control plane never hears that \(id) ended (interrupted by the crash)")
                if let d = receiver.deliveries.first(where: { $0.isAcceptedResult(for: id) }) {
                    #expect(d.json?["execution"]?["state"] == "interrupted")
                }
            }
        } catch {
            await receiver.stop()
            throw error
        }
        await receiver.stop()
    }

    @Test("results survive a control-plane outage across a daemon restart")
    func outageAcrossRestart() async throws {
        var receiver = try ControlPlaneReceiver.start()
        let port = receiver.port
        let args = Self.cpArguments(receiver)
        do {
        try await DaemonScope.run { scope in
            let d1 = try await scope.start(args)
            #expect(await receiver.wait(seconds: 5) { !$0.filter { $0.path == "/heartbeat" }.isEmpty }, "no heartbeat")
            await receiver.stop() // the control plane goes down

            var ids: [String] = []
            for i in 1...3 {
                ids.append(try await d1.submit(["user_id": .string("out\(i)"), "language": "shell", "code": .string("echo outage-\(i)")]))
            }
            for id in ids { _ = try #require(try await d1.waitForState(id, ["completed"]), "\(id) did not complete") }
            // A heartbeat while it is down reports them pending (checked below through the restarted daemon's first one).
            let status = await d1.stop()
            #expect(status == 0)
            #expect(!receiver.deliveries.contains { ids.contains($0.idempotencyKey ?? "") }, "delivered while the receiver was down?")

            let d2 = try await scope.start(args)
            receiver = try ControlPlaneReceiver.start(port: port)
            let all = await receiver.wait(seconds: 30) { ds in ids.allSatisfy { id in ds.contains { $0.isAcceptedResult(for: id) } } }
            let got = receiver.deliveries(path: "/results").compactMap(\.idempotencyKey)
            #expect(all, "after the outage and restart only \(got) of \(ids) arrived")
            for (i, id) in ids.enumerated() {
                Self.checkResult(receiver.deliveries.first { $0.isAcceptedResult(for: id) }, id: id, stdout: "outage-\(i + 1)\n")
            }
            // Heartbeats resume from the restarted daemon.
            #expect(await receiver.wait(seconds: 5) { !$0.filter { $0.path == "/heartbeat" }.isEmpty })
            let firstBeat = receiver.deliveries(path: "/heartbeat").first?.json
            #expect(firstBeat?["outbox_pending"]?.intValue != nil)
            _ = d2
        }
        } catch {
            await receiver.stop()
            throw error
        }
        await receiver.stop()
    }
}
