/// Limits of one sandbox. `nil` means "not limited by Stockade" (the caller's own limits apply).
public struct ResourceLimits: Sendable, Hashable {
    /// Memory (bytes), enforced by the sandbox's cgroup (needs cgroups).
    public var memoryBytes: UInt64?
    /// Processes/threads: RLIMIT_NPROC of the sandbox's host uid, and pids.max of its cgroup.
    public var pids: UInt64?
    /// CPU time (seconds): RLIMIT_CPU (SIGXCPU at the limit, SIGKILL a second later).
    public var cpuSeconds: UInt64?
    /// CPU share of the cgroup, in CPUs (1.5 = one and a half cores).
    public var cpus: Double?
    /// Wall clock (seconds, fractional allowed), enforced by the host: SIGKILL of the sandbox.
    public var wallSeconds: Double?
    /// Open files: RLIMIT_NOFILE.
    public var openFiles: UInt64?
    /// Largest file it may write (bytes): RLIMIT_FSIZE.
    public var fileSizeBytes: UInt64?
    /// Address space (bytes): RLIMIT_AS. Off by default: language runtimes reserve large maps.
    public var addressSpaceBytes: UInt64?
    /// Core dumps: RLIMIT_CORE, 0 by default.
    public var coreBytes: UInt64? = 0

    public init(memoryBytes: UInt64? = nil, pids: UInt64? = nil, cpuSeconds: UInt64? = nil,
                cpus: Double? = nil, wallSeconds: Double? = nil, openFiles: UInt64? = nil,
                fileSizeBytes: UInt64? = nil, addressSpaceBytes: UInt64? = nil) {
        self.memoryBytes = memoryBytes
        self.pids = pids
        self.cpuSeconds = cpuSeconds
        self.cpus = cpus
        self.wallSeconds = wallSeconds
        self.openFiles = openFiles
        self.fileSizeBytes = fileSizeBytes
        self.addressSpaceBytes = addressSpaceBytes
    }

    /// Whether any limit needs a cgroup.
    public var needsCgroup: Bool { memoryBytes != nil || pids != nil || cpus != nil }
}
