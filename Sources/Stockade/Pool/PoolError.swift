import StockadeProtocol

/// Why the pool could not run a request (the user's code failing is a result, not an error).
public enum PoolError: Error, Sendable, CustomStringConvertible {
    /// Every worker is busy and none could be freed within the queue timeout.
    case poolExhausted(waitedSeconds: Double, retryAfterSeconds: Double)
    /// The pool is shutting down and takes no more requests.
    case shuttingDown
    /// The user's worker died while running the request.
    case workerCrashed(String)
    /// The user's worker could not be started.
    case workerStartFailed(String)
    /// The user's worker keeps failing to start: new starts are held back.
    case backoff(retryAfterSeconds: Double, lastError: String)
    /// The request itself is invalid (bad params).
    case invalidRequest(String)
    /// Another worker-side failure.
    case worker(WorkerError)

    public var code: String {
        switch self {
        case .poolExhausted: return "pool_exhausted"
        case .shuttingDown: return "shutting_down"
        case .workerCrashed: return "worker_crashed"
        case .workerStartFailed: return "worker_start_failed"
        case .backoff: return "worker_backoff"
        case .invalidRequest: return "invalid_request"
        case let .worker(e): return e.code
        }
    }

    /// Seconds a client should wait before retrying, where that makes sense.
    public var retryAfterSeconds: Double? {
        switch self {
        case let .poolExhausted(_, r): return r
        case let .backoff(r, _): return r
        default: return nil
        }
    }

    public var description: String {
        switch self {
        case let .poolExhausted(waited, retry):
            return "all workers are busy: waited \(Int(waited.rounded())) s for one to free up; retry in about \(Int(retry.rounded(.up))) s or raise max_workers"
        case .shuttingDown: return "the pool is shutting down and takes no new requests"
        case let .workerCrashed(m): return "the user's worker crashed while running the request (\(m)); retry: a new worker will be started"
        case let .workerStartFailed(m): return "the user's worker could not be started: \(m)"
        case let .backoff(retry, last): return "the user's worker keeps failing to start (last: \(last)); retry in \(Int(retry.rounded(.up))) s"
        case let .invalidRequest(m): return "invalid request: \(m)"
        case let .worker(e): return e.description
        }
    }

    static func from(_ error: WorkerError) -> PoolError {
        switch error {
        case let .crashed(exit): return .workerCrashed(exit)
        case let .rpc(e) where e.code == RPCError.Code.invalidParams: return .invalidRequest(e.message)
        default: return .worker(error)
        }
    }
}
