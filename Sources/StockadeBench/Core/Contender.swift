/// One tool doing the job being measured, e.g. Stockade's API, `bwrap`, plain fork/exec.
public struct Contender: Sendable {
    /// The tool name in the shared format: stockade-api, stockade-cli, bwrap, crun, firejail,
    /// fork-exec, host, ...
    public var tool: String
    /// One iteration; the harness times it, unless it returns its own time in ms (to leave out
    /// untimed setup or teardown, such as stopping a worker after its cold start was measured).
    public var run: @Sendable () async throws -> Double?
    /// When set, the tool is not available here and is reported as skipped with this reason.
    public var skipReason: String?

    public init(tool: String, skipReason: String? = nil, run: @escaping @Sendable () async throws -> Void) {
        self.tool = tool
        self.skipReason = skipReason
        self.run = { try await run(); return nil }
    }

    private init(tool: String, measuring: @escaping @Sendable () async throws -> Double?) {
        self.tool = tool
        self.skipReason = nil
        self.run = measuring
    }

    /// A contender that times itself and returns the milliseconds to count.
    public static func timed(_ tool: String, _ run: @escaping @Sendable () async throws -> Double) -> Contender {
        Contender(tool: tool, measuring: { try await run() })
    }

    public static func skipped(_ tool: String, _ reason: String) -> Contender {
        Contender(tool: tool, skipReason: reason) {}
    }
}
