import CStockade
import Glibc

/// The ordered list of mount operations that builds a sandbox's root, checked against the host
/// before clone so the child only executes it.
struct MountPlan {
    struct Operation {
        var kind: UInt32
        var flags: UInt32 = 0
        var mode: UInt32 = 0
        var lockedFlags: UInt64 = 0
        var source: String?
        var destination: String
        var data: [UInt8]?
    }

    private(set) var operations: [Operation] = []
    /// Inside paths that exist as directories once the plan has run.
    private var directories: Set<String> = ["/"]
    /// Inside paths and how they are reachable, for Landlock rules.
    private(set) var landlockRules: [LandlockPolicy.Rule] = []

    /// Host facts about the top-level names, read once per process.
    private static let hostTopLevel: [String: TopLevel] = {
        var out: [String: TopLevel] = [:]
        for name in RootLayout().topLevelLinks {
            var st = stat()
            guard lstat(name, &st) == 0 else { continue }
            if (st.st_mode & S_IFMT) == S_IFLNK {
                var buf = [CChar](repeating: 0, count: 4096)
                let n = readlink(name, &buf, buf.count - 1)
                if n > 0 { out[name] = .link(String(decoding: buf[0..<n].map { UInt8(bitPattern: $0) }, as: UTF8.self)) }
            } else if (st.st_mode & S_IFMT) == S_IFDIR {
                out[name] = .directory
            }
        }
        return out
    }()

    private enum TopLevel { case link(String), directory }

    /// The base root only (system directories, /etc, /dev, /proc, /tmp); `add` the spec's mounts.
    init(base spec: SandboxSpec) throws {
        let root = spec.root
        for dir in root.systemDirectories {
            try add(.bind(source: dir, destination: dir, readOnly: true))
        }
        for name in root.topLevelLinks {
            switch MountPlan.hostTopLevel[name] {
            case let .link(target)?: try add(.symlink(target: target, destination: name))
            case .directory?: try add(.bind(source: name, destination: name, readOnly: true))
            case nil: break
            }
        }
        try add(.directory(destination: "/etc", mode: 0o755))
        for file in root.etcFiles(identity: spec.identity, hostname: spec.hostname) { try add(file) }
        for path in root.etcFromHost where access(path, F_OK) == 0 {
            try add(.bind(source: path, destination: path, readOnly: true))
        }
        try add(.directory(destination: "/dev", mode: 0o755))
        for device in root.devices {
            try addDevice("/dev/" + device)
        }
        for (name, target) in [("fd", "/proc/self/fd"), ("stdin", "/proc/self/fd/0"),
                               ("stdout", "/proc/self/fd/1"), ("stderr", "/proc/self/fd/2")] {
            try add(.symlink(target: target, destination: "/dev/" + name))
        }
        try add(.tmpfs(destination: "/dev/shm", sizeBytes: root.tmpSizeBytes, mode: 0o1777))
        if root.proc && spec.namespaces.contains(.pid) {
            operations.append(Operation(kind: UInt32(STK_MOUNT_PROC.rawValue), destination: "/proc"))
            directories.insert("/proc")
            landlockRules.append(.init(path: "/proc", access: .read))
        }
        try add(.tmpfs(destination: "/tmp", sizeBytes: root.tmpSizeBytes, mode: 0o1777))
        landlockRules.append(.init(path: "/", access: .listOnly))
    }

    private mutating func ensureParents(of destination: String) {
        for dir in PathCheck.ancestors(destination) where !directories.contains(dir) {
            operations.append(Operation(kind: UInt32(STK_MOUNT_MKDIR.rawValue), mode: 0o755, destination: dir))
            directories.insert(dir)
        }
    }

