import Hummingbird
import Stockade
import StockadeProtocol

extension StockadeAPI {
    /// POST /v1/executions: record it, answer 202 at once, run it in the background. Its result is
    /// kept in SQLite and, with a control plane configured, delivered there through the outbox.
    func submit(_ request: Request) async throws -> Response {
        var request = request
        let body = try await JSONResponse.object(from: &request, limit: config.maxBodyBytes)
        let call = try ExecutionCall(body, defaultTimeoutSeconds: config.defaultTimeoutSeconds)
        let created = Timestamp.now()
        try await insert(ExecutionRecord(id: call.executionID, userID: call.user, sessionID: call.sessionID,
                                         language: call.params.language.rawValue, mode: "async", state: .queued,
                                         createdAt: created))
        metrics.requestStarted()
        await runs.add(call.executionID, user: call.user, mode: "async")
        Task { await self.runAsync(call, created: created) }
        return JSONResponse.make(.object([
            "execution_id": .string(call.executionID), "user_id": .string(call.user), "state": "queued",
            "created_at": Timestamp.json(created), "url": .string("/v1/executions/\(call.executionID)"),
        ]), status: .accepted)
    }

    private func runAsync(_ call: ExecutionCall, created: Double) async {
        defer { Task { await runs.remove(call.executionID) } }
        let started = Timestamp.now()
        try? await store.markRunning(call.executionID, at: started)
        var state: ExecutionRecord.State
        var result: JSONValue?
        var failure: JSONValue?
        do {
            let r = try await pool.execute(user: call.user, request: call.params)
            state = r.status == .cancelled ? .cancelled : .completed
            result = decorate(r, id: call.executionID, user: call.user, session: call.sessionID,
                              created: created, started: started, finished: Timestamp.now())
            metrics.requestFinished(status: r.status.rawValue, seconds: Timestamp.now() - created)
        } catch let e as PoolError {
            state = .failed
            let api = apiError(e)
            failure = Self.errorJSON(code: api.code, message: api.message)
            metrics.requestFinished(status: api.code, seconds: Timestamp.now() - created)
        } catch {
            state = .failed
            failure = Self.errorJSON(code: "internal_error", message: "\(error)")
        }
        let finished = Timestamp.now()
        var outbox: JSONValue?
        if config.controlPlaneURL != nil {
            outbox = .object(["type": "execution.finished", "execution": recordJSON(ExecutionRecord(
                id: call.executionID, userID: call.user, sessionID: call.sessionID, language: call.params.language.rawValue,
                mode: "async", state: state, createdAt: created, startedAt: started, finishedAt: finished,
                result: result, error: failure))])
        }
        do {
            try await store.finish(call.executionID, state: state, at: finished, result: result, error: failure, outbox: outbox)
        } catch {
            logger.error("cannot record the end of execution \(call.executionID): \(error)")
        }
    }

    /// GET /v1/executions/{id}
    func lookup(_ id: String) async throws -> Response {
        guard let record = try await store.get(id) else {
            throw APIError.notFound("no execution '\(id)': check the id returned by POST /v1/executions")
        }
        return JSONResponse.make(recordJSON(record))
    }

    /// DELETE /v1/executions/{id}: cancel a running one (sync, streaming or async).
    func cancel(_ id: String) async throws -> Response {
        guard let record = try await store.get(id) else { throw APIError.notFound("no execution '\(id)'") }
        switch record.state {
        case .queued, .running:
            guard let user = await runs.user(of: id) else {
                throw APIError(.conflict, "not_cancellable", "execution '\(id)' is not running in this daemon (it was started by an earlier process)")
            }
            do {
                try await pool.cancel(user: user, executionID: id)
            } catch {
                // Not yet started in the worker: it is still waiting for one. Retry shortly.
                throw APIError(.conflict, "not_running_yet", "execution '\(id)' has not started in a worker yet; retry the cancel in a moment", retryAfter: 1)
            }
            return JSONResponse.make(.object(["execution_id": .string(id), "state": "cancelling"]), status: .accepted)
        default:
            throw APIError(.conflict, "already_finished", "execution '\(id)' already finished (\(record.state.rawValue))")
        }
    }

    /// GET /v1/executions?user_id=&offset=&limit=&order=newest|oldest
    func history(_ request: Request) async throws -> Response {
        let q = request.uri.queryParameters
        guard let user = q["user_id"].map(String.init) else {
            throw APIError.badRequest("bad_user_id", "user_id is required: /v1/executions?user_id=ID")
        }
        do { _ = try UserID(user) } catch { throw APIError.badRequest("bad_user_id", error.description) }
        let offset = try Self.intParameter(q["offset"].map(String.init), name: "offset", default: 0, range: 0...Int(Int32.max))
        let limit = try Self.intParameter(q["limit"].map(String.init), name: "limit", default: 20, range: 1...500)
        let order = q["order"].map(String.init) ?? "newest"
        guard order == "newest" || order == "oldest" else {
            throw APIError.unprocessable("invalid_request", "order must be newest or oldest")
        }
        let page = try await store.page(user: user, offset: offset, limit: limit, newestFirst: order == "newest")
        return JSONResponse.make(.object([
            "items": .array(page.items.map(recordJSON)), "total": .int(Int64(page.total)),
            "offset": .int(Int64(offset)), "limit": .int(Int64(limit)),
            "has_more": .bool(offset + page.items.count < page.total), "order": .string(order),
        ]))
    }

    static func intParameter(_ text: String?, name: String, default value: Int, range: ClosedRange<Int>) throws -> Int {
        guard let text else { return value }
        guard let n = Int(text), range.contains(n) else {
            throw APIError.unprocessable("invalid_request", "\(name) must be an integer from \(range.lowerBound) to \(range.upperBound)")
        }
        return n
    }

    func recordJSON(_ r: ExecutionRecord) -> JSONValue { Self.recordJSON(r) }

    static func recordJSON(_ r: ExecutionRecord) -> JSONValue {
        var o: JSONObject = [
            "execution_id": .string(r.id), "user_id": .string(r.userID),
            "session_id": r.sessionID.map { .string($0) } ?? .null, "language": .string(r.language),
            "mode": .string(r.mode), "state": .string(r.state.rawValue),
            "created_at": Timestamp.json(r.createdAt), "started_at": Timestamp.json(r.startedAt),
            "finished_at": Timestamp.json(r.finishedAt),
        ]
        if let result = r.result { o["result"] = result }
        if let error = r.error { o["error"] = error }
        return .object(o)
    }
}
