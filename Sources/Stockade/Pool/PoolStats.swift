/// A snapshot of the pool.
public struct PoolStats: Sendable {
    public struct UserCounts: Sendable, Hashable {
        public var workers: Int
        public var running: Int
    }

    public var total: Int
    public var busy: Int
    public var idle: Int
    public var starting: Int
    public var perUser: [String: UserCounts]
    public var started: Int
    public var reaped: Int
    public var evicted: Int
    public var crashed: Int
    public var startFailures: Int
    public var served: Int
    /// Finished requests by result status, and failed ones by error code.
    public var byStatus: [String: Int]
    public var failed: [String: Int]
    public var queueDepth: Int
    public var queueWait: LatencyHistogram.Summary
    public var workerStart: LatencyHistogram.Summary
    public var execution: LatencyHistogram.Summary
    public var maxWorkers: Int
    public var accepting: Bool
}
