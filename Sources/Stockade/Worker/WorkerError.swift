import StockadeProtocol

/// Why a request to a worker failed (other than the user's code failing, which is a result).
public enum WorkerError: Error, Sendable, CustomStringConvertible {
    /// The worker process died; every request in flight fails with this. `exit` describes how.
    case crashed(exit: String)
    /// The worker broke the protocol (garbage, a giant line, an unknown id): it was stopped.
    case protocolViolation(String)
    /// The worker could not be started.
    case startFailed(String)
    /// The worker did not answer its first ping in time.
    case startupTimeout(seconds: Double)
    /// The worker answered with a JSON-RPC error (invalid params, overloaded, ...).
    case rpc(RPCError)
    /// The worker was stopped (or is stopping) and takes no more requests.
    case stopped
    /// The host's backstop fired: no answer long after the request's wall limit.
    case unresponsive(seconds: Double)

    /// A stable machine-readable code for APIs.
    public var code: String {
        switch self {
        case .crashed: return "worker_crashed"
        case .protocolViolation: return "worker_protocol_error"
        case .startFailed: return "worker_start_failed"
        case .startupTimeout: return "worker_startup_timeout"
        case let .rpc(e):
            switch e.code {
            case RPCError.Code.invalidParams: return "invalid_params"
            case RPCError.Code.overloaded: return "worker_overloaded"
            case RPCError.Code.executionNotFound: return "execution_not_found"
            case RPCError.Code.shuttingDown: return "worker_stopping"
            default: return "worker_rpc_error"
            }
        case .stopped: return "worker_stopped"
        case .unresponsive: return "worker_unresponsive"
        }
    }

    public var description: String {
        switch self {
        case let .crashed(exit): return "the worker crashed (\(exit)); the request was lost: retry it, a new worker will be started"
        case let .protocolViolation(m): return "the worker broke the protocol and was stopped: \(m)"
        case let .startFailed(m): return "the worker could not be started: \(m)"
        case let .startupTimeout(s): return "the worker did not answer its first ping within \(s) s; it was killed"
        case let .rpc(e): return "\(e.message) (JSON-RPC error \(e.code))"
        case .stopped: return "the worker is stopped and takes no more requests"
        case let .unresponsive(s): return "the worker did not answer within \(s) s of the request's wall limit; it was killed"
        }
    }
}
