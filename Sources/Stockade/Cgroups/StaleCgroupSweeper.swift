import Glibc

/// Groups left behind by a Stockade process that was killed (SIGKILL, a crash) before it could
/// remove them: their sandboxes died with it (die-with-parent), the empty directories stay.
///
/// Every group Stockade makes is named `<prefix>-<pid>-<n>`, `pid` being the process that made it.
/// A group is removed only when all of these hold: that process no longer exists, the group has
/// no process, and it is older than `minimumAge` (a group that another Stockade process, in a pid
/// namespace we cannot see, is about to fill is never a minute old). The first group a process
/// creates sweeps once; `stockade serve` also sweeps at start.
public enum StaleCgroupSweeper {
    /// Sweep once per process (cheap afterwards).
    static let once: Int = sweep()

    /// Remove stale groups under this host's Stockade directories; returns how many were removed.
    @discardableResult
    public static func sweep(system: CgroupSystem = .host, minimumAge: Double = 60) -> Int {
        var parents: [String] = []
        switch system.mode {
        case .v1: parents = Array(Set(system.bases.values)).sorted()
        case .v2: if let base = system.bases[""] { parents = [base + "/stockade"] }
        case .none: return 0
        }
        var removed = 0
        for parent in parents {
            for name in subdirectories(of: parent) where isStale(parent + "/" + name, name: name, minimumAge: minimumAge) {
                if rmdir(parent + "/" + name) == 0 { removed += 1 }
            }
        }
        return removed
    }

    /// The pid a group's name carries, if it follows `<prefix>-<pid>-<n>`.
    static func creatorPID(_ name: String) -> Int32? {
        let parts = name.split(separator: "-", omittingEmptySubsequences: false)
        guard parts.count >= 3, UInt64(parts[parts.count - 1]) != nil, let pid = Int32(parts[parts.count - 2]), pid > 0 else { return nil }
        return pid
    }

    static func isStale(_ path: String, name: String, minimumAge: Double) -> Bool {
        guard let pid = creatorPID(name), pid != getpid() else { return false }
        // The creator is gone (EPERM would mean it exists).
        guard kill(pid, 0) != 0, errno == ESRCH else { return false }
        let procs = KernelFile.readIfPresent(path + "/cgroup.procs") ?? "x"
        guard procs.allSatisfy({ $0 == "\n" }) else { return false }
        var st = stat()
        guard stat(path, &st) == 0 else { return false }
        var now = timespec()
        clock_gettime(CLOCK_REALTIME, &now)
        return Double(now.tv_sec - st.st_mtim.tv_sec) >= minimumAge
    }

    static func subdirectories(of path: String) -> [String] {
        guard let dir = opendir(path) else { return [] }
        defer { closedir(dir) }
        var names: [String] = []
        while let entry = readdir(dir) {
            guard entry.pointee.d_type == UInt8(DT_DIR) else { continue }
            let name = withUnsafeBytes(of: entry.pointee.d_name) { raw in
                String(decoding: raw.prefix { $0 != 0 }, as: UTF8.self)
            }
            if name != "." && name != ".." { names.append(name) }
        }
        return names
    }
}
