import StockadeProtocol
import Testing

@Suite("Daemon history pagination", .enabled(if: isRoot, needsRoot))
struct PaginationTests {
    static func ids(_ page: JSONValue?) -> [String] {
        (page?["items"]?.arrayValue ?? []).compactMap { $0["execution_id"]?.stringValue }
    }

    @Test("GET /v1/executions pages a user's history newest first with total and has_more")
    func pages() async throws {
        try await withDaemon { d in
            // Five for p1 and two for p2, interleaved, one after another so the order is known.
            var p1: [String] = []
            for i in 1...5 {
                let id = "page-p1-\(i)"
                _ = try await d.execute(["user_id": "p1", "language": "shell", "code": .string("echo \(i)"), "execution_id": .string(id)])
                p1.append(id)
                if i == 2 || i == 4 {
                    _ = try await d.execute(["user_id": "p2", "language": "shell", "code": "echo other", "execution_id": .string("page-p2-\(i)")])
                }
            }

            let first = try await d.get("/v1/executions?user_id=p1&limit=2")
            #expect(first.status == 200, "\(first.text)")
            let f = try #require(first.json)
            #expect(Self.ids(f) == ["page-p1-5", "page-p1-4"], "\(first.text)")
            #expect(f["total"] == 5)
            #expect(f["has_more"] == true)
            #expect(f["limit"] == 2)
            #expect(f["offset"] == 0)
            let item = try #require(f["items"]?[0])
            #expect(item["state"] == "completed")
            #expect(item["user_id"] == "p1")
            #expect(item["result"]?["stdout"] == "5\n", "items carry their results: \(item)")

            let second = try await d.get("/v1/executions?user_id=p1&limit=2&offset=2")
            #expect(Self.ids(second.json) == ["page-p1-3", "page-p1-2"], "\(second.text)")
            #expect(second.json?["has_more"] == true)

            let last = try await d.get("/v1/executions?user_id=p1&limit=2&offset=4")
            #expect(Self.ids(last.json) == ["page-p1-1"], "\(last.text)")
            #expect(last.json?["has_more"] == false)
            #expect(last.json?["total"] == 5)

            let beyond = try await d.get("/v1/executions?user_id=p1&limit=2&offset=10")
            #expect(beyond.status == 200)
            #expect(Self.ids(beyond.json) == [])
            #expect(beyond.json?["has_more"] == false)

            let oldest = try await d.get("/v1/executions?user_id=p1&limit=2&order=oldest")
            #expect(Self.ids(oldest.json) == ["page-p1-1", "page-p1-2"], "\(oldest.text)")
            #expect(oldest.json?["has_more"] == true)
            let oldestAll = try await d.get("/v1/executions?user_id=p1&order=oldest")
            #expect(Self.ids(oldestAll.json) == p1, "\(oldestAll.text)")

            // The whole history of each user holds only that user's executions.
            let all = try await d.get("/v1/executions?user_id=p1&limit=500")
            #expect(Self.ids(all.json) == p1.reversed(), "\(all.text)")
            #expect((all.json?["items"]?.arrayValue ?? []).allSatisfy { $0["user_id"] == "p1" })
            let other = try await d.get("/v1/executions?user_id=p2")
            #expect(Self.ids(other.json) == ["page-p2-4", "page-p2-2"], "\(other.text)")
            #expect(other.json?["total"] == 2)
            let nobody = try await d.get("/v1/executions?user_id=nobody")
            #expect(nobody.status == 200)
            #expect(nobody.json?["total"] == 0)
            #expect(nobody.json?["has_more"] == false)

            for bad in ["limit=0", "limit=-1", "limit=abc", "limit=501", "offset=-1", "offset=x", "order=sideways"] {
                let r = try await d.get("/v1/executions?user_id=p1&\(bad)")
                ErrorTests.expectError(r, 422, "invalid_request", bad)
            }
            let noUser = try await d.get("/v1/executions")
            ErrorTests.expectError(noUser, 400, "bad_user_id", "no user_id")
        }
    }
}
