/// The base root of every sandbox: a fresh tmpfs holding read-only system directories, a minimal
/// /etc made for the sandbox (no host secrets), a minimal /dev, a fresh /proc and a /tmp tmpfs.
public struct RootLayout: Sendable, Hashable {
    /// Host system directories bound read-only (their top-level links such as /bin -> usr/bin are
    /// recreated as the host has them).
    public var systemDirectories: [String] = ["/usr"]
    /// Top-level names that are links into /usr on merged-/usr hosts, or directories elsewhere.
    public var topLevelLinks: [String] = ["/bin", "/lib", "/lib64", "/sbin", "/lib32", "/libx32"]
    /// Host files or directories under /etc bound read-only when they exist: only what dynamic
    /// loading and the interpreters need.
    public var etcFromHost: [String] = ["/etc/ld.so.cache", "/etc/alternatives"]
    /// Device nodes bound from the host's /dev.
    public var devices: [String] = ["null", "zero", "full", "random", "urandom"]
    /// Size of /tmp (and /dev/shm) in bytes.
    public var tmpSizeBytes: UInt64 = 64 << 20
    /// Remount / read-only once it is built.
    public var readOnlyRoot = true
    /// Mount a fresh /proc (needs a pid namespace).
    public var proc = true

    public init() {}

    /// The /etc files written for this sandbox.
    func etcFiles(identity: Identity, hostname: String) -> [Mount] {
        let uid = identity.insideUID, gid = identity.insideGID
        var passwd = "root:x:0:0:root:/root:/usr/sbin/nologin\n"
        var group = "root:x:0:\n"
        if uid != 0 { passwd += "user:x:\(uid):\(gid):sandbox user:/home/user:/bin/sh\n" }
        if gid != 0 { group += "user:x:\(gid):\n" }
        passwd += "nobody:x:65534:65534:nobody:/nonexistent:/usr/sbin/nologin\n"
        group += "nogroup:x:65534:\n"
        let hosts = "127.0.0.1 localhost \(hostname)\n::1 localhost ip6-localhost ip6-loopback\n"
        let nsswitch = "passwd: files\ngroup: files\nshadow: files\nhosts: files\n"
        return [
            .file(destination: "/etc/passwd", contents: Array(passwd.utf8), mode: 0o644),
            .file(destination: "/etc/group", contents: Array(group.utf8), mode: 0o644),
            .file(destination: "/etc/hosts", contents: Array(hosts.utf8), mode: 0o644),
            .file(destination: "/etc/hostname", contents: Array((hostname + "\n").utf8), mode: 0o644),
            .file(destination: "/etc/nsswitch.conf", contents: Array(nsswitch.utf8), mode: 0o644),
        ]
    }
}
