import AsyncHTTPClient
import Logging
import NIOCore
import NIOPosix
import ServiceLifecycle
import Stockade
import StockadeProtocol

/// Delivers what the control plane is owed: each finished asynchronous execution, through the
/// SQLite outbox (retried with backoff until accepted, kept across restarts), and a heartbeat
/// with the pool's figures every interval.
///
/// The control plane receives `POST {url}/results` (the execution record, with an
/// `Idempotency-Key` header of the execution id, since a retry may repeat a delivery the receiver
/// already has) and `POST {url}/heartbeat`. `STOCKADE_CONTROL_PLANE_TOKEN`, when set, is sent as a
/// bearer token.
final class ControlPlane: Service, Sendable {
    let url: String
    let token: String?
    let store: ExecutionStore
    let pool: WorkerPool
    let heartbeatInterval: Double
    let logger: Logger
    private let client: HTTPClient

    init(url: String, token: String?, store: ExecutionStore, pool: WorkerPool, heartbeatInterval: Double, logger: Logger) {
        self.url = url.hasSuffix("/") ? String(url.dropLast()) : url
        self.token = token
        self.store = store
        self.pool = pool
        self.heartbeatInterval = heartbeatInterval
        self.logger = logger
        client = HTTPClient(eventLoopGroup: MultiThreadedEventLoopGroup.singleton)
    }

    func run() async throws {
        await cancelWhenGracefulShutdownQuietly {
            var lastHeartbeat = 0.0
            while !Task.isCancelled {
                await self.deliverDue()
                let now = Timestamp.now()
                if now - lastHeartbeat >= self.heartbeatInterval {
                    lastHeartbeat = now
                    await self.heartbeat()
                }
                try? await Task.sleep(for: .milliseconds(200))
            }
        }
        try? await client.shutdown()
    }

    private func cancelWhenGracefulShutdownQuietly(_ body: @escaping @Sendable () async -> Void) async {
        _ = try? await cancelWhenGracefulShutdown { await body() }
    }

    /// Send every due outbox item; a failure schedules a retry with exponential backoff (max 60 s).
    func deliverDue() async {
        let due: [ExecutionStore.OutboxItem]
        do { due = try await store.dueOutbox(now: Timestamp.now()) } catch {
            logger.error("cannot read the outbox: \(error)")
            return
        }
        for item in due {
            if Task.isCancelled { return }
            do {
                try await post(path: "/results", body: Array(item.payload.utf8), idempotencyKey: item.executionID)
                try await store.delivered(item.id, at: Timestamp.now())
            } catch {
                let delay = min(60, 0.25 * Double(1 << min(item.attempts, 16)))
                logger.debug("delivery of \(item.executionID ?? "?") failed (attempt \(item.attempts + 1)): \(error); retry in \(delay) s")
                try? await store.deliveryFailed(item.id, nextAttemptAt: Timestamp.now() + delay, error: "\(error)")
            }
        }
    }

    func heartbeat() async {
        let s = await pool.stats()
        let pending = (try? await store.pendingOutboxCount()) ?? -1
        let body = JSONValue.object([
            "type": "heartbeat", "at": .string(Timestamp.iso(Timestamp.now())), "version": .string(StockadeDaemon.version),
            "workers": .int(Int64(s.total)), "busy": .int(Int64(s.busy)), "served": .int(Int64(s.served)),
            "queue_depth": .int(Int64(s.queueDepth)), "outbox_pending": .int(Int64(pending)),
        ])
        do {
            try await post(path: "/heartbeat", body: JSONWriter.encode(body), idempotencyKey: nil)
        } catch {
            logger.debug("heartbeat failed: \(error)")
        }
    }

    struct Refused: Error, CustomStringConvertible {
        var status: Int
        var description: String { "the control plane answered HTTP \(status)" }
    }

    private func post(path: String, body: [UInt8], idempotencyKey: String?) async throws {
        var request = HTTPClientRequest(url: url + path)
        request.method = .POST
        request.headers.add(name: "Content-Type", value: "application/json")
        if let token { request.headers.add(name: "Authorization", value: "Bearer \(token)") }
        if let idempotencyKey { request.headers.add(name: "Idempotency-Key", value: idempotencyKey) }
        request.body = .bytes(ByteBuffer(bytes: body))
        let response = try await client.execute(request, timeout: .seconds(10))
        _ = try await response.body.collect(upTo: 1 << 20)
        guard (200..<300).contains(Int(response.status.code)) else { throw Refused(status: Int(response.status.code)) }
    }
}
