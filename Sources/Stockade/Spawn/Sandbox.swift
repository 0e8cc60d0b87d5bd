import CStockade
import Glibc

/// Spawning sandboxed processes.
public enum Sandbox {
    /// Start `spec` in a fresh sandbox. Suspends (without blocking the caller's thread) while a
    /// spawn thread runs clone → exec; returns once the program was exec'd.
    public static func spawn(_ spec: SandboxSpec) async throws -> SandboxProcess {
        let prepared = try PreparedSpawn(spec)
        let result = await SpawnService.shared.run { Self.callShim(prepared) }
        return try finish(prepared, result, spec: spec, started: result.started)
    }

    /// The blocking variant, for command-line use and tests.
    public static func spawnBlocking(_ spec: SandboxSpec) throws -> SandboxProcess {
        let prepared = try PreparedSpawn(spec)
        let result = SpawnService.shared.runBlocking { Self.callShim(prepared) }
        return try finish(prepared, result, spec: spec, started: result.started)
    }

    struct ShimResult: Sendable {
        var ok: Bool
        var pid: Int32
        var pidfd: Int32
        var step: Int32
        var err: Int32
        var detail: String
        /// When the clone happened: a process's wall time counts from here, not from the queue.
        var started: ContinuousClock.Instant
    }

    private static func callShim(_ prepared: PreparedSpawn) -> ShimResult {
        let started = ContinuousClock.now
        var r = stk_spawn_result()
        let rc = withUnsafePointer(to: &prepared.cSpec) { stk_spawn($0, &r) }
        let detail = withUnsafeBytes(of: r.detail) { raw -> String in
            let bytes = raw.prefix { $0 != 0 }
            return String(decoding: bytes, as: UTF8.self)
        }
        return ShimResult(ok: rc == 0, pid: r.pid, pidfd: r.pidfd, step: r.step, err: r.err, detail: detail, started: started)
    }

    private static func finish(_ prepared: PreparedSpawn, _ r: ShimResult, spec: SandboxSpec,
                               started: ContinuousClock.Instant) throws -> SandboxProcess {
        prepared.release(success: r.ok)
        guard r.ok else {
            throw SandboxError.spawn(step: SpawnStep(rawValue: r.step), errno: Errno(rawValue: r.err),
                                     detail: r.detail.isEmpty ? nil : r.detail)
        }
        return SandboxProcess(pid: r.pid, pidfd: r.pidfd, stdin: prepared.stdinWriter,
                              stdout: prepared.stdoutReader, stderr: prepared.stderrReader,
                              cgroup: prepared.cgroup, ownsCgroup: prepared.ownsCgroup,
                              wallLimit: spec.limits.wallSeconds,
                              cpuLimit: spec.limits.cpuSeconds.map(Double.init), started: started,
                              image: prepared.image)
    }
}

extension Sandbox {
    /// Prepare for many spawns: start making network namespaces ahead of time. Daemons, pools
    /// and benchmarks call this once; a single spawn does not need it.
    public static func prime() {
        NetworkNamespacePool.shared.prime()
    }
}
