/// Offers requests at a fixed rate, whatever the answers take (an open loop), served by at most
/// `concurrency` clients at once. A request's latency counts from when it was due, not from when a
/// client got to it, so time spent waiting for a free client is in the figure (no coordinated
/// omission). Answers what a closed loop cannot: the latency at a given load below saturation.
public enum OpenLoopRunner {
    public struct Result: Sendable {
        public var latencies: [Double]
        public var seconds: Double
        public var failures: Int
        /// Requests answered per second.
        public var rps: Double { seconds > 0 ? Double(latencies.count) / seconds : 0 }
    }

    public static func run(rate: Double, concurrency: Int, requests: Int,
                           _ body: @escaping @Sendable (_ client: Int, _ n: Int) async throws -> Void) async -> Result {
        let start = BenchClock.nowMs() + 5
        let interval = 1000 / rate
        let next = Counter()
        let results = await withTaskGroup(of: ([Double], Int).self) { group in
            for client in 0..<concurrency {
                group.addTask {
                    var lat: [Double] = []
                    var failures = 0
                    while true {
                        let n = next.next() - 1
                        if n >= requests { break }
                        let due = start + Double(n) * interval
                        let wait = due - BenchClock.nowMs()
                        if wait > 0 { try? await Task.sleep(for: .microseconds(Int(wait * 1000))) }
                        do {
                            try await body(client, n)
                            lat.append(BenchClock.nowMs() - due)
                        } catch {
                            failures += 1
                        }
                    }
                    return (lat, failures)
                }
            }
            var all: [Double] = []
            var failures = 0
            for await (l, f) in group {
                all += l
                failures += f
            }
            return (all, failures)
        }
        return Result(latencies: results.0, seconds: (BenchClock.nowMs() - start) / 1000, failures: results.1)
    }
}
