/// One tool doing the job being measured, e.g. Stockade's API, `bwrap`, plain fork/exec.
public struct Contender: Sendable {
    /// The tool name in the shared format: stockade-api, stockade-cli, bwrap, crun, firejail,
    /// fork-exec, host, ...
    public var tool: String
    /// One iteration; the harness times it.
    public var run: @Sendable () async throws -> Void
    /// When set, the tool is not available here and is reported as skipped with this reason.
    public var skipReason: String?

    public init(tool: String, skipReason: String? = nil, run: @escaping @Sendable () async throws -> Void) {
        self.tool = tool
        self.skipReason = skipReason
        self.run = run
    }

    public static func skipped(_ tool: String, _ reason: String) -> Contender {
        Contender(tool: tool, skipReason: reason) {}
    }
}
