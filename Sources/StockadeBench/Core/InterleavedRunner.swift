/// Runs the contenders of one benchmark interleaved, pair by pair (A B A B ...), with warm-up
/// rounds that are not counted, and computes ratios of every Stockade tool to every peer from the
/// pairs of the same round.
public struct InterleavedRunner: Sendable {
    public var warmup: Int
    public var iterations: Int
    public var progress: Progress

    public init(warmup: Int, iterations: Int, progress: Progress = Progress()) {
        self.warmup = warmup
        self.iterations = iterations
        self.progress = progress
    }

    /// Run `contenders` for the benchmark `name`.
    public func run(_ name: String, _ contenders: [Contender], host: [String: String] = [:]) async -> BenchReport {
        var report = BenchReport(host: host)
        var active = contenders.filter { c in
            if let reason = c.skipReason {
                report.skipped.append(.init(name: name, tool: c.tool, reason: reason))
                return false
            }
            return true
        }
        var samples: [String: [Double]] = [:]
        var failures: [String: Int] = [:]
        progress.start(name, total: (warmup + iterations) * active.count)
        for round in 0..<(warmup + iterations) {
            guard !active.isEmpty else { break }
            // Rotate the order each round so no tool always runs first (caches, frequency).
            let order = (0..<active.count).map { active[($0 + round) % active.count] }
            var failed: Set<String> = []
            for contender in order {
                do {
                    let start = BenchClock.nowMs()
                    let own = try await contender.run()
                    let ms = own ?? (BenchClock.nowMs() - start)
                    if round >= warmup { samples[contender.tool, default: []].append(ms) }
                } catch {
                    failures[contender.tool, default: 0] += 1
                    if failures[contender.tool, default: 0] >= 3 {
                        report.skipped.append(.init(name: name, tool: contender.tool, reason: "failed 3 times; last error: \(error)"))
                        failed.insert(contender.tool)
                    }
                }
                progress.step()
            }
            active.removeAll { failed.contains($0.tool) }
            if !failed.isEmpty { samples = samples.filter { !failed.contains($0.key) } }
        }
        progress.finish()
        // Rows in the order given, then ratios pairwise from aligned rounds.
        for c in contenders {
            guard let s = samples[c.tool], !s.isEmpty else { continue }
            let stats = Statistics(s)
            report.benchmarks.append(.init(name: name, tool: c.tool, stats: stats, raw: s))
            if stats.isNoisy {
                report.notes.append("\(name)/\(c.tool): noisy (p90 \(fmt(stats.p90)) ms is more than twice the median \(fmt(stats.median)) ms)")
            }
        }
        report.ratios = ratios(name: name, samples: samples, order: contenders.map(\.tool))
        return report
    }

    func ratios(name: String, samples: [String: [Double]], order: [String]) -> [BenchReport.Ratio] {
        var out: [BenchReport.Ratio] = []
        let ours = order.filter { $0.hasPrefix("stockade") && samples[$0] != nil }
        let peers = order.filter { !$0.hasPrefix("stockade") && samples[$0] != nil }
        for tool in ours {
            for peer in peers {
                guard let a = samples[tool], let b = samples[peer],
                      let r = pairedMedianRatio(stockade: a, peer: b) else { continue }
                out.append(.init(name: name, tool: tool, versus: peer, median_ratio: r))
            }
        }
        return out
    }
}

func fmt(_ v: Double, _ digits: Int = 3) -> String {
    if v.isNaN || v.isInfinite { return "-" }
    var scale = 1.0
    for _ in 0..<digits { scale *= 10 }
    let scaled = (v * scale).rounded()
    let whole = Int(scaled / scale)
    let frac = Int(abs(scaled).truncatingRemainder(dividingBy: scale))
    var fracText = String(frac)
    while fracText.count < digits { fracText = "0" + fracText }
    let sign = (v < 0 && whole == 0) ? "-" : ""
    return digits == 0 ? "\(sign)\(whole)" : "\(sign)\(whole).\(fracText)"
}
