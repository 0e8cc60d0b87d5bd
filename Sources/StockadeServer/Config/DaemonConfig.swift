import Stockade

/// Everything the daemon can be told. Defaults make `stockade serve` work with no setting at all
/// (loopback, ./data, SQLite); each value can be set by a `STOCKADE_*` environment variable and by a
/// flag of `stockade serve` (flag over variable over default).
public struct DaemonConfig: Sendable {
    public var host = "127.0.0.1"
    public var port = 8080
    public var dataDirectory = "data"
    /// Bearer token every request but /health must carry. Without one, only loopback is allowed.
    public var apiToken: String?
    public var pool = PoolConfiguration()
    /// Largest request body (JSON requests); bigger ones get 413.
    public var maxBodyBytes = 16 << 20
    /// Largest uploaded file.
    public var maxUploadBytes = 10 << 20
    public var allowedExtensions: Set<String> = ["txt", "md", "csv", "json", "xml", "pdf", "docx", "xlsx", "png",
                                                "jpg", "jpeg", "gif", "log", "html", "css"]
    /// Where finished asynchronous executions and heartbeats are sent.
    public var controlPlaneURL: String?
    public var heartbeatIntervalSeconds: Double = 30
    /// Host environment variables passed into sandboxes (names or PREFIX_* patterns).
    public var allowedEnvironment = ""
    /// Secret-looking names that may pass anyway, named exactly.
    public var allowedSecretEnvironment = ""
    /// Cgroup limits of each user's worker.
    public var workerMemoryBytes: UInt64? = 1 << 30
    public var workerPids: UInt64? = 256
    public var workerCPUs: Double?
    /// Wall limit of a request that gives none (the original API's default: 300 s).
    public var defaultTimeoutSeconds: Double = 300
    /// Files in outputs/ older than this are deleted (0: never), and temp/ files older than an hour.
    public var outputRetentionSeconds: Double = 7 * 86_400
    public var seccompPolicyPath: String?
    public var logLevel = "info"
    /// Warm runtimes: a Python zygote forks each request's process; spare Node processes wait for
    /// theirs. Either way every request gets a fresh process (see README, "Warm runtimes").
    public var warmPython = true
    public var warmJavaScript = true
    public var nodeSpares = 1

    public init() {}

    /// One setting: its variable, its flag, and what it does (for --help and README).
    public struct Setting: Sendable {
        public var variable: String
        public var flag: String
        public var help: String
    }

