import Glibc

/// Monotonic time in milliseconds, as a Double.
public enum BenchClock {
    @inline(__always)
    public static func nowMs() -> Double {
        var ts = timespec()
        clock_gettime(CLOCK_MONOTONIC, &ts)
        return Double(ts.tv_sec) * 1000 + Double(ts.tv_nsec) / 1e6
    }

    /// Time one call of `body` in milliseconds.
    public static func measure(_ body: () async throws -> Void) async rethrows -> Double {
        let start = nowMs()
        try await body()
        return nowMs() - start
    }
}
