import Glibc
import Synchronization

/// Limits a cgroup enforces.
public struct CgroupLimits: Sendable, Hashable {
    public var memoryBytes: UInt64?
    public var pids: UInt64?
    public var cpus: Double?

    public init(memoryBytes: UInt64? = nil, pids: UInt64? = nil, cpus: Double? = nil) {
        self.memoryBytes = memoryBytes
        self.pids = pids
        self.cpus = cpus
    }

    public var isEmpty: Bool { memoryBytes == nil && pids == nil && cpus == nil }
}

/// One cgroup made by Stockade (per worker, or per `stockade run`), on cgroup v1 or v2.
/// `destroy()` kills what is left inside and removes it.
public final class Cgroup: Sendable {
    public let name: String
    public let system: CgroupSystem
    /// The directories of this group: one per controller on v1, one in all on v2.
    public let directories: [String]
    private let memoryDirectory: String?
    private let pidsDirectory: String?
    private let destroyed = Mutex(false)

    /// Make the group `name` with `limits`. Throws `.unsupported` when a limit needs a controller
    /// this host lacks, so no limit is ever silently dropped.
    public static func create(name: String, limits: CgroupLimits, system: CgroupSystem = .host) throws -> Cgroup {
        guard !name.isEmpty, !name.contains("/"), name != ".", name != ".." else {
            throw SandboxError.invalidSpec("cgroup name '\(name)' must be one path component")
        }
        if system == .host { _ = StaleCgroupSweeper.once }
        var needed: [String] = []
        if limits.memoryBytes != nil { needed.append("memory") }
        if limits.pids != nil { needed.append("pids") }
        if limits.cpus != nil { needed.append("cpu") }
        if system.mode == .none {
            throw SandboxError.unsupported(feature: "cgroup limits (\(needed.joined(separator: ", ")))",
                reason: (system.notes.first ?? "no usable cgroup hierarchy") + "; run without memory/pids/cpu limits or enable cgroups")
        }
        let missing = needed.filter { !system.controllers.contains($0) }
        if !missing.isEmpty {
            throw SandboxError.unsupported(feature: "cgroup controller(s) \(missing.joined(separator: ", "))",
                reason: "the \(system.mode.rawValue) hierarchy offers only \(system.controllers.sorted().joined(separator: ", "))")
        }
        switch system.mode {
        case .v1:
            // A group in every controller we have, so pids and memory are always accounted.
            var dirs: [String: String] = [:]
            for c in system.controllers.sorted() {
                guard let base = system.bases[c] else { continue }
                try KernelFile.makeDirectories(base)
                let dir = base + "/" + name
                // A new group: an existing one belongs to someone else and is never shared.
                if mkdir(dir, 0o755) != 0 {
                    let err = Errno.current
                    for made in dirs.values { rmdir(made) }
                    throw SandboxError.system(operation: err == .fileExists ? "create cgroup (the name is already in use)" : "create cgroup", path: dir, errno: err)
                }
                dirs[c] = dir
            }
            let group = Cgroup(name: name, system: system, directories: dirs.keys.sorted().compactMap { dirs[$0] },
                               memory: dirs["memory"], pids: dirs["pids"])
            do {
                if let mem = limits.memoryBytes, let dir = dirs["memory"] {
                    try KernelFile.write(dir + "/memory.limit_in_bytes", "\(mem)")
                    if KernelFile.exists(dir + "/memory.memsw.limit_in_bytes") {
                        try KernelFile.write(dir + "/memory.memsw.limit_in_bytes", "\(mem)")
                    }
                }
                if let pids = limits.pids, let dir = dirs["pids"] {
                    try KernelFile.write(dir + "/pids.max", "\(pids)")
                }
                if let cpus = limits.cpus, let dir = dirs["cpu"] {
                    try KernelFile.write(dir + "/cpu.cfs_period_us", "100000")
                    try KernelFile.write(dir + "/cpu.cfs_quota_us", "\(max(1000, Int(cpus * 100_000)))")
                }
            } catch {
                group.destroy()
                throw error
            }
            return group
        case .v2:
            guard let base = system.bases[""] else { throw SandboxError.unsupported(feature: "cgroup v2", reason: "no base directory") }
            let parent = try prepareV2Parent(base: base, controllers: system.controllers)
            let dir = parent + "/" + name
            if mkdir(dir, 0o755) != 0 {
                let err = Errno.current
                throw SandboxError.system(operation: err == .fileExists ? "create cgroup (the name is already in use)" : "create cgroup", path: dir, errno: err)
            }
            let group = Cgroup(name: name, system: system, directories: [dir], memory: dir, pids: dir)
            do {
                if let mem = limits.memoryBytes {
                    try KernelFile.write(dir + "/memory.max", "\(mem)")
                    if KernelFile.exists(dir + "/memory.swap.max") { try KernelFile.write(dir + "/memory.swap.max", "0") }
                }
                if let pids = limits.pids { try KernelFile.write(dir + "/pids.max", "\(pids)") }
                if let cpus = limits.cpus { try KernelFile.write(dir + "/cpu.max", "\(max(1000, Int(cpus * 100_000))) 100000") }
            } catch {
                group.destroy()
                throw error
            }
            return group
        case .none:
            throw SandboxError.unsupported(feature: "cgroups", reason: "no usable hierarchy")
        }
    }

