import CStockade
import Glibc
import Stockade
import StockadeProtocol

/// An execute request as the HTTP API takes it:
/// `{"user_id", "language", "code", "handler"?, "event"?, "stdin"?, "env"?, "limits"?, "session_id"?,
///   "execution_id"?, "timeout"?}` — `timeout` (seconds) and `env_vars` are the original API's names
/// for `limits.wall_ms` and `env`.
struct ExecutionCall: Sendable {
    var user: String
    var sessionID: String?
    var executionID: String
    var params: ExecuteParams

    init(_ body: JSONObject, defaultTimeoutSeconds: Double) throws {
        guard let user = body["user_id"]?.stringValue else {
            throw APIError.badRequest("bad_user_id", "user_id is required: a string matching \(UserID.pattern)")
        }
        do { _ = try UserID(user) } catch { throw APIError.badRequest("bad_user_id", error.description) }
        self.user = user
        var object = body
        object["user_id"] = nil
        if let s = object["session_id"], !s.isNull {
            guard let text = s.stringValue, ExecuteParams.isValidExecutionID(text) else {
                throw APIError.unprocessable("invalid_request", "session_id must be 1-128 characters of letters, digits, '-', '_' or '.'")
            }
            sessionID = text
        }
        object["session_id"] = nil
        if object["env"] == nil, let legacy = object["env_vars"] { object["env"] = legacy }
        object["env_vars"] = nil
        // The original API's timeout (seconds) is the wall limit.
        if let t = object["timeout"], !t.isNull {
            guard let seconds = t.doubleValue, seconds > 0, seconds <= 86_400 else {
                throw APIError.unprocessable("invalid_limits", "timeout must be a number of seconds between 0 and 86400")
            }
            var limits = object["limits"]?.objectValue ?? JSONObject()
            if limits["wall_ms"] == nil { limits["wall_ms"] = .int(Int64(seconds * 1000)) }
            object["limits"] = .object(limits)
        }
        object["timeout"] = nil
        object["stream"] = nil
        if object["language"] == nil {
            throw APIError.unprocessable("invalid_request", "language is required: python, javascript or shell")
        }
        do {
            params = try ExecuteParams(json: .object(object))
        } catch {
            let code = error.message.contains("language") ? "unknown_language"
                : error.message.hasPrefix("limits") || error.message.contains("limit") ? "invalid_limits" : "invalid_request"
            throw APIError.unprocessable(code, error.message)
        }
        if params.limits.wallMs == nil { params.limits.wallMs = Int64(defaultTimeoutSeconds * 1000) }
        executionID = params.executionID ?? Self.newID()
        params.executionID = executionID
    }

    /// A random id: "ex_" and 24 hex digits from getrandom.
    static func newID() -> String {
        var bytes = [UInt8](repeating: 0, count: 12)
        _ = bytes.withUnsafeMutableBytes { stk_random_bytes($0.baseAddress, 12) }
        let hex = Array("0123456789abcdef".utf8)
        var out = Array("ex_".utf8)
        for b in bytes {
            out.append(hex[Int(b >> 4)])
            out.append(hex[Int(b & 15)])
        }
        return String(decoding: out, as: UTF8.self)
    }
}

/// Every execution of this daemon that is still running (sync, stream or async), for cancel.
actor RunningExecutions {
    private var running: [String: (user: String, mode: String)] = [:]

    func add(_ id: String, user: String, mode: String) { running[id] = (user, mode) }
    func remove(_ id: String) { running[id] = nil }
    func user(of id: String) -> String? { running[id]?.user }
    func count(mode: String) -> Int { running.values.filter { $0.mode == mode }.count }
}
