/// Per-request limits. Absent values take the worker's defaults.
public struct ExecutionLimits: Sendable, Hashable {
    public var wallMs: Int64?
    public var cpuMs: Int64?
    public var memoryBytes: Int64?
    /// Cap on stdout + stderr together; more output stops the process (status output_limit).
    public var outputBytes: Int64?
    public var pids: Int64?

    public init(wallMs: Int64? = nil, cpuMs: Int64? = nil, memoryBytes: Int64? = nil, outputBytes: Int64? = nil, pids: Int64? = nil) {
        self.wallMs = wallMs
        self.cpuMs = cpuMs
        self.memoryBytes = memoryBytes
        self.outputBytes = outputBytes
        self.pids = pids
    }

    /// Bounds a request may ask for.
    public static let minimumMemoryBytes: Int64 = 8 << 20
    public static let maximumMemoryBytes: Int64 = 64 << 30
    public static let maximumWallMs: Int64 = 24 * 3_600_000
    public static let maximumOutputBytes: Int64 = 64 << 20
    public static let maximumPids: Int64 = 4096

    /// Parse `{"wall_ms", "cpu_ms", "memory_bytes", "output_bytes", "pids"}`; errors say which
    /// field is wrong and what is allowed.
    public init(json: JSONValue?) throws(RPCError) {
        guard let json, !json.isNull else { return }
        guard let object = json.objectValue else { throw .invalidParams("limits must be an object such as {\"wall_ms\": 2000}") }
        for key in object.keys where !["wall_ms", "cpu_ms", "memory_bytes", "output_bytes", "pids"].contains(key) {
            throw .invalidParams("unknown limit '\(key)': use wall_ms, cpu_ms, memory_bytes, output_bytes or pids")
        }
        func positive(_ key: String, min: Int64 = 1, max: Int64) throws(RPCError) -> Int64? {
            guard let v = object[key], !v.isNull else { return nil }
            guard let n = v.intValue else { throw .invalidParams("limits.\(key) must be an integer") }
            guard n >= min, n <= max else { throw .invalidParams("limits.\(key) must be between \(min) and \(max), got \(n)") }
            return n
        }
        wallMs = try positive("wall_ms", max: Self.maximumWallMs)
        cpuMs = try positive("cpu_ms", max: Self.maximumWallMs)
        memoryBytes = try positive("memory_bytes", min: Self.minimumMemoryBytes, max: Self.maximumMemoryBytes)
        outputBytes = try positive("output_bytes", max: Self.maximumOutputBytes)
        pids = try positive("pids", max: Self.maximumPids)
    }

    public var jsonValue: JSONValue {
        var o = JSONObject()
        if let wallMs { o["wall_ms"] = .int(wallMs) }
        if let cpuMs { o["cpu_ms"] = .int(cpuMs) }
        if let memoryBytes { o["memory_bytes"] = .int(memoryBytes) }
        if let outputBytes { o["output_bytes"] = .int(outputBytes) }
        if let pids { o["pids"] = .int(pids) }
        return .object(o)
    }
}