    private mutating func addDevice(_ path: String) throws {
        var st = stat()
        guard stat(path, &st) == 0 else {
            throw SandboxError.system(operation: "stat device", path: path, errno: .current)
        }
        let kind = st.st_mode & S_IFMT
        guard kind == S_IFCHR else { throw SandboxError.invalidSpec("\(path) on the host is not a character device") }
        ensureParents(of: path)
        let locked = Self.lockedFlags(of: path)
        var flags = UInt32(STK_MOUNT_F_DEVICE)
        // A device bind is writable and keeps dev: the remount would only add nosuid.
        if locked & UInt64(STK_MS_NOSUID) != 0 { flags |= UInt32(STK_MOUNT_F_NO_REMOUNT) }
        operations.append(Operation(kind: UInt32(STK_MOUNT_BIND.rawValue), flags: flags,
                                    lockedFlags: locked, source: path, destination: path))
        landlockRules.append(.init(path: path, access: .device, isDirectory: false))
    }

    mutating func add(_ mount: Mount) throws {
        let destination = try PathCheck.inside(mount.destination, what: "mount destination")
        guard destination != "/" else { throw SandboxError.invalidSpec("a mount cannot replace the sandbox root '/'") }
        ensureParents(of: destination)
        switch mount {
        case let .bind(source, _, readOnly):
            let src = try PathCheck.host(source, what: "bind source")
            var st = stat()
            guard stat(src, &st) == 0 else {
                // Checked before clone so the child never starts; reported as the step it would fail at.
                throw SandboxError.spawn(step: .bind, errno: .current, detail: src)
            }
            let isDir = (st.st_mode & S_IFMT) == S_IFDIR
            var flags = UInt32(STK_MOUNT_F_RECURSIVE)
            if isDir { flags |= UInt32(STK_MOUNT_F_DIR) }
            if readOnly { flags |= UInt32(STK_MOUNT_F_READONLY) }
            operations.append(Operation(kind: UInt32(STK_MOUNT_BIND.rawValue), flags: flags,
                                        lockedFlags: Self.lockedFlags(of: src), source: src, destination: destination))
            if isDir { directories.insert(destination) }
            landlockRules.append(.init(path: destination, access: readOnly ? .read : .readWrite, isDirectory: isDir))
        case let .tmpfs(_, size, mode):
            var options = "mode=" + String(mode, radix: 8)
            if size > 0 { options += ",size=\(size)" }
            operations.append(Operation(kind: UInt32(STK_MOUNT_TMPFS.rawValue), destination: destination, data: Array(options.utf8)))
            directories.insert(destination)
            landlockRules.append(.init(path: destination, access: .readWrite))
        case let .file(_, contents, mode):
            operations.append(Operation(kind: UInt32(STK_MOUNT_FILE.rawValue), mode: mode, destination: destination, data: contents))
            if PathCheck.ancestors(destination).count == 1 {
                // A file directly under a top-level directory made here: readable through its dir.
                let parent = PathCheck.ancestors(destination)[0]
                if !landlockRules.contains(where: { $0.path == parent }) {
                    landlockRules.append(.init(path: parent, access: .read))
                }
            }
        case let .symlink(target, _):
            guard !target.utf8.contains(0) else { throw SandboxError.invalidSpec("symlink target has a NUL byte") }
            operations.append(Operation(kind: UInt32(STK_MOUNT_SYMLINK.rawValue), source: target, destination: destination))
        case let .directory(_, mode):
            operations.append(Operation(kind: UInt32(STK_MOUNT_MKDIR.rawValue), mode: mode, destination: destination))
            directories.insert(destination)
        }
    }

    /// Mount flags of the filesystem holding `path` that a bind remount must keep (in a user
    /// namespace the kernel locks them).
    static func lockedFlags(of path: String) -> UInt64 {
        var sv = statvfs()
        guard statvfs(path, &sv) == 0 else { return 0 }
        let f = UInt64(sv.f_flag)
        var out: UInt64 = 0
        if f & 1 != 0 { out |= UInt64(STK_MS_RDONLY) }
        if f & 2 != 0 { out |= UInt64(STK_MS_NOSUID) }
        if f & 4 != 0 { out |= UInt64(STK_MS_NODEV) }
        if f & 8 != 0 { out |= UInt64(STK_MS_NOEXEC) }
        if f & 1024 != 0 { out |= UInt64(STK_MS_NOATIME) }
        if f & 2048 != 0 { out |= UInt64(STK_MS_NODIRATIME) }
        if f & 4096 != 0 { out |= UInt64(STK_MS_RELATIME) }
        return out
    }
}
