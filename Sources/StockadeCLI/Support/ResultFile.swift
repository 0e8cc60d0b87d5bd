import FoundationEssentials
import Stockade

/// The --result JSON of `stockade run` (isolate's meta file, as JSON).
struct RunResult: Codable {
    var status: String
    var exit_code: Int32?
    var signal: Int32?
    var wall_ms: Double
    var cpu_ms: Double
    var user_cpu_ms: Double
    var system_cpu_ms: Double
    var peak_memory_bytes: UInt64
    var cgroup_peak_memory_bytes: UInt64?
    var wall_time_exceeded: Bool
    var oom_killed: Bool

    init(_ o: ProcessOutcome) {
        status = o.status
        switch o.termination {
        case let .exited(code): exit_code = code
        case let .signaled(sig): signal = sig
        }
        wall_ms = (o.wallSeconds * 1e6).rounded() / 1e3
        cpu_ms = (o.cpuSeconds * 1e6).rounded() / 1e3
        user_cpu_ms = (o.userCPUSeconds * 1e6).rounded() / 1e3
        system_cpu_ms = (o.systemCPUSeconds * 1e6).rounded() / 1e3
        peak_memory_bytes = o.peakRSSBytes
        cgroup_peak_memory_bytes = o.cgroupPeakMemoryBytes
        wall_time_exceeded = o.wallTimeExceeded
        oom_killed = o.oomKilled
    }
}

enum ResultFile {
    static func write(_ outcome: ProcessOutcome, to path: String) throws {
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.sortedKeys]
        var data = try encoder.encode(RunResult(outcome))
        data.append(0x0a)
        try data.write(to: URL(fileURLWithPath: path), options: .atomic)
    }
}

enum PolicyFile {
    static func load(_ path: String) throws -> SeccompPolicy {
        let data: Data
        do {
            data = try Data(contentsOf: URL(fileURLWithPath: path))
        } catch {
            throw CLIError.usage("cannot read seccomp policy \(path): \(error)")
        }
        do {
            let policy = try JSONDecoder().decode(SeccompPolicy.self, from: data)
            _ = try SeccompCompiler.program(for: policy)
            return policy
        } catch let error as SandboxError {
            throw CLIError.usage("seccomp policy \(path) does not compile: \(error)")
        } catch {
            throw CLIError.usage("seccomp policy \(path) is not valid JSON of the policy format (see `stockade seccomp explain --json`): \(error)")
        }
    }
}
