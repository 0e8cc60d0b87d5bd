import Glibc

/// A mount namespace without /sys/fs/cgroup/unified, for crun: crun refuses to run on a hybrid
/// cgroup layout ("cgroups in hybrid mode not supported"). A `sleep` started by `unshare` holds
/// the namespace (its only change: that mount is gone); commands enter it with nsenter, which
/// costs one more exec (the spawn bench measures `nsenter /bin/true` beside it). The holder is
/// killed, by pid, when this object goes.
public final class HybridCgroupWorkaround: Sendable {
    public let holderPID: pid_t
    let nsenter: String

    /// Whether crun would refuse this machine: cgroup2 at /sys/fs/cgroup/unified lists controllers.
    public static var isNeeded: Bool {
        let fd = open("/sys/fs/cgroup/unified/cgroup.controllers", O_RDONLY | O_CLOEXEC)
        guard fd >= 0 else { return false }
        defer { close(fd) }
        var buf = [UInt8](repeating: 0, count: 256)
        let n = read(fd, &buf, buf.count)
        return n > 0 && buf[0..<n].contains { $0 > 32 }
    }

    public init?() {
        guard let unshare = ExternalCommand.find("unshare"), let nsenter = ExternalCommand.find("nsenter") else { return nil }
        guard let pid = try? ExternalCommand(unshare, ["--mount", "--propagation", "private", "/bin/sh", "-c",
                                                       "umount /sys/fs/cgroup/unified && exec sleep infinity"]).start() else { return nil }
        holderPID = pid
        self.nsenter = nsenter
        // Ready once the shell has become `sleep` (after the umount).
        for _ in 0..<500 {
            if Self.command(of: pid) == "sleep" { return }
            var status: Int32 = 0
            if waitpid(pid, &status, WNOHANG) == pid { return nil }
            usleep(2000)
        }
        kill(pid, SIGKILL)
        var status: Int32 = 0
        waitpid(pid, &status, 0)
        return nil
    }

    deinit {
        kill(holderPID, SIGKILL)
        var status: Int32 = 0
        while waitpid(holderPID, &status, 0) < 0 && errno == EINTR {}
    }

    public func command(_ argv: [String]) -> ExternalCommand {
        ExternalCommand(nsenter, ["--mount=/proc/\(holderPID)/ns/mnt", "--"] + argv)
    }

    private static func command(of pid: pid_t) -> String? {
        let fd = open("/proc/\(pid)/comm", O_RDONLY | O_CLOEXEC)
        guard fd >= 0 else { return nil }
        defer { close(fd) }
        var buf = [UInt8](repeating: 0, count: 64)
        let n = read(fd, &buf, buf.count)
        guard n > 0 else { return nil }
        return String(decoding: buf[0..<n].filter { $0 != 10 }, as: UTF8.self)
    }
}
