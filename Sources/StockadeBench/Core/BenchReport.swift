import FoundationEssentials

/// The machine-readable result of `stockade bench` (the shared `--json` format).
public struct BenchReport: Sendable, Codable {
    public struct Row: Sendable, Codable {
        public var name: String
        public var tool: String
        public var samples: Int
        public var median_ms: Double
        public var p90_ms: Double
        public var p99_ms: Double
        public var min_ms: Double
        public var max_ms: Double
        public var mean_ms: Double
        public var noisy: Bool
        /// Requests per second, on throughput rows.
        public var throughput_rps: Double?
        /// Concurrent clients, on throughput rows.
        public var concurrency: Int?
        /// Raw samples (kept for the report's distribution charts; omitted from JSON when large).
        public var raw_ms: [Double]?

        public init(name: String, tool: String, stats: Statistics, raw: [Double]? = nil,
                    throughput: Double? = nil, concurrency: Int? = nil) {
            self.name = name
            self.tool = tool
            samples = stats.count
            median_ms = stats.median
            p90_ms = stats.p90
            p99_ms = stats.p99
            min_ms = stats.min
            max_ms = stats.max
            mean_ms = stats.mean
            noisy = stats.isNoisy
            throughput_rps = throughput
            self.concurrency = concurrency
            raw_ms = raw
        }
    }

    public struct Ratio: Sendable, Codable {
        public var name: String
        public var tool: String
        public var versus: String
        /// Median of pair-by-pair peer/tool time: above 1 means `tool` is faster.
        public var median_ratio: Double
    }

    public struct Skip: Sendable, Codable {
        public var name: String
        public var tool: String
        public var reason: String
    }

    /// Memory figures (bytes), e.g. RSS of an idle worker.
    public struct Memory: Sendable, Codable {
        public var name: String
        public var workers: Int
        public var rss_bytes: UInt64
    }

    public var host: [String: String]
    public var benchmarks: [Row] = []
    public var ratios: [Ratio] = []
    public var skipped: [Skip] = []
    public var memory: [Memory] = []
    public var notes: [String] = []

    public init(host: [String: String]) { self.host = host }

    public mutating func merge(_ other: BenchReport) {
        benchmarks += other.benchmarks
        ratios += other.ratios
        skipped += other.skipped
        memory += other.memory
        notes += other.notes
    }

    /// JSON for `--json FILE`. Raw samples are dropped unless `includeRaw`.
    public func json(includeRaw: Bool = false) throws -> Data {
        var copy = self
        if !includeRaw { for i in copy.benchmarks.indices { copy.benchmarks[i].raw_ms = nil } }
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.prettyPrinted, .sortedKeys]
        return try encoder.encode(copy)
    }
}
