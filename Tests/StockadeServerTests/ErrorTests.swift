import Glibc
import StockadeProtocol
import Testing

@Suite("Daemon errors", .enabled(if: isRoot, needsRoot))
struct ErrorTests {
    /// Expect `status` and the `{"error": {"code", "message"}}` shape with `code`.
    static func expectError(_ r: HTTPResult, _ status: Int, _ code: String?, _ what: String,
                            sourceLocation: SourceLocation = #_sourceLocation) {
        #expect(r.status == status, "\(what): HTTP \(r.status) \(r.text)", sourceLocation: sourceLocation)
        #expect(r.isErrorShape, "\(what): not {\"error\": {\"code\", \"message\"}}: \(r.text)", sourceLocation: sourceLocation)
        #expect(r.header("content-type")?.hasPrefix("application/json") == true, "\(what): content-type \(String(describing: r.header("content-type")))",
                sourceLocation: sourceLocation)
        if let code {
            #expect(r.errorCode == code, "\(what): code \(String(describing: r.errorCode)), wanted \(code)", sourceLocation: sourceLocation)
        }
    }

    @Test("malformed JSON, unknown language, bad limits, bad user ids and duplicate ids get their status and code")
    func badInput() async throws {
        try await withDaemon { d in
            for (body, what) in [("{\"user_id\": \"u\", ", "truncated JSON"), ("not json", "text"), ("[1, 2]", "an array"),
                                 ("{\"user_id\": \"u\", \"language\": \"shell\", \"code\": \"true\",}", "a trailing comma")] {
                let r = try await d.request(.POST, "/v1/execute", body: Array(body.utf8))
                Self.expectError(r, 400, "malformed_json", what)
                let a = try await d.request(.POST, "/v1/executions", body: Array(body.utf8))
                Self.expectError(a, 400, "malformed_json", "async: \(what)")
            }

            let lang = try await d.post("/v1/execute", ["user_id": "bi", "language": "cobol", "code": "DISPLAY 'HI'"])
            Self.expectError(lang, 422, "unknown_language", "language cobol")
            #expect(lang.errorMessage?.contains("cobol") == true)
            let noLang = try await d.post("/v1/execute", ["user_id": "bi", "code": "true"])
            Self.expectError(noLang, 422, nil, "no language")

            let negative = try await d.post("/v1/execute", ["user_id": "bi", "language": "shell", "code": "true",
                                                           "limits": ["wall_ms": -5]])
            Self.expectError(negative, 422, "invalid_limits", "wall_ms -5")
            let unknown = try await d.post("/v1/execute", ["user_id": "bi", "language": "shell", "code": "true",
                                                          "limits": ["wall_ms": 1000, "gpus": 1]])
            Self.expectError(unknown, 422, "invalid_limits", "unknown limit key")
            #expect(unknown.errorMessage?.contains("gpus") == true)
            let stringLimit = try await d.post("/v1/execute", ["user_id": "bi", "language": "shell", "code": "true",
                                                              "limits": ["memory_bytes": "lots"]])
            Self.expectError(stringLimit, 422, "invalid_limits", "memory_bytes as a string")
            let tooSmall = try await d.post("/v1/execute", ["user_id": "bi", "language": "shell", "code": "true",
                                                           "limits": ["memory_bytes": 1024]])
            Self.expectError(tooSmall, 422, "invalid_limits", "memory_bytes 1024")
            let asyncLimits = try await d.post("/v1/executions", ["user_id": "bi", "language": "shell", "code": "true",
                                                                 "limits": ["wall_ms": 0]])
            Self.expectError(asyncLimits, 422, "invalid_limits", "async wall_ms 0")

            for user: JSONValue in ["../x", "", .string(String(repeating: "a", count: 65)), "a/b", "-lead", ".", "..", 42, nil] {
                let r = try await d.post("/v1/execute", ["user_id": user, "language": "shell", "code": "true"])
                Self.expectError(r, 400, "bad_user_id", "user_id \(user)")
                let a = try await d.post("/v1/executions", ["user_id": user, "language": "shell", "code": "true"])
                Self.expectError(a, 400, "bad_user_id", "async user_id \(user)")
            }
            let missing = try await d.post("/v1/execute", ["language": "shell", "code": "true"])
            Self.expectError(missing, 400, "bad_user_id", "no user_id")
            // 64 characters is still fine.
            let longest = try await d.execute(["user_id": .string(String(repeating: "b", count: 64)), "language": "shell", "code": "echo ok"])
            #expect(longest["stdout"] == "ok\n")
            // Bad user ids in paths too.
            let listBad = try await d.get("/v1/users/..%2Fx/files")
            #expect(listBad.status == 400 || listBad.status == 404, "\(listBad.status) \(listBad.text)")
            #expect(listBad.status != 200)
            let long = String(repeating: "c", count: 65)
            Self.expectError(try await d.get("/v1/users/\(long)/files"), 400, "bad_user_id", "files of a 65-character user")
            Self.expectError(try await d.request(.POST, "/v1/users/\(long)/files?name=a.txt", body: Array("x".utf8),
                                                 headers: [("Content-Type", "text/plain")]),
                             400, "bad_user_id", "upload for a 65-character user")
            Self.expectError(try await d.get("/v1/users/\(long)/outputs"), 400, "bad_user_id", "outputs of a 65-character user")
            Self.expectError(try await d.get("/v1/executions?user_id=\(long)"), 400, "bad_user_id", "history of a 65-character user")
            Self.expectError(try await d.get("/v1/executions?user_id="), 400, "bad_user_id", "history of an empty user")
            let histBad = try await d.get("/v1/executions?user_id=..%2Fx")
            Self.expectError(histBad, 400, "bad_user_id", "history of ../x")

            // Duplicate execution ids: 409, sync and async, and the first record stays intact.
            let first = try await d.execute(["user_id": "bi", "language": "shell", "code": "echo first", "execution_id": "dup-1"])
            #expect(first["execution_id"] == "dup-1")
            let again = try await d.post("/v1/execute", ["user_id": "bi", "language": "shell", "code": "echo second", "execution_id": "dup-1"])
            Self.expectError(again, 409, "duplicate_execution_id", "duplicate sync id")
            let againAsync = try await d.post("/v1/executions", ["user_id": "bi-other", "language": "shell", "code": "echo third", "execution_id": "dup-1"])
            Self.expectError(againAsync, 409, "duplicate_execution_id", "duplicate async id")
            let rec = try #require(try await d.record("dup-1"))
            #expect(rec["result"]?["stdout"] == "first\n", "the first record must be kept: \(rec)")
            #expect(rec["user_id"] == "bi")

            let badID = try await d.post("/v1/execute", ["user_id": "bi", "language": "shell", "code": "true", "execution_id": "a b/c"])
            Self.expectError(badID, 422, nil, "execution_id with a space and a slash")

            // Unknown routes are 404, wrong methods are not 200.
            let nope = try await d.get("/v1/nothing-here")
            #expect(nope.status == 404)
        }
    }

    @Test("a body over --max-body gets 413 body_too_large, a smaller one runs")
    func bodyTooLarge() async throws {
        try await withDaemon(["--max-body", "2048"]) { d in
            let code = "echo " + String(repeating: "x", count: 4000)
            let big = try await d.post("/v1/execute", ["user_id": "bt", "language": "shell", "code": .string(code)])
            Self.expectError(big, 413, "body_too_large", "4 KB body")
            let bigAsync = try await d.post("/v1/executions", ["user_id": "bt", "language": "shell", "code": .string(code)])
            Self.expectError(bigAsync, 413, "body_too_large", "4 KB async body")
            let small = try await d.execute(["user_id": "bt", "language": "shell",
                                             "code": .string("echo " + String(repeating: "y", count: 1000))])
            #expect(small["stdout"]?.stringValue?.count == 1001)
            // Nothing was recorded for the refused requests.
            let hist = try await d.get("/v1/executions?user_id=bt")
            #expect(hist.json?["total"] == 1, "\(hist.text)")
        }
    }

    @Test("with STOCKADE_API_TOKEN: 401 without or with a wrong token, 200 with it; /health stays open")
    func authentication() async throws {
        let token = "tok-0123456789abcdef0123456789ab" // 32 characters
        #expect(token.count == 32)
        try await withDaemon(environment: ["STOCKADE_API_TOKEN": token]) { d in
            let health = try await d.get("/health", auth: false)
            #expect(health.status == 200, "/health must stay open: \(health.text)")

            for path in ["/info", "/v1/stats", "/metrics", "/v1/executions?user_id=au", "/v1/users/au/files"] {
                let none = try await d.get(path, auth: false)
                Self.expectError(none, 401, "unauthorized", "\(path) without a token")
                #expect(none.header("www-authenticate")?.hasPrefix("Bearer") == true)
            }
            var wrongLast = Array(token)
            wrongLast[31] = wrongLast[31] == "b" ? "c" : "b"
            let wrongTokens = [String(wrongLast), String(token.dropLast()), token + "x", "Bearer", token.uppercased()]
            for wrong in wrongTokens {
                let r = try await d.get("/info", headers: [("Authorization", "Bearer \(wrong)")], auth: false)
                Self.expectError(r, 401, "unauthorized", "a wrong token \(wrong)")
            }
            let basic = try await d.get("/info", headers: [("Authorization", "Basic \(token)")], auth: false)
            Self.expectError(basic, 401, "unauthorized", "Basic scheme")
            let exec = try await d.request(.POST, "/v1/execute", body: (["user_id": "au", "language": "shell", "code": "echo no"] as JSONValue).bytes,
                                           auth: false)
            Self.expectError(exec, 401, "unauthorized", "execute without a token")
            // It did not run: nothing recorded.
            let upload = try await d.request(.POST, "/v1/users/au/files?name=a.txt", body: Array("x".utf8),
                                             headers: [("Content-Type", "application/octet-stream")], auth: false)
            Self.expectError(upload, 401, "unauthorized", "upload without a token")

            let ok = try await d.get("/info")
            #expect(ok.status == 200, "\(ok.text)")
            let run = try await d.execute(["user_id": "au", "language": "shell", "code": "echo yes"])
            #expect(run["stdout"] == "yes\n")
            let hist = try await d.get("/v1/executions?user_id=au")
            #expect(hist.json?["total"] == 1, "only the authenticated run is recorded: \(hist.text)")
            let files = try await d.get("/v1/users/au/files")
            #expect(files.json?["files"] == .array([]), "the unauthenticated upload must not have landed: \(files.text)")
        }
    }

    @Test("pool exhausted: 503 with Retry-After after about the queue timeout")
    func poolExhausted() async throws {
        try await withDaemon(["--max-workers", "1", "--queue-timeout", "0.5"]) { d in
            // Warm the first user's worker so its start time does not count.
            _ = try await d.execute(["user_id": "holder", "language": "shell", "code": "true"])
            let holder = Task { try await d.post("/v1/execute", ["user_id": "holder", "language": "shell", "code": "sleep 3; echo held"]) }
            // Wait until the one worker is busy.
            let deadline = Sys.now() + 5
            var busy = false
            while Sys.now() < deadline {
                if let s = try await d.get("/v1/stats").json, s["workers"]?["busy"] == 1 { busy = true; break }
                try await Task.sleep(for: .milliseconds(20))
            }
            #expect(busy, "the holder's execution never showed as busy")
            let t0 = Sys.now()
            let r = try await d.post("/v1/execute", ["user_id": "other", "language": "shell", "code": "echo never"])
            let waited = Sys.now() - t0
            Self.expectError(r, 503, "pool_exhausted", "second user while the only worker is busy")
            let retryAfter = r.header("retry-after").flatMap { Int($0) }
            #expect(retryAfter != nil && retryAfter! >= 1, "Retry-After: \(String(describing: r.header("retry-after")))")
            #expect(waited >= 0.4 && waited < 2.5, "503 after \(waited) s; the queue timeout is 0.5 s")
            let held = try await holder.value
            #expect(held.status == 200, "\(held.text)")
            #expect(held.json?["stdout"] == "held\n")
            // The refused request is recorded as failed with the same error.
            let hist = try await d.get("/v1/executions?user_id=other")
            let item = hist.json?["items"]?[0]
            #expect(item?["state"] == "failed", "\(hist.text)")
            #expect(item?["error"]?["code"] == "pool_exhausted", "\(hist.text)")
        }
    }
}
