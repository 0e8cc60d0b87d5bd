/// How a sandboxed process ended and what it used.
public struct ProcessOutcome: Sendable, Hashable {
    public enum Termination: Sendable, Hashable {
        case exited(Int32)
        case signaled(Int32)
    }

    public var termination: Termination
    /// From spawn to reaping.
    public var wallSeconds: Double
    public var userCPUSeconds: Double
    public var systemCPUSeconds: Double
    /// Peak resident set size of the process and its reaped descendants (ru_maxrss).
    public var peakRSSBytes: UInt64
    /// The host killed it at the wall-clock limit.
    public var wallTimeExceeded: Bool
    /// The kernel's OOM killer acted in its cgroup.
    public var oomKilled: Bool
    /// Peak memory of its cgroup, when it had one.
    public var cgroupPeakMemoryBytes: UInt64?

    public var cpuSeconds: Double { userCPUSeconds + systemCPUSeconds }

    /// The shell convention: the exit code, or 128 + signal.
    public var shellExitCode: Int32 {
        switch termination {
        case let .exited(code): return code
        case let .signaled(sig): return 128 + sig
        }
    }

    /// The result status of a code runner (see DESIGN.md, "Results of an execution").
    public var status: String {
        if wallTimeExceeded { return "timeout" }
        if oomKilled { return "memory_limit" }
        switch termination {
        case .exited(0): return "ok"
        case .exited: return "runtime_error"
        case .signaled(24): return "timeout" // SIGXCPU: only RLIMIT_CPU sends it
        case .signaled(9) where cpuLimitHit: return "timeout" // SIGKILL at the RLIMIT_CPU hard limit
        case .signaled: return "signaled"
        }
    }

    /// Set when RLIMIT_CPU was configured and the process used at least that much CPU.
    public var cpuLimitSeconds: Double?
    var cpuLimitHit: Bool {
        guard let limit = cpuLimitSeconds else { return false }
        return cpuSeconds >= limit - 0.05
    }
}
