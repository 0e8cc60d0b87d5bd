import CStockade
import Glibc
import Synchronization

/// Everything one `stk_spawn` call needs, in C memory, prepared before clone. Owns the arena and
/// the fds it opened until the spawn is over.
final class PreparedSpawn: @unchecked Sendable {
    // @unchecked: used by one thread at a time (built by the caller, read by a spawn thread,
    // then handed back); the C pointers it holds are never shared.
    let arena = CArena()
    var cSpec = stk_spawn_spec()
    /// Child ends of pipes and other fds to close in the parent after the spawn.
    var childSideFDs: [Int32] = []
    /// Parent ends of the stdio pipes.
    var stdinWriter: Int32 = -1
    var stdoutReader: Int32 = -1
    var stderrReader: Int32 = -1
    var cgroupFDs: [Int32] = []
    /// The cached base root whose C memory `cSpec.mounts` points into: kept alive until the spawn is over.
    var baseRoot: BaseRoot?
    /// A network namespace from the pool, closed after the spawn (the child keeps it alive).
    var netNamespaceFD: Int32 = -1
    var cgroup: Cgroup?
    var ownsCgroup = false
    let image: ExecutableImage?

    init(_ spec: SandboxSpec) throws {
        guard let program = spec.arguments.first, !program.isEmpty else {
            throw SandboxError.invalidSpec("no command given: arguments[0] must name the program")
        }
        for (name, value) in spec.environment {
            guard !name.isEmpty, !name.utf8.contains(UInt8(ascii: "=")), !name.utf8.contains(0), !value.utf8.contains(0) else {
                throw SandboxError.invalidSpec("environment variable '\(name)' has an invalid name or a NUL byte")
            }
        }
        if spec.arguments.contains(where: { $0.utf8.contains(0) }) {
            throw SandboxError.invalidSpec("an argument contains a NUL byte")
        }
        let useUserNS = spec.namespaces.contains(.user)
        if !Runtime.isRoot && useUserNS {
            throw SandboxError.unsupported(feature: "sandboxes with mapped host identities",
                reason: "Stockade must run as root to map a sandbox to an unprivileged host uid (running as uid \(geteuid()))")
        }
        if spec.hostname.utf8.count > 64 || spec.hostname.isEmpty || spec.hostname.utf8.contains(0) {
            throw SandboxError.invalidSpec("hostname must be 1-64 bytes")
        }
        if !spec.namespaces.contains(.mount) {
            throw SandboxError.invalidSpec("a sandbox needs its own mount namespace to build its root")
        }
        image = { if case let .image(img) = spec.executable { return img } else { return nil } }()

        let staging = try Runtime.stagingDirectory()
        let base = try BaseRootCache.root(for: spec, staging: staging)
        baseRoot = base
        var plan = base.plan
        for mount in spec.mounts { try plan.add(mount) }
        let cwd = try PathCheck.inside(spec.workingDirectory, what: "working directory")

        var s = stk_spawn_spec()
        s.namespaces = spec.namespaces.rawValue
        s.inside_uid = spec.identity.insideUID
        s.inside_gid = spec.identity.insideGID
        s.host_uid = spec.identity.hostUID
        s.host_gid = spec.identity.hostGID
        s.set_identity = useUserNS ? 1 : 0
        if useUserNS && (spec.identity.hostUID == 0 || spec.identity.hostGID == 0) {
            throw SandboxError.invalidSpec("the sandbox's host uid/gid must not be 0 (root): pick an unprivileged id")
        }

        // Root and mounts: the cached base, then this spawn's own.
        s.new_root = UnsafePointer(arena.string(staging))
        s.new_root_options = UnsafePointer(arena.string("mode=0755,size=2m"))
        s.root_readonly = spec.root.readOnlyRoot ? 1 : 0
        var mounts = base.mounts
        for op in plan.operations[base.plan.operations.count...] {
            mounts.append(BaseRoot.cMount(op, staging: staging, arena: arena))
        }
        s.mount_count = Int32(mounts.count)
        s.mounts = UnsafePointer(arena.array(mounts))
        s.hostname = UnsafePointer(arena.string(spec.hostname))
        s.disable_nested_userns = (spec.allowNestedUserNamespaces || !spec.root.proc || !spec.namespaces.contains(.pid)) ? 0 : 1
        s.cwd = UnsafePointer(arena.string(cwd))

        // Program, arguments, environment.
        s.argv = UnsafePointer(arena.stringArray(spec.arguments))
        let env = spec.environment.keys.sorted().map { "\($0)=\(spec.environment[$0] ?? "")" }
        s.envp = UnsafePointer(arena.stringArray(env))
        if let image {
            s.exec_fd = image.fd
        } else {
            s.exec_fd = -1
            var candidates: [String]
            if program.contains("/") {
                candidates = [try PathCheck.inside(program, what: "program path")]
            } else {
                candidates = spec.searchPath.map { $0 + "/" + program }
            }
            candidates = candidates.filter { !$0.isEmpty }
            let paths: [UnsafePointer<CChar>?] = candidates.map { UnsafePointer(arena.string($0)) }
            s.exec_paths = UnsafePointer(arena.array(paths))
            s.exec_path_count = Int32(candidates.count)
        }

        // Limits.
        var rl: [stk_rlimit] = []
        func limit(_ resource: Int32, _ soft: UInt64, _ hard: UInt64) {
            var r = stk_rlimit()
            r.resource = resource
            r.soft = soft
            r.hard = hard
            rl.append(r)
        }
        let l = spec.limits
        if let v = l.cpuSeconds { limit(STK_RLIMIT_CPU, v, v + 1) }
        if let v = l.fileSizeBytes { limit(STK_RLIMIT_FSIZE, v, v) }
        if let v = l.openFiles { limit(STK_RLIMIT_NOFILE, v, v) }
        if let v = l.pids { limit(STK_RLIMIT_NPROC, v, v) }
        if let v = l.addressSpaceBytes { limit(STK_RLIMIT_AS, v, v) }
        if let v = l.coreBytes { limit(STK_RLIMIT_CORE, v, v) }
        s.rlimit_count = Int32(rl.count)
        s.rlimits = UnsafePointer(arena.array(rl))

        // Privileges.
        s.drop_caps = 1
        s.last_cap = Runtime.lastCapability
        s.no_new_privs = 1
        s.new_session = 1
        s.pdeathsig = spec.dieWithParent ? SIGKILL : 0
        s.close_fds = 1
        s.exec_timeout_ms = spec.execTimeoutMilliseconds
        s.use_clone3 = 1

        // Landlock.
        if let policy = spec.landlock, policy.mode != .off {
            if let abi = LandlockPolicy.kernelABI {
                var rules: [stk_landlock_rule] = []
                for rule in plan.landlockRules + policy.extraRules {
                    var r = stk_landlock_rule()
                    r.path = UnsafePointer(arena.string(rule.path))
                    r.access = LandlockPolicy.rights(rule.access, abi: abi, isDirectory: rule.isDirectory)
                    rules.append(r)
                }
                s.landlock_handled_fs = LandlockPolicy.handledRights(abi: abi)
                s.landlock_abi = Int32(abi)
                if abi >= 6 {
                    s.landlock_scoped = (policy.scopeAbstractSockets ? 1 : 0) | (policy.scopeSignals ? 2 : 0)
                }
                s.landlock_rule_count = Int32(rules.count)
                s.landlock_rules = UnsafePointer(arena.array(rules))
            } else if policy.mode == .required {
                throw SandboxError.unsupported(feature: "Landlock", reason: "the kernel has no Landlock (needs Linux 5.13+ with CONFIG_SECURITY_LANDLOCK and 'landlock' in the lsm= list)")
            }
        }

        // Seccomp, last.
        if let policy = spec.seccomp {
            let program = try SeccompCompiler.program(for: policy)
            s.seccomp_filter = program.pinned.pointer
            s.seccomp_filter_len = UInt32(program.instructionCount)
        }
        // Taken last, after every step that can throw, so it cannot leak.
        s.net_ns_fd = -1
        s.restore_net_ns_fd = -1
        if spec.namespaces.contains(.network), let fd = NetworkNamespacePool.shared.take() {
            netNamespaceFD = fd
            s.net_ns_fd = fd
            s.restore_net_ns_fd = NetworkNamespacePool.hostNamespace
        }
        cSpec = s

        // Cgroup.
        do {
            if let group = spec.cgroup {
                cgroup = group
            } else if spec.limits.needsCgroup {
                // Unique to this process: two Stockade processes never share a group.
                cgroup = try Cgroup.create(name: spec.cgroupName.map { "\($0)-\(getpid())-\(Self.counter.next())" } ?? Self.nextEphemeralName(),
                                           limits: CgroupLimits(memoryBytes: l.memoryBytes, pids: l.pids, cpus: l.cpus))
                ownsCgroup = true
            }
            if let cgroup {
                cgroupFDs = try cgroup.openProcsFiles()
                cSpec.cgroup_proc_fd_count = Int32(cgroupFDs.count)
                cSpec.cgroup_proc_fds = UnsafePointer(arena.array(cgroupFDs))
            }
            try setUpStdio(spec)
        } catch {
            release(success: false)
            throw error
        }
    }

