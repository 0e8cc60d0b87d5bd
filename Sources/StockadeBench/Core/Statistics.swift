/// Summary statistics of a set of latency samples (milliseconds).
public struct Statistics: Sendable, Codable, Hashable {
    public var count: Int
    public var median: Double
    public var p90: Double
    public var p99: Double
    public var min: Double
    public var max: Double
    public var mean: Double

    public init(_ samples: [Double]) {
        let s = samples.sorted()
        count = s.count
        func q(_ p: Double) -> Double {
            guard !s.isEmpty else { return 0 }
            // Nearest-rank percentile.
            let rank = Int((p * Double(s.count)).rounded(.up))
            return s[Swift.min(Swift.max(rank - 1, 0), s.count - 1)]
        }
        median = s.isEmpty ? 0 : (s.count % 2 == 1 ? s[s.count / 2] : (s[s.count / 2 - 1] + s[s.count / 2]) / 2)
        p90 = q(0.90)
        p99 = q(0.99)
        min = s.first ?? 0
        max = s.last ?? 0
        mean = s.isEmpty ? 0 : s.reduce(0, +) / Double(s.count)
    }

    /// The spread is too wide to trust the figure: p90 more than twice the median.
    public var isNoisy: Bool { count >= 5 && median > 0 && p90 > 2 * median }
}

/// The median of pairwise ratios peer[i] / stockade[i]: above 1 means Stockade is faster.
public func pairedMedianRatio(stockade: [Double], peer: [Double]) -> Double? {
    let n = min(stockade.count, peer.count)
    guard n > 0 else { return nil }
    let ratios = (0..<n).compactMap { i -> Double? in stockade[i] > 0 ? peer[i] / stockade[i] : nil }
    return ratios.isEmpty ? nil : Statistics(ratios).median
}
