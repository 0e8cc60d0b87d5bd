/// Runs `concurrency` clients in a closed loop for `requests` requests in all and reports the
/// throughput and the latency of each request.
public enum ThroughputRunner {
    public struct Result: Sendable {
        public var latencies: [Double]
        public var seconds: Double
        public var failures: Int
        public var rps: Double { seconds > 0 ? Double(latencies.count) / seconds : 0 }
    }

    public static func run(concurrency: Int, requests: Int, _ body: @escaping @Sendable (_ client: Int, _ n: Int) async throws -> Void) async -> Result {
        let start = BenchClock.nowMs()
        let perClient = max(1, requests / concurrency)
        let results = await withTaskGroup(of: ([Double], Int).self) { group in
            for client in 0..<concurrency {
                group.addTask {
                    var lat: [Double] = []
                    var failures = 0
                    lat.reserveCapacity(perClient)
                    for n in 0..<perClient {
                        let t0 = BenchClock.nowMs()
                        do {
                            try await body(client, n)
                            lat.append(BenchClock.nowMs() - t0)
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
