import StockadeProtocol
import Testing

@Suite("Daemon server-sent events", .enabled(if: isRoot, needsRoot))
struct StreamingTests {
    @Test("stdout and stderr events arrive in order, progressively, before the result event")
    func streamsInOrder() async throws {
        try await withDaemon { d in
            // Warm the worker so the first event's time measures streaming, not worker start.
            _ = try await d.execute(["user_id": "streamer", "language": "shell", "code": "true"])
            let code = """
            import sys, time
            for i in range(4):
                print(f"out{i}", flush=True)
                time.sleep(0.05)
                print(f"err{i}", file=sys.stderr, flush=True)
                time.sleep(0.6)
            print("done", flush=True)
            """
            let s = try await d.executeStreaming(["user_id": "streamer", "language": "python", "code": .string(code),
                                                  "execution_id": "sse-1"])
            #expect(s.status == 200)
            #expect(s.contentType?.hasPrefix("text/event-stream") == true, "\(String(describing: s.contentType))")
            let names = s.events.map(\.event)
            #expect(names.last == "result", "events: \(names)")
            #expect(names.filter { $0 == "result" }.count == 1, "events: \(names)")
            #expect(!names.contains("error"), "events: \(s.events.map { "\($0.event) \($0.data)" })")
            let outputs = s.events.filter { $0.event == "stdout" || $0.event == "stderr" }
            #expect(outputs.count >= 2, "events: \(names)")
            // Every output event comes before the result.
            if let resultIndex = names.firstIndex(of: "result") {
                #expect(names[resultIndex...].allSatisfy { $0 == "result" }, "an output event after the result: \(names)")
            }
            // The streams' contents, each in order.
            let out = outputs.filter { $0.event == "stdout" }.compactMap { $0.json?["data"]?.stringValue }.joined()
            let err = outputs.filter { $0.event == "stderr" }.compactMap { $0.json?["data"]?.stringValue }.joined()
            #expect(out == "out0\nout1\nout2\nout3\ndone\n", "stdout events: \(out.debugDescription)")
            #expect(err == "err0\nerr1\nerr2\nerr3\n", "stderr events: \(err.debugDescription)")
            // The interleaving across the two streams follows the program (0.05 s / 0.6 s apart).
            let sequence = outputs.compactMap { $0.json?["data"]?.stringValue }.joined()
            #expect(sequence == "out0\nerr0\nout1\nerr1\nout2\nerr2\nout3\nerr3\ndone\n", "order: \(sequence.debugDescription)")

            // Progressive: the first output arrived long before the end; out3 about 1.95 s after out0
            // (a burst at the end would put them ~0 s apart; the bounds leave room for a loaded box).
            if let first = outputs.first, let result = s.events.last {
                #expect(result.at - first.at > 1.0, "first output at +\(first.at - s.start) s, result at +\(result.at - s.start) s: not streamed")
            }
            if let o0 = outputs.first(where: { $0.json?["data"]?.stringValue?.contains("out0") == true }),
               let o3 = outputs.first(where: { $0.json?["data"]?.stringValue?.contains("out3") == true }) {
                #expect(o3.at - o0.at > 0.8, "out0 and out3 arrived \(o3.at - o0.at) s apart")
            }

            let result = try #require(s.events.last?.json, "result event: \(String(describing: s.events.last))")
            #expect(result["status"] == "ok", "\(result)")
            #expect(result["exit_code"] == 0)
            #expect(result["execution_id"] == "sse-1")
            #expect(result["user_id"] == "streamer")
            #expect(isISOTimestamp(result["finished_at"]))

            // Recorded as a stream run, completed.
            let rec = try #require(try await d.record("sse-1"))
            #expect(rec["mode"] == "stream")
            #expect(rec["state"] == "completed", "\(rec)")
        }
    }

    @Test("a request refused before it runs is a plain JSON error, and a failing program still ends with result")
    func streamErrors() async throws {
        try await withDaemon { d in
            let s = try await d.executeStreaming(["user_id": "streamer2", "language": "shell",
                                                  "code": "echo a; echo b >&2; exit 7"])
            #expect(s.status == 200)
            #expect(s.events.last?.event == "result")
            #expect(s.events.last?.json?["exit_code"] == 7)
            #expect(s.events.last?.json?["status"] == "runtime_error")
            let bad = try await d.executeStreaming(["user_id": "../x", "language": "shell", "code": "true"])
            #expect(bad.status == 400)
        }
    }
}