    private func setUpStdio(_ spec: SandboxSpec) throws {
        func pipePair() throws -> (Int32, Int32) {
            var fds: [Int32] = [-1, -1]
            guard stk_pipe2(&fds, O_CLOEXEC) == 0 else { throw SandboxError.system(operation: "pipe2", path: nil, errno: .current) }
            return (fds[0], fds[1])
        }
        func devNull(_ flags: Int32) throws -> Int32 {
            let fd = open("/dev/null", flags | O_CLOEXEC)
            guard fd >= 0 else { throw SandboxError.system(operation: "open", path: "/dev/null", errno: .current) }
            return fd
        }
        var child: [Int32] = [-1, -1, -1]
        for (i, mode) in [spec.stdin, spec.stdout, spec.stderr].enumerated() {
            switch mode {
            case .inherit:
                child[i] = Int32(i)
            case .null:
                let fd = try devNull(i == 0 ? O_RDONLY : O_WRONLY)
                childSideFDs.append(fd)
                child[i] = fd
            case let .fd(fd):
                child[i] = fd
            case .pipe:
                let (r, w) = try pipePair()
                if i == 0 {
                    stdinWriter = w
                    child[i] = r
                    childSideFDs.append(r)
                } else {
                    if i == 1 { stdoutReader = r } else { stderrReader = r }
                    child[i] = w
                    childSideFDs.append(w)
                }
            }
        }
        cSpec.stdio = (child[0], child[1], child[2])
    }

    /// Close what the parent no longer needs; on failure also the parent ends and the cgroup.
    func release(success: Bool) {
        for fd in childSideFDs { close(fd) }
        childSideFDs = []
        for fd in cgroupFDs { close(fd) }
        cgroupFDs = []
        if netNamespaceFD >= 0 { close(netNamespaceFD) }
        netNamespaceFD = -1
        if !success {
            for fd in [stdinWriter, stdoutReader, stderrReader] where fd >= 0 { close(fd) }
            stdinWriter = -1
            stdoutReader = -1
            stderrReader = -1
            if ownsCgroup { cgroup?.destroy() }
        }
    }

    private static let counter = Atomic64()
    static func nextEphemeralName() -> String { "run-\(getpid())-\(counter.next())" }
}

/// A tiny atomic counter.
final class Atomic64: Sendable {
    private let value = Mutex<UInt64>(0)
    func next() -> UInt64 { value.withLock { $0 += 1; return $0 } }
}
