import StockadeProtocol
import Testing

@Suite("Daemon asynchronous executions", .enabled(if: isRoot, needsRoot))
struct AsyncExecutionTests {
    @Test("POST /v1/executions answers 202 at once; GET shows running, then completed with the result")
    func submitAndPoll() async throws {
        try await withDaemon { d in
            let t0 = Sys.now()
            let r = try await d.post("/v1/executions", ["user_id": "async-user", "language": "shell",
                                                        "code": "sleep 3; echo done", "session_id": "s-1"])
            let answeredIn = Sys.now() - t0
            #expect(r.status == 202, "\(r.text)")
            let body = try #require(r.json)
            let id = try #require(body["execution_id"]?.stringValue)
            #expect(body["state"] == "queued")
            #expect(body["user_id"] == "async-user")
            #expect(isISOTimestamp(body["created_at"]))
            // At once: before the 3 s program could have finished (no fixed bound: the suite runs
            // many daemons side by side, so absolute timings are noisy).
            #expect(answeredIn < 2.5, "202 took \(answeredIn) s: not answered at once")

            var seen: [String] = []
            var final: JSONValue?
            let deadline = Sys.now() + 20
            while Sys.now() < deadline {
                let rec = try #require(try await d.record(id))
                let state = rec["state"]?.stringValue ?? "?"
                if seen.last != state { seen.append(state) }
                if !["queued", "running"].contains(state) { final = rec; break }
                try await Task.sleep(for: .milliseconds(30))
            }
            #expect(seen.contains("running"), "states seen: \(seen)")
            let rec = try #require(final, "still not finished; states \(seen)")
            #expect(rec["state"] == "completed", "\(rec)")
            #expect(rec["mode"] == "async")
            #expect(rec["execution_id"] == .string(id))
            #expect(rec["session_id"] == "s-1")
            #expect(rec["result"]?["stdout"] == "done\n", "\(rec)")
            #expect(rec["result"]?["status"] == "ok")
            #expect(rec["result"]?["exit_code"] == 0)
            #expect((rec["result"]?["wall_ms"]?.doubleValue ?? 0) >= 2900)
            for key in ["created_at", "started_at", "finished_at"] { #expect(isISOTimestamp(rec[key]), "\(key) in \(rec)") }
        }
    }

    @Test("DELETE cancels a running execution; a finished one is 409; an unknown id is 404")
    func cancel() async throws {
        try await withDaemon { d in
            let id = try await d.submit(["user_id": "canceller", "language": "shell", "code": "echo started; sleep 30; echo never"])
            _ = try #require(try await d.waitForState(id, ["running"]), "never running")
            // The worker may still be starting: 409 not_running_yet says retry.
            var cancel: HTTPResult?
            let t0 = Sys.now()
            while Sys.now() - t0 < 15 {
                let r = try await d.delete("/v1/executions/\(id)")
                cancel = r
                if r.status != 409 || r.errorCode != "not_running_yet" { break }
                #expect(r.header("retry-after") != nil)
                try await Task.sleep(for: .milliseconds(100))
            }
            let c = try #require(cancel)
            #expect(c.status == 202 || c.status == 200, "\(c.status) \(c.text)")
            #expect(c.json?["execution_id"] == .string(id))
            let tCancel = Sys.now()
            let rec = try #require(try await d.waitForState(id, ["cancelled", "completed", "failed", "interrupted"], seconds: 10),
                                   "not finished 10 s after the cancel")
            #expect(Sys.now() - tCancel < 5, "took \(Sys.now() - tCancel) s to end after the cancel")
            #expect(rec["state"] == "cancelled", "\(rec)")
            #expect(rec["result"]?["stdout"]?.stringValue?.contains("never") != true)

            // The user's worker is still usable after the cancel.
            let next = try await d.execute(["user_id": "canceller", "language": "shell", "code": "echo after"])
            #expect(next["stdout"] == "after\n")

            // Cancelling it again, or a finished one: 409.
            let again = try await d.delete("/v1/executions/\(id)")
            ErrorTests.expectError(again, 409, "already_finished", "cancel of a cancelled execution")
            let quick = try await d.submit(["user_id": "canceller", "language": "shell", "code": "echo quick"])
            _ = try #require(try await d.waitForState(quick, ["completed"]))
            let finished = try await d.delete("/v1/executions/\(quick)")
            ErrorTests.expectError(finished, 409, "already_finished", "cancel of a completed execution")
            let rec2 = try #require(try await d.record(quick))
            #expect(rec2["state"] == "completed", "a refused cancel must not change the record: \(rec2)")

            let unknownGet = try await d.get("/v1/executions/ex_doesnotexist")
            ErrorTests.expectError(unknownGet, 404, "not_found", "GET of an unknown id")
            let unknownDelete = try await d.delete("/v1/executions/ex_doesnotexist")
            ErrorTests.expectError(unknownDelete, 404, "not_found", "DELETE of an unknown id")
        }
    }
}
