/// Latency figures of the pool (queue wait, worker start, execution): counts and percentiles over
/// the most recent samples (a bounded ring, so memory stays flat however long the pool runs).
public struct LatencyHistogram: Sendable, Hashable {
    public private(set) var count = 0
    public private(set) var sumMs: Double = 0
    private var ring: [Double] = []
    private var next = 0
    private let capacity: Int

    public init(capacity: Int = 4096) { self.capacity = capacity }

    public mutating func record(_ ms: Double) {
        count += 1
        sumMs += ms
        if ring.count < capacity { ring.append(ms) } else { ring[next] = ms }
        next = (next + 1) % capacity
    }

    public struct Summary: Sendable, Hashable {
        public var count: Int
        public var meanMs: Double
        public var p50Ms: Double
        public var p90Ms: Double
        public var p99Ms: Double
        public var maxMs: Double
    }

    public var summary: Summary {
        let s = ring.sorted()
        func q(_ p: Double) -> Double {
            guard !s.isEmpty else { return 0 }
            return s[min(s.count - 1, max(0, Int((p * Double(s.count)).rounded(.up)) - 1))]
        }
        return Summary(count: count, meanMs: count == 0 ? 0 : sumMs / Double(count), p50Ms: q(0.5),
                       p90Ms: q(0.9), p99Ms: q(0.99), maxMs: s.last ?? 0)
    }
}
