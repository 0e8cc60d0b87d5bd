import Hummingbird
import NIOCore
import Stockade
import StockadeProtocol

extension StockadeAPI {
    /// POST /v1/execute: run and answer with the result; with `Accept: text/event-stream`, stream
    /// stdout/stderr chunks as server-sent events, then a `result` event.
    func execute(_ request: Request) async throws -> Response {
        var request = request
        let body = try await JSONResponse.object(from: &request, limit: config.maxBodyBytes)
        let call = try ExecutionCall(body, defaultTimeoutSeconds: config.defaultTimeoutSeconds)
        let streaming = (request.headers[.accept] ?? "").contains("text/event-stream")
        let created = Timestamp.now()
        let record = ExecutionRecord(id: call.executionID, userID: call.user, sessionID: call.sessionID,
                                     language: call.params.language.rawValue, mode: streaming ? "stream" : "sync",
                                     state: .running, createdAt: created, startedAt: created)
        try await insert(record)
        metrics.requestStarted()
        await runs.add(call.executionID, user: call.user, mode: streaming ? "stream" : "sync")
        if streaming { return stream(call, created: created) }
        defer { Task { await runs.remove(call.executionID) } }
        do {
            let result = try await pool.execute(user: call.user, request: call.params)
            let finished = Timestamp.now()
            let json = decorate(result, id: call.executionID, user: call.user, session: call.sessionID,
                                created: created, started: created, finished: finished)
            try await store.finish(call.executionID, state: result.status == .cancelled ? .cancelled : .completed,
                                   at: finished, result: json, error: nil)
            metrics.requestFinished(status: result.status.rawValue, seconds: finished - created)
            return JSONResponse.make(json)
        } catch let error as PoolError {
            let api = apiError(error)
            try await store.finish(call.executionID, state: .failed, at: Timestamp.now(), result: nil,
                                   error: Self.errorJSON(code: api.code, message: api.message))
            metrics.requestFinished(status: api.code, seconds: Timestamp.now() - created)
            throw api
        }
    }

    func insert(_ record: ExecutionRecord) async throws {
        do {
            try await store.insert(record)
        } catch let dup as ExecutionStore.DuplicateID {
            throw APIError(.conflict, "duplicate_execution_id", dup.description)
        }
    }

    /// Server-sent events: `event: stdout` / `event: stderr` with `{"data": "..."}`, then
    /// `event: result` with the result, or `event: error` with `{"error": {...}}`.
    private func stream(_ call: ExecutionCall, created: Double) -> Response {
        let pool = self.pool
        let store = self.store
        let metrics = self.metrics
        let body = ResponseBody { writer in
            var finalState: ExecutionRecord.State = .failed
            var finalResult: JSONValue?
            var finalError: JSONValue?
            var clientGone = false
            var counted = false
            do {
                for try await item in Self.withKeepAlive(pool.executeStreaming(user: call.user, request: call.params)) {
                    let chunk: ByteBuffer
                    guard case let .event(event) = item else {
                        // A comment line every half second: keeps proxies from timing out, and a
                        // write to a closed connection tells us the client left.
                        if clientGone { continue }
                        do { try await writer.write(ByteBuffer(string: ": keep-alive\n\n")) } catch {
                            clientGone = true
                            finalError = Self.errorJSON(code: "client_disconnected", message: "the client closed the stream; the execution was cancelled")
                            try? await pool.cancel(user: call.user, executionID: call.executionID)
                        }
                        continue
                    }
                    switch event {
                    case let .output(o):
                        chunk = Self.sse(o.stream.rawValue, .object(["data": .string(o.data)]))
                    case let .result(r):
                        let finished = Timestamp.now()
                        let json = self.decorate(r, id: call.executionID, user: call.user, session: call.sessionID,
                                                 created: created, started: created, finished: finished)
                        finalState = r.status == .cancelled ? .cancelled : .completed
                        finalResult = json
                        finalError = nil
                        if !counted { metrics.requestFinished(status: r.status.rawValue, seconds: finished - created) }
                        counted = true
                        chunk = Self.sse("result", json)
                    }
                    guard !clientGone else { continue }
                    do {
                        try await writer.write(chunk)
                    } catch {
                        // The client closed the stream: nobody will read the rest, so stop the run.
                        clientGone = true
                        finalError = Self.errorJSON(code: "client_disconnected", message: "the client closed the stream; the execution was cancelled")
                        try? await pool.cancel(user: call.user, executionID: call.executionID)
                    }
                }
            } catch {
                let api = (error as? PoolError).map(self.apiError) ?? APIError(.internalServerError, "internal_error", "\(error)")
                finalError = Self.errorJSON(code: api.code, message: api.message)
                if !counted { metrics.requestFinished(status: api.code, seconds: Timestamp.now() - created) }
                counted = true
                if !clientGone { try? await writer.write(Self.sse("error", api.jsonValue)) }
            }
            await self.runs.remove(call.executionID)
            try? await store.finish(call.executionID, state: finalState, at: Timestamp.now(), result: finalResult, error: finalError)
            if !clientGone { try await writer.finish(nil) }
        }
        return Response(status: .ok, headers: [.contentType: "text/event-stream", .cacheControl: "no-cache"], body: body)
    }

    enum StreamItem: Sendable {
        case event(WorkerEvent)
        case tick
    }

    /// The events of `stream`, with a `.tick` every half second while it runs.
    static func withKeepAlive(_ stream: AsyncThrowingStream<WorkerEvent, any Error>) -> AsyncThrowingStream<StreamItem, any Error> {
        let (out, continuation) = AsyncThrowingStream<StreamItem, any Error>.makeStream()
        let ticker = Task {
            while !Task.isCancelled {
                try? await Task.sleep(for: .milliseconds(500))
                if Task.isCancelled { break }
                continuation.yield(.tick)
            }
        }
        let forward = Task {
            do {
                for try await event in stream { continuation.yield(.event(event)) }
                continuation.finish()
            } catch {
                continuation.finish(throwing: error)
            }
            ticker.cancel()
        }
        continuation.onTermination = { _ in
            ticker.cancel()
            forward.cancel()
        }
        return out
    }

    static func sse(_ event: String, _ data: JSONValue) -> ByteBuffer {
        var bytes = Array("event: \(event)\ndata: ".utf8)
        JSONWriter.write(data, into: &bytes) // compact JSON has no raw newline: one data line
        bytes += [0x0a, 0x0a]
        return ByteBuffer(bytes: bytes)
    }
}
