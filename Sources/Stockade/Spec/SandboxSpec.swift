/// Everything that describes one sandboxed process. A plain value: build it, then hand it to
/// `Sandbox.spawn`.
public struct SandboxSpec: Sendable {
    /// argv. `arguments[0]` is the program: an absolute path inside the sandbox, or a name looked up
    /// in `searchPath` inside the sandbox. Ignored for lookup when `executable` is an image.
    public var arguments: [String]
    /// What to execute: the program named by `arguments[0]`, or an in-memory image by fd.
    public var executable: Executable = .lookup
    /// The complete environment of the process. Nothing is inherited.
    public var environment: [String: String]
    /// Directories searched for a bare program name, inside the sandbox.
    public var searchPath: [String] = ["/usr/local/bin", "/usr/bin", "/bin", "/usr/sbin", "/sbin"]
    public var workingDirectory: String = "/tmp"
    /// The base root: a fresh tmpfs with /usr, /etc, /dev, /proc and /tmp (see `RootLayout`).
    public var root: RootLayout = RootLayout()
    /// Extra mounts, applied in order after the base root.
    public var mounts: [Mount] = []
    public var limits = ResourceLimits()
    public var namespaces: Namespaces = .all
    public var identity: Identity = .anonymous
    public var hostname: String = "sandbox"
    /// The seccomp policy loaded last before exec; `nil` for none.
    public var seccomp: SeccompPolicy? = .default
    /// Landlock filesystem rules as a second layer (on where the kernel has Landlock); `nil` for none.
    public var landlock: LandlockPolicy? = .automatic
    /// Let code inside create user namespaces of its own. Off: the sandbox's user namespace gets a
    /// limit of 0 nested namespaces, a second layer under the seccomp rules that refuse them.
    public var allowNestedUserNamespaces = false
    public var stdin: Stdio = .null
    public var stdout: Stdio = .inherit
    public var stderr: Stdio = .inherit
    /// SIGKILL the sandbox if the spawning process dies.
    public var dieWithParent: Bool = true
    /// An existing cgroup to place the process in (for example a worker's). When `nil` and the
    /// limits need one, `Sandbox.spawn` makes a cgroup for this process and removes it after.
    public var cgroup: Cgroup? = nil
    /// Name of the cgroup a spawn makes for this sandbox (one path component); nil: "run-PID-N".
    public var cgroupName: String? = nil
    /// Bound on the time from clone to exec; a child stuck longer is killed and reported.
    public var execTimeoutMilliseconds: Int32 = 10_000

    public init(arguments: [String], environment: [String: String] = SandboxSpec.defaultEnvironment) {
        self.arguments = arguments
        self.environment = environment
    }

    /// A sane minimal environment: nothing of the caller's.
    public static let defaultEnvironment: [String: String] = [
        "PATH": "/usr/local/bin:/usr/bin:/bin",
        "HOME": "/tmp",
        "LANG": "C.UTF-8",
    ]
}

/// What to run.
public enum Executable: Sendable {
    /// Look `arguments[0]` up inside the sandbox.
    case lookup
    /// Execute an in-memory sealed image (see `ExecutableImage`) with execveat.
    case image(ExecutableImage)
}

/// Where a standard stream of the sandboxed process goes.
public enum Stdio: Sendable {
    /// The caller's own fd of the same number.
    case inherit
    /// /dev/null.
    case null
    /// A new pipe; the `SandboxProcess` exposes the other end.
    case pipe
    /// An fd the caller owns (it stays the caller's to close).
    case fd(Int32)
}
