import Glibc

/// crun running an OCI bundle whose root is a read-only view of the host's /usr (the same root
/// Stockade builds), with the same namespaces, a uid mapping and no capabilities.
public final class CrunPeer: Sendable {
    public let path: String
    public let bundle: String
    public static let skipReason = "crun is not installed (apt-get install crun; scripts/bench installs it)"
    private let counter = Counter()

    /// crun refuses a hybrid cgroup layout (cgroup2 at /sys/fs/cgroup/unified with a controller
    /// of its own, as here): it then runs through nsenter into a mount namespace, held by this
    /// process, where that mount is gone and crun sees plain cgroup v1.
    public let namespaceHolder: HybridCgroupWorkaround?

    public init?() {
        guard let path = ExternalCommand.find("crun") else { return nil }
        self.path = path
        bundle = "/tmp/stockade-bench-crun-\(getpid())"
        guard Self.makeBundle(at: bundle) else { return nil }
        if HybridCgroupWorkaround.isNeeded {
            guard let holder = HybridCgroupWorkaround() else { return nil }
            namespaceHolder = holder
        } else {
            namespaceHolder = nil
        }
    }

    /// Why there is no crun peer here.
    public static var unavailableReason: String {
        if ExternalCommand.find("crun") == nil { return skipReason }
        return "crun refuses this machine's hybrid cgroup layout, and no mount namespace without /sys/fs/cgroup/unified could be made for it (unshare, nsenter)"
    }

    deinit {
        _ = ExternalCommand("/bin/rm", ["-rf", bundle]).output()
    }

    /// Run `argv` in a new container (created, started, waited, deleted by `crun run`).
    public func run(_ argv: [String]) throws {
        let id = "stockade-bench-\(getpid())-\(counter.next())"
        try writeConfig(argv)
        try wrapped([path, "run", "--bundle", bundle, id]).run()
    }

    /// `argv` as this peer runs it: through nsenter when the workaround is on.
    public func wrapped(_ argv: [String]) -> ExternalCommand {
        if let holder = namespaceHolder { return holder.command(argv) }
        return ExternalCommand(argv[0], Array(argv.dropFirst()))
    }

    private func writeConfig(_ argv: [String]) throws {
        let args = argv.map { "\"\($0)\"" }.joined(separator: ",")
        let config = """
        {"ociVersion":"1.0.2","process":{"terminal":false,"user":{"uid":1000,"gid":1000},"args":[\(args)],
         "env":["PATH=/usr/bin:/bin","HOME=/tmp"],"cwd":"/tmp","noNewPrivileges":true,
         "capabilities":{"bounding":[],"effective":[],"permitted":[],"ambient":[]}},
         "root":{"path":"rootfs","readonly":true},"hostname":"sandbox",
         "mounts":[{"destination":"/proc","type":"proc","source":"proc"},
                   {"destination":"/dev","type":"tmpfs","source":"tmpfs","options":["nosuid","strictatime","mode=755","size=65536k"]},
                   {"destination":"/tmp","type":"tmpfs","source":"tmpfs","options":["nosuid","nodev","mode=1777"]},
                   {"destination":"/usr","type":"bind","source":"/usr","options":["rbind","ro"]}],
         "linux":{"uidMappings":[{"containerID":1000,"hostID":999999,"size":1}],
                  "gidMappings":[{"containerID":1000,"hostID":999999,"size":1}],
                  "namespaces":[{"type":"pid"},{"type":"network"},{"type":"ipc"},{"type":"uts"},{"type":"mount"},{"type":"user"},{"type":"cgroup"}]}}
        """
        let file = bundle + "/config.json"
        let fd = open(file, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0o644)
        guard fd >= 0 else { throw ExternalCommand.Failure(description: "cannot write \(file)") }
        _ = config.withCString { write(fd, $0, strlen($0)) }
        close(fd)
    }

    private static func makeBundle(at dir: String) -> Bool {
        let root = dir + "/rootfs"
        guard mkdir(dir, 0o755) == 0 || errno == EEXIST, mkdir(root, 0o755) == 0 || errno == EEXIST else { return false }
        for d in ["usr", "proc", "dev", "tmp", "etc"] { mkdir(root + "/" + d, 0o755) }
        for name in ["bin", "lib", "lib64", "sbin"] {
            var buf = [CChar](repeating: 0, count: 256)
            let n = readlink("/" + name, &buf, 255)
            if n > 0 { symlink(String(decoding: buf[0..<n].map { UInt8(bitPattern: $0) }, as: UTF8.self), root + "/" + name) }
        }
        return true
    }
}