    public static let settings: [Setting] = [
        Setting(variable: "STOCKADE_HOST", flag: "--host", help: "address to listen on (default 127.0.0.1)"),
        Setting(variable: "STOCKADE_PORT", flag: "--port", help: "port (default 8080)"),
        Setting(variable: "STOCKADE_DATA_DIR", flag: "--data-dir", help: "users' directories, identities and the SQLite database (default ./data)"),
        Setting(variable: "STOCKADE_API_TOKEN", flag: "--api-token", help: "bearer token required on every request but /health (required to listen beyond loopback)"),
        Setting(variable: "STOCKADE_MAX_WORKERS", flag: "--max-workers", help: "most workers alive at once (default 10)"),
        Setting(variable: "STOCKADE_IDLE_TIMEOUT", flag: "--idle-timeout", help: "seconds before an idle worker is stopped (default 300)"),
        Setting(variable: "STOCKADE_REQUEST_TIMEOUT", flag: "--request-timeout", help: "longest a request may run, seconds (default 300)"),
        Setting(variable: "STOCKADE_STARTUP_TIMEOUT", flag: "--startup-timeout", help: "seconds a new worker has to answer (default 30)"),
        Setting(variable: "STOCKADE_QUEUE_TIMEOUT", flag: "--queue-timeout", help: "seconds a request waits for a free worker before 503 (default 30)"),
        Setting(variable: "STOCKADE_MAX_CONCURRENT_PER_USER", flag: "--max-concurrent-per-user", help: "concurrent executions per user (default 8)"),
        Setting(variable: "STOCKADE_MAX_BODY", flag: "--max-body", help: "largest JSON request body (default 16M)"),
        Setting(variable: "STOCKADE_MAX_UPLOAD", flag: "--max-upload", help: "largest uploaded file (default 10M)"),
        Setting(variable: "STOCKADE_ALLOWED_EXTENSIONS", flag: "--allowed-extensions", help: "comma-separated upload extensions"),
        Setting(variable: "STOCKADE_CONTROL_PLANE_URL", flag: "--control-plane-url", help: "where results of asynchronous executions and heartbeats are POSTed"),
        Setting(variable: "STOCKADE_HEARTBEAT_INTERVAL", flag: "--heartbeat-interval", help: "seconds between heartbeats (default 30)"),
        Setting(variable: "STOCKADE_ALLOWED_ENV", flag: "--allowed-env", help: "host variables passed into sandboxes (names or PREFIX_*)"),
        Setting(variable: "STOCKADE_ALLOWED_SECRET_ENV", flag: "--allowed-secret-env", help: "secret-looking host variables passed anyway, named exactly"),
        Setting(variable: "STOCKADE_WORKER_MEMORY", flag: "--worker-memory", help: "memory limit of each user's worker (default 1G; 0: none)"),
        Setting(variable: "STOCKADE_WORKER_PIDS", flag: "--worker-pids", help: "process limit of each user's worker (default 256; 0: none)"),
        Setting(variable: "STOCKADE_WORKER_CPUS", flag: "--worker-cpus", help: "CPU share of each user's worker (e.g. 1.5; default none)"),
        Setting(variable: "STOCKADE_DEFAULT_TIMEOUT", flag: "--default-timeout", help: "wall limit of a request that gives none, seconds (default 300)"),
        Setting(variable: "STOCKADE_OUTPUT_RETENTION", flag: "--output-retention", help: "seconds outputs are kept (default 604800; 0: forever)"),
        Setting(variable: "STOCKADE_SECCOMP_POLICY", flag: "--seccomp-policy", help: "JSON seccomp policy instead of the default"),
        Setting(variable: "STOCKADE_LOG_LEVEL", flag: "--log-level", help: "trace, debug, info, notice, warning, error (default info)"),
        Setting(variable: "STOCKADE_WARM_PYTHON", flag: "--warm-python", help: "fork Python requests from a warm zygote: true or false (default true)"),
        Setting(variable: "STOCKADE_WARM_JAVASCRIPT", flag: "--warm-javascript", help: "hand JavaScript requests a spare Node process started ahead: true or false (default true)"),
        Setting(variable: "STOCKADE_NODE_SPARES", flag: "--node-spares", help: "spare Node processes per worker, 1 to 8 (default 1)"),
    ]

    public struct Invalid: Error, CustomStringConvertible {
        public var description: String
    }

