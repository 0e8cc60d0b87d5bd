import Glibc

/// The pool's limits and policy. Defaults follow the original requirements; every value can be
/// set from `STOCKADE_*` environment variables (see `init(environment:)`) and by the daemon's flags.
public struct PoolConfiguration: Sendable, Hashable {
    /// Most workers alive at once (one per user).
    public var maxWorkers = 10
    /// A worker idle this long is stopped.
    public var idleTimeoutSeconds: Double = 300
    /// The longest a request may run (caps its wall_ms).
    public var requestTimeoutSeconds: Double = 300
    /// A new worker must answer its first ping within this.
    public var startupTimeoutSeconds: Double = 30
    /// A request that finds no worker free waits at most this long, then fails with pool_exhausted.
    public var queueTimeoutSeconds: Double = 30
    /// Concurrent executions one worker (and so one user) runs; more wait in the queue.
    public var maxConcurrentPerWorker = 8
    public var maxConcurrentPerUser = 8
    /// How often the background loop reaps idle workers and checks health.
    public var maintenanceIntervalSeconds: Double = 1
    /// Crash-loop backoff: the n-th consecutive failed start waits base * 2^(n-1), at most max.
    public var crashBackoffBaseSeconds: Double = 0.5
    public var crashBackoffMaxSeconds: Double = 30
    /// A worker that dies within this many seconds of starting counts as a failed start.
    public var crashLoopWindowSeconds: Double = 10

    public init() {}

    /// The names of the environment variables, for --help and errors.
    public static let environmentNames: [(String, String)] = [
        ("STOCKADE_MAX_WORKERS", "most workers alive at once (default 10)"),
        ("STOCKADE_IDLE_TIMEOUT", "seconds before an idle worker is reaped (default 300)"),
        ("STOCKADE_REQUEST_TIMEOUT", "longest a request may run, seconds (default 300)"),
        ("STOCKADE_STARTUP_TIMEOUT", "seconds a new worker has to answer its first ping (default 30)"),
        ("STOCKADE_QUEUE_TIMEOUT", "seconds a request waits for a free worker (default 30)"),
        ("STOCKADE_MAX_CONCURRENT_PER_WORKER", "concurrent executions per worker (default 8)"),
        ("STOCKADE_MAX_CONCURRENT_PER_USER", "concurrent executions per user (default 8)"),
    ]

    public struct InvalidSetting: Error, CustomStringConvertible {
        public var description: String
    }

    /// Read overrides from `environment` on top of `base`. A malformed value is an error naming
    /// the variable, never silently ignored.
    public init(environment: [String: String], base: PoolConfiguration = PoolConfiguration()) throws {
        self = base
        func number(_ name: String, min: Double, max: Double) throws -> Double? {
            guard let text = environment[name] else { return nil }
            guard let v = Double(text), v >= min, v <= max else {
                throw InvalidSetting(description: "\(name)=\(text) is not a number between \(min) and \(max)")
            }
            return v
        }
        if let v = try number("STOCKADE_MAX_WORKERS", min: 1, max: 10_000) { maxWorkers = Int(v) }
        if let v = try number("STOCKADE_IDLE_TIMEOUT", min: 0.01, max: 86_400) { idleTimeoutSeconds = v }
        if let v = try number("STOCKADE_REQUEST_TIMEOUT", min: 0.01, max: 86_400) { requestTimeoutSeconds = v }
        if let v = try number("STOCKADE_STARTUP_TIMEOUT", min: 0.01, max: 3600) { startupTimeoutSeconds = v }
        if let v = try number("STOCKADE_QUEUE_TIMEOUT", min: 0, max: 3600) { queueTimeoutSeconds = v }
        if let v = try number("STOCKADE_MAX_CONCURRENT_PER_WORKER", min: 1, max: 1024) { maxConcurrentPerWorker = Int(v) }
        if let v = try number("STOCKADE_MAX_CONCURRENT_PER_USER", min: 1, max: 1024) { maxConcurrentPerUser = Int(v) }
    }

    /// The process's environment as a dictionary.
    public static func processEnvironment() -> [String: String] {
        var out: [String: String] = [:]
        var env = environ
        while let entry = env.pointee {
            let text = String(cString: entry)
            if let eq = text.firstIndex(of: "=") { out[String(text[..<eq])] = String(text[text.index(after: eq)...]) }
            env += 1
        }
        return out
    }
}