    /// cgroup v2's "no internal processes" rule: controllers can be enabled for children only in
    /// a group without processes of its own. Move the daemon into a leaf `<base>/daemon`, enable
    /// the controllers in `<base>` and in `<base>/stockade`, and create sandboxes below the latter.
    static func prepareV2Parent(base: String, controllers: Set<String>) throws -> String {
        let enable = controllers.sorted().map { "+" + $0 }.joined(separator: " ")
        let sandboxes = base + "/stockade"
        let enabledAtBase = Set((KernelFile.readIfPresent(base + "/cgroup.subtree_control") ?? "")
            .split(whereSeparator: { $0 == " " || $0 == "\n" }).map(String.init))
        if !controllers.isSubset(of: enabledAtBase) {
            let procs = (KernelFile.readIfPresent(base + "/cgroup.procs") ?? "")
                .split(separator: "\n").map(String.init)
            if !procs.isEmpty {
                let leaf = base + "/daemon"
                if mkdir(leaf, 0o755) != 0 && errno != EEXIST {
                    throw SandboxError.system(operation: "create cgroup", path: leaf, errno: .current)
                }
                for pid in procs { try? KernelFile.write(leaf + "/cgroup.procs", pid) }
            }
            try KernelFile.write(base + "/cgroup.subtree_control", enable)
        }
        if mkdir(sandboxes, 0o755) != 0 && errno != EEXIST {
            throw SandboxError.system(operation: "create cgroup", path: sandboxes, errno: .current)
        }
        let enabledAtSandboxes = Set((KernelFile.readIfPresent(sandboxes + "/cgroup.subtree_control") ?? "")
            .split(whereSeparator: { $0 == " " || $0 == "\n" }).map(String.init))
        if !controllers.isSubset(of: enabledAtSandboxes) {
            try KernelFile.write(sandboxes + "/cgroup.subtree_control", enable)
        }
        return sandboxes
    }

    init(name: String, system: CgroupSystem, directories: [String], memory: String?, pids: String?) {
        self.name = name
        self.system = system
        self.directories = directories
        self.memoryDirectory = memory
        self.pidsDirectory = pids
    }

    /// Open each group's cgroup.procs for writing (O_CLOEXEC). The spawn writes the child's pid
    /// into them before letting it run. The caller closes them.
    public func openProcsFiles() throws -> [Int32] {
        var fds: [Int32] = []
        for dir in directories {
            let fd = open(dir + "/cgroup.procs", O_WRONLY | O_CLOEXEC)
            if fd < 0 {
                let err = Errno.current
                fds.forEach { close($0) }
                throw SandboxError.system(operation: "open", path: dir + "/cgroup.procs", errno: err)
            }
            fds.append(fd)
        }
        return fds
    }

    /// Pids in the group.
    public func processes() -> [Int32] {
        guard let dir = pidsDirectory ?? memoryDirectory ?? directories.first else { return [] }
        return (KernelFile.readIfPresent(dir + "/cgroup.procs") ?? "").split(separator: "\n").compactMap { Int32($0) }
    }

    /// How many times the kernel's OOM killer killed a process of this group.
    public func oomKills() -> UInt64 {
        guard let dir = memoryDirectory else { return 0 }
        switch system.mode {
        case .v1: return KernelFile.keyedValue(KernelFile.readIfPresent(dir + "/memory.oom_control") ?? "", "oom_kill") ?? 0
        case .v2: return KernelFile.keyedValue(KernelFile.readIfPresent(dir + "/memory.events") ?? "", "oom_kill") ?? 0
        case .none: return 0
        }
    }

    /// Peak memory of the group in bytes, when the kernel reports it.
    public func memoryPeak() -> UInt64? {
        guard let dir = memoryDirectory else { return nil }
        let file = system.mode == .v1 ? "/memory.max_usage_in_bytes" : "/memory.peak"
        return KernelFile.readIfPresent(dir + file).flatMap { UInt64($0.trimmingTrailingNewline) }
    }

    /// Memory in use now, in bytes.
    public func memoryCurrent() -> UInt64? {
        guard let dir = memoryDirectory else { return nil }
        let file = system.mode == .v1 ? "/memory.usage_in_bytes" : "/memory.current"
        return KernelFile.readIfPresent(dir + file).flatMap { UInt64($0.trimmingTrailingNewline) }
    }

    /// SIGKILL everything in the group.
    public func killAll() {
        if system.mode == .v2, let dir = directories.first, KernelFile.exists(dir + "/cgroup.kill") {
            try? KernelFile.write(dir + "/cgroup.kill", "1")
            return
        }
        for pid in processes() where pid > 0 { kill(pid, SIGKILL) }
    }

    /// Kill what is left and remove the group's directories. Idempotent.
    public func destroy() {
        let already = destroyed.withLock { done -> Bool in
            defer { done = true }
            return done
        }
        if already { return }
        for attempt in 0..<200 {
            killAll()
            var busy = false
            for dir in directories where KernelFile.exists(dir) {
                if rmdir(dir) != 0 && errno != ENOENT { busy = true }
            }
            if !busy { return }
            usleep(attempt < 20 ? 1000 : 10_000)
        }
    }

    deinit { destroy() }
}
