import SystemPackage

/// Everything that can go wrong in the engine layer. Each case carries what a user needs to act:
/// the step, the errno, the path or limit involved, and `description` adds what to do.
public enum SandboxError: Error, Sendable, CustomStringConvertible, Equatable {
    /// The shim failed at `step` with `errno`; `detail` names the path or item involved.
    case spawn(step: SpawnStep, errno: Errno, detail: String?)
    /// The spec itself is wrong: what is wrong and what to do.
    case invalidSpec(String)
    /// A host-side system call failed.
    case system(operation: String, path: String?, errno: Errno)
    /// A feature was asked for that this host cannot provide.
    case unsupported(feature: String, reason: String)
    /// Compiling a seccomp policy failed.
    case seccomp(String)

    public var description: String {
        switch self {
        case let .spawn(step, errno, detail):
            var text = "sandbox spawn failed at step '\(step.name)'"
            if let detail, !detail.isEmpty { text += " (\(detail))" }
            text += ": \(errno.description) [errno \(errno.rawValue)]"
            if let hint = SandboxError.hint(step: step, errno: errno) { text += ". \(hint)" }
            return text
        case let .invalidSpec(message):
            return "invalid sandbox spec: \(message)"
        case let .system(operation, path, errno):
            let on = path.map { " on \($0)" } ?? ""
            return "\(operation)\(on) failed: \(errno.description) [errno \(errno.rawValue)]"
        case let .unsupported(feature, reason):
            return "\(feature) is not available on this host: \(reason)"
        case let .seccomp(message):
            return "seccomp policy: \(message)"
        }
    }

    /// Cause-specific advice for the common failures (in the spirit of bubblewrap's messages).
    static func hint(step: SpawnStep, errno: Errno) -> String? {
        switch (step, errno) {
        case (.clone, .notPermitted):
            return "The kernel refused to create namespaces: run as root, or allow user namespaces (sysctl user.max_user_namespaces > 0; inside a container its seccomp/AppArmor profile must allow clone with namespace flags)"
        case (.clone, .noSpace):
            return "A namespace limit was reached: raise /proc/sys/user/max_*_namespaces or wait for other sandboxes to exit"
        case (.clone, .resourceTemporarilyUnavailable):
            return "Too many processes for this user (RLIMIT_NPROC or pids cgroup of the caller)"
        case (.uidMap, _), (.gidMap, _):
            return "Writing the id map needs CAP_SETUID/CAP_SETGID over the parent user namespace: run as root"
        case (.mkdir, .overflow):
            return "The file owner is not mapped in the sandbox's user namespace (fsuid unmapped)"
        case (.bind, .noSuchFileOrDirectory), (.mkdir, .noSuchFileOrDirectory):
            return "The source path does not exist on the host: check the --bind/--ro-bind source"
        case (.bind, .permissionDenied), (.mkdir, .permissionDenied):
            return "The sandbox identity cannot traverse the path: directories on the way must be searchable (mode o+x) by the mapped host uid"
        case (.proc, .notPermitted):
            return "A fresh /proc needs a new pid namespace and a visible host /proc"
        case (.pivotRoot, _):
            return "pivot_root failed: the staging directory must be a directory on a normal filesystem (not a ramfs initramfs root)"
        case (.rlimit, .notPermitted):
            return "A limit can only be lowered here, never raised above the caller's own (no CAP_SYS_RESOURCE)"
        case (.cgroup, _):
            return "Could not join the cgroup: check that the cgroup directory still exists and is writable"
        case (.exec, .noSuchFileOrDirectory):
            return "The command was not found inside the sandbox: it must live under a mounted path such as /usr/bin (add --ro-bind for others)"
        case (.exec, .permissionDenied):
            return "The command is not executable inside the sandbox, or sits on a noexec mount"
        case (.chdir, _):
            return "The working directory must exist inside the sandbox (a mounted or created path)"
        case (.landlock, _):
            return "Landlock refused the ruleset: the kernel may lack Landlock or a ruleset path is missing inside; disable Landlock to run without it"
        case (.seccomp, .invalidArgument):
            return "The kernel rejected the seccomp program"
        case (.waitExec, _):
            return "The child did not reach exec in time and was killed"
        default:
            return nil
        }
    }
}
