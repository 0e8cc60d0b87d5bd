import Hummingbird
import Logging
import NIOCore
import Stockade
import StockadeProtocol

/// The daemon's state as the HTTP handlers see it.
final class StockadeAPI: Sendable {
    let config: DaemonConfig
    let pool: WorkerPool
    let store: ExecutionStore
    let users: UserSandboxes
    let runs = RunningExecutions()
    let metrics: DaemonMetrics
    let health: HealthProbe
    let logger: Logger

    init(config: DaemonConfig, pool: WorkerPool, store: ExecutionStore, users: UserSandboxes,
         metrics: DaemonMetrics, logger: Logger) {
        self.config = config
        self.pool = pool
        self.store = store
        self.users = users
        self.metrics = metrics
        self.logger = logger
        health = HealthProbe()
    }

    func router() -> Router<BasicRequestContext> {
        let router = Router()
        router.add(middleware: AuthMiddleware(token: config.apiToken.map { Array($0.utf8) }))
        router.get("/health") { _, _ in await self.healthResponse() }
        router.get("/info") { _, _ in self.info() }
        router.get("/v1/stats") { _, _ in await self.stats() }
        router.get("/metrics") { _, _ in self.metrics.prometheusResponse() }
        router.post("/v1/execute") { request, _ in try await self.execute(request) }
        router.post("/v1/executions") { request, _ in try await self.submit(request) }
        router.get("/v1/executions") { request, _ in try await self.history(request) }
        router.get("/v1/executions/{id}") { _, context in try await self.lookup(context.parameters.require("id")) }
        router.delete("/v1/executions/{id}") { _, context in try await self.cancel(context.parameters.require("id")) }
        router.post("/v1/users/{user}/files") { request, context in
            try await self.upload(request, user: Self.parameter(context, "user"))
        }
        router.get("/v1/users/{user}/files") { _, context in try self.list(.uploads, user: Self.parameter(context, "user")) }
        router.get("/v1/users/{user}/files/{name}") { _, context in
            try self.download(.uploads, user: Self.parameter(context, "user"), name: Self.parameter(context, "name"))
        }
        router.delete("/v1/users/{user}/files/{name}") { _, context in
            try self.remove(user: Self.parameter(context, "user"), name: Self.parameter(context, "name"))
        }
        router.get("/v1/users/{user}/outputs") { _, context in try self.list(.outputs, user: Self.parameter(context, "user")) }
        router.get("/v1/users/{user}/outputs/{name}") { _, context in
            try self.download(.outputs, user: Self.parameter(context, "user"), name: Self.parameter(context, "name"))
        }
        return router
    }

    /// A path parameter, percent-decoded ("my%20report.txt" names "my report.txt").
    static func parameter(_ context: BasicRequestContext, _ name: String) throws -> String {
        let raw = try context.parameters.require(name)
        guard let decoded = PercentDecoding.decode(raw) else {
            throw APIError.badRequest("bad_path", "the \(name) in the path is not valid percent-encoded UTF-8")
        }
        return decoded
    }

    // MARK: Errors

    /// The HTTP answer to a pool failure.
    func apiError(_ error: PoolError) -> APIError {
        switch error {
        case .poolExhausted, .backoff:
            return APIError(.serviceUnavailable, error.code, error.description,
                            retryAfter: Int((error.retryAfterSeconds ?? 1).rounded(.up)))
        case .shuttingDown:
            return APIError(.serviceUnavailable, error.code, error.description, retryAfter: 5)
        case .invalidRequest:
            return APIError(.unprocessableContent, "invalid_request", error.description)
        case .workerCrashed:
            return APIError(.badGateway, error.code, error.description)
        case let .worker(w):
            if case let .rpc(e) = w, e.code == RPCError.Code.invalidParams {
                return APIError(.unprocessableContent, "invalid_request", e.message)
            }
            return APIError(.badGateway, error.code, error.description)
        case .workerStartFailed:
            return APIError(.internalServerError, error.code, error.description)
        }
    }

    /// The result contract plus the record's identity and times.
    func decorate(_ result: ExecutionResult, id: String, user: String, session: String?,
                  created: Double, started: Double?, finished: Double?) -> JSONValue {
        var o = result.jsonValue.objectValue ?? JSONObject()
        o["execution_id"] = .string(id)
        o["user_id"] = .string(user)
        o["session_id"] = session.map { .string($0) } ?? .null
        o["created_at"] = Timestamp.json(created)
        o["started_at"] = Timestamp.json(started)
        o["finished_at"] = Timestamp.json(finished)
        return .object(o)
    }

    static func errorJSON(code: String, message: String) -> JSONValue {
        .object(["code": .string(code), "message": .string(message)])
    }
}
