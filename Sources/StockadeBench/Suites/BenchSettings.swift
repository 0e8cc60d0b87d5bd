/// Settings shared by every `stockade bench` part.
public struct BenchSettings: Sendable {
    /// Quick mode checks the harness works (every part produces figures); few samples.
    public var quick: Bool
    /// The `stockade` executable (for the CLI contender and for starting the daemon).
    public var stockadeExecutable: String
    public var progress: Progress

    public init(quick: Bool, stockadeExecutable: String, progress: Progress = Progress()) {
        self.quick = quick
        self.stockadeExecutable = stockadeExecutable
        self.progress = progress
    }

    /// Samples per contender: `full` normally, a handful in quick mode.
    public func iterations(_ full: Int) -> Int { quick ? max(3, full / 50) : full }
    public func warmup(_ full: Int) -> Int { quick ? 1 : full }

    public func runner(warmup: Int, iterations: Int) -> InterleavedRunner {
        InterleavedRunner(warmup: self.warmup(warmup), iterations: self.iterations(iterations), progress: progress)
    }
}
