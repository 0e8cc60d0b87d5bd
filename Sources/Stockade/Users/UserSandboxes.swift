import Glibc

/// Settings of every user's sandbox: where the data lives, the host identity range, which host
/// environment variables reach sandboxes, and the per-worker cgroup limits.
public struct UserSandboxSettings: Sendable {
    public var dataDirectory: String
    public var identityRange: Range<UInt32> = IdentityAllocator.defaultRange
    /// Host variables (names or `PREFIX_*` patterns) passed into sandboxes; secret-looking names
    /// are refused unless listed in `explicitlyAllowedEnvironment` exactly.
    public var allowedEnvironment: String = ""
    public var explicitlyAllowedEnvironment: String = ""
    /// The cgroup limits of each user's worker (memory, processes, CPUs); nil: not limited.
    public var workerMemoryBytes: UInt64? = 1 << 30
    public var workerPids: UInt64? = 256
    public var workerCPUs: Double? = nil
    /// Size of the sandbox's /tmp.
    public var tmpSizeBytes: UInt64 = 256 << 20
    public var seccomp: SeccompPolicy? = .default
    public var landlock: LandlockPolicy? = .automatic

    public init(dataDirectory: String) {
        self.dataDirectory = dataDirectory
    }
}

/// Builds the sandbox of a user: their host identity (allocated once, stable), their directories
/// (created on first use, owned by that identity), a restricted environment and the cgroup limits.
/// `stockade run --user`, the worker pool and the daemon all go through here.
public final class UserSandboxes: Sendable {
    public let settings: UserSandboxSettings
    public let directories: UserDirectories
    public let identities: IdentityAllocator
    public let environment: RestrictedEnvironment

    public init(settings: UserSandboxSettings, hostEnvironment: RestrictedEnvironment.HostSource = .process) throws(UserDataError) {
        self.settings = settings
        directories = try UserDirectories(dataDirectory: settings.dataDirectory)
        try Self.checkTraversable(directories.dataDirectory)
        try directories.ensureBase()
        identities = try IdentityAllocator(dataDirectory: directories.dataDirectory, range: settings.identityRange)
        // A snapshot of the host's variables taken now, never re-read while sandboxes start.
        let host: RestrictedEnvironment.HostSource
        if case .process = hostEnvironment { host = .fixed(RestrictedEnvironment.processEnvironment()) } else { host = hostEnvironment }
        environment = try RestrictedEnvironment(allowList: settings.allowedEnvironment,
                                                explicitlyAllowed: settings.explicitlyAllowedEnvironment, host: host)
    }

    /// Sandboxes run as unprivileged uids: every directory above the data directory must let
    /// others pass (o+x), or no user's directory can be bound into their sandbox.
    static func checkTraversable(_ dataDirectory: String) throws(UserDataError) {
        var path = ""
        for component in dataDirectory.split(separator: "/").dropLast() {
            path += "/" + component
            var st = stat()
            guard stat(path, &st) == 0 else { return } // made later by ensureBase, with the right mode
            if st.st_mode & 0o001 == 0 {
                throw .invalidPath(dataDirectory, reason: "\(path) (mode \(String(st.st_mode & 0o7777, radix: 8))) does not let other users pass, so sandboxes, which run as unprivileged uids, cannot reach their directories: run `chmod o+x \(path)` or choose a data directory under a searchable path")
            }
        }
    }

    /// The sandbox spec of `user` running `arguments`: identity, directories mounted (work at
    /// /home/user, outputs at /outputs, uploads read-only at /uploads), environment, limits.
    public func sandboxSpec(for user: UserID, arguments: [String]) throws(UserDataError) -> SandboxSpec {
        let identity = try identities.identity(for: user)
        try directories.ensure(user: user, identity: identity)
        var spec = SandboxSpec(arguments: arguments, environment: try environment.build(user: user))
        spec.identity = identity
        spec.mounts = directories.mounts(for: user)
        spec.workingDirectory = UserDirectories.workInside
        spec.hostname = "sandbox"
        spec.root.tmpSizeBytes = settings.tmpSizeBytes
        spec.limits.memoryBytes = settings.workerMemoryBytes
        spec.limits.pids = settings.workerPids
        spec.limits.cpus = settings.workerCPUs
        spec.cgroupName = "user-" + user.rawValue
        spec.seccomp = settings.seccomp
        spec.landlock = settings.landlock
        return spec
    }

    /// The worker configuration of `user` (the pool's factory).
    public func workerConfiguration(for user: String) throws -> WorkerConfiguration {
        let id = try UserID(user)
        var config = WorkerConfiguration(sandbox: try sandboxSpec(for: id, arguments: ["stockade-worker"]))
        config.workDirectory = UserDirectories.workInside
        config.outputsDirectory = UserDirectories.outputsInside
        return config
    }
}