    /// Apply `values` (variable name → text): used for the environment and for flags alike.
    public mutating func apply(_ values: [String: String]) throws {
        func text(_ name: String) -> String? { values[name].flatMap { $0.isEmpty ? nil : $0 } }
        func number(_ name: String, _ min: Double, _ max: Double) throws -> Double? {
            guard let t = text(name) else { return nil }
            guard let v = Double(t), v >= min, v <= max else { throw Invalid(description: "\(name)=\(t) must be a number from \(min) to \(max)") }
            return v
        }
        func size(_ name: String) throws -> UInt64? {
            guard let t = text(name) else { return nil }
            guard let v = Self.parseSize(t) else { throw Invalid(description: "\(name)=\(t) is not a size such as 512M or 1G") }
            return v
        }
        if let v = text("STOCKADE_HOST") { host = v }
        if let v = try number("STOCKADE_PORT", 0, 65535) { port = Int(v) }
        if let v = text("STOCKADE_DATA_DIR") { dataDirectory = v }
        if let v = text("STOCKADE_API_TOKEN") { apiToken = v }
        pool = try PoolConfiguration(environment: values, base: pool)
        if let v = try size("STOCKADE_MAX_BODY") { maxBodyBytes = Int(v) }
        if let v = try size("STOCKADE_MAX_UPLOAD") { maxUploadBytes = Int(v) }
        if let v = text("STOCKADE_ALLOWED_EXTENSIONS") {
            allowedExtensions = Set(v.split(separator: ",").map { $0.lowercased().trimmingDots() }.filter { !$0.isEmpty })
        }
        if let v = text("STOCKADE_CONTROL_PLANE_URL") {
            guard v.hasPrefix("http://") || v.hasPrefix("https://") else {
                throw Invalid(description: "STOCKADE_CONTROL_PLANE_URL=\(v) must start with http:// or https://")
            }
            controlPlaneURL = v
        }
        if let v = try number("STOCKADE_HEARTBEAT_INTERVAL", 0.05, 86_400) { heartbeatIntervalSeconds = v }
        if let v = text("STOCKADE_ALLOWED_ENV") { allowedEnvironment = v }
        if let v = text("STOCKADE_ALLOWED_SECRET_ENV") { allowedSecretEnvironment = v }
        if let t = text("STOCKADE_WORKER_MEMORY") { workerMemoryBytes = t == "0" ? nil : try size("STOCKADE_WORKER_MEMORY") }
        if let v = try number("STOCKADE_WORKER_PIDS", 0, 1_000_000) { workerPids = v == 0 ? nil : UInt64(v) }
        if let v = try number("STOCKADE_WORKER_CPUS", 0, 1024) { workerCPUs = v == 0 ? nil : v }
        if let v = try number("STOCKADE_DEFAULT_TIMEOUT", 0.01, 86_400) { defaultTimeoutSeconds = v }
        if let v = try number("STOCKADE_OUTPUT_RETENTION", 0, 365 * 86_400) { outputRetentionSeconds = v }
        if let v = text("STOCKADE_SECCOMP_POLICY") { seccompPolicyPath = v }
        if let v = text("STOCKADE_LOG_LEVEL") { logLevel = v }
        func flag(_ name: String) throws -> Bool? {
            guard let t = text(name) else { return nil }
            switch t.lowercased() {
            case "1", "true", "yes", "on": return true
            case "0", "false", "no", "off": return false
            default: throw Invalid(description: "\(name)=\(t) must be true or false")
            }
        }
        if let v = try flag("STOCKADE_WARM_PYTHON") { warmPython = v }
        if let v = try flag("STOCKADE_WARM_JAVASCRIPT") { warmJavaScript = v }
        if let v = try number("STOCKADE_NODE_SPARES", 1, 8) { nodeSpares = Int(v) }
    }

    /// Whether `host` is a loopback address.
    public var listensOnLoopbackOnly: Bool {
        host == "127.0.0.1" || host == "::1" || host == "localhost" || host.hasPrefix("127.")
    }

    /// Refuse settings that would be unsafe or cannot work, with what to do.
    public func validate() throws {
        if apiToken == nil && !listensOnLoopbackOnly {
            throw Invalid(description: "refusing to listen on \(host) without an API token: set STOCKADE_API_TOKEN (or --api-token), or listen on 127.0.0.1")
        }
        if let token = apiToken, token.utf8.count < 16 {
            throw Invalid(description: "the API token is too short (\(token.utf8.count) characters): use at least 16 random characters")
        }
        if pool.requestTimeoutSeconds < defaultTimeoutSeconds {
            throw Invalid(description: "the default timeout (\(defaultTimeoutSeconds) s) exceeds the request timeout (\(pool.requestTimeoutSeconds) s)")
        }
    }

    static func parseSize(_ text: String) -> UInt64? {
        var digits = text.lowercased()
        var multiplier: UInt64 = 1
        for (suffix, m) in [("k", UInt64(1) << 10), ("m", 1 << 20), ("g", 1 << 30)] where digits.hasSuffix(suffix) {
            digits.removeLast()
            multiplier = m
        }
        if digits.hasSuffix("i") { digits.removeLast() }
        guard let n = UInt64(digits) else { return nil }
        return n * multiplier
    }
}

extension String {
    func trimmingDots() -> String {
        var s = Substring(self)
        while s.first == "." || s.first == " " { s.removeFirst() }
        while s.last == " " { s.removeLast() }
        return String(s)
    }
}
