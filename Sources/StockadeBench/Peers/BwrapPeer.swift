import Glibc
import Stockade

/// bubblewrap with a configuration comparable to Stockade's default sandbox: every namespace,
/// a uid mapping, read-only /usr and its links, /proc, a minimal /dev, a /tmp tmpfs, a clean
/// environment, no capabilities, and Stockade's own seccomp program (bwrap loads none by default).
public struct BwrapPeer: Sendable {
    public let path: String
    public let seccompFile: String?

    /// nil when bwrap is not installed.
    public init?() {
        guard let path = ExternalCommand.find("bwrap") else { return nil }
        self.path = path
        // Our compiled default policy, handed to bwrap through --seccomp FD.
        if let program = try? SeccompCompiler.program(for: .default) {
            let file = "/tmp/stockade-bench-seccomp-\(getpid()).bpf"
            let fd = open(file, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0o600)
            if fd >= 0 {
                _ = program.bytes.withUnsafeBytes { write(fd, $0.baseAddress, $0.count) }
                close(fd)
                seccompFile = file
            } else {
                seccompFile = nil
            }
        } else {
            seccompFile = nil
        }
    }

    public static let skipReason = "bwrap is not installed (apt-get install bubblewrap; scripts/bench installs it)"

    public var version: String {
        ExternalCommand(path, ["--version"]).output()?.trimmingCharacters() ?? "unknown"
    }

    /// The command that runs `argv` in a fresh bwrap sandbox.
    public func command(_ argv: [String], binds: [(String, String, Bool)] = []) -> ExternalCommand {
        var args = ["--unshare-all", "--die-with-parent", "--new-session", "--uid", "1000", "--gid", "1000",
                    "--hostname", "sandbox", "--ro-bind", "/usr", "/usr"]
        for name in ["bin", "lib", "lib64", "sbin"] {
            var buf = [CChar](repeating: 0, count: 256)
            let n = readlink("/" + name, &buf, 255)
            if n > 0 {
                args += ["--symlink", String(decoding: buf[0..<n].map { UInt8(bitPattern: $0) }, as: UTF8.self), "/" + name]
            } else if access("/" + name, F_OK) == 0 {
                args += ["--ro-bind", "/" + name, "/" + name]
            }
        }
        for etc in ["/etc/ld.so.cache", "/etc/alternatives"] where access(etc, F_OK) == 0 {
            args += ["--ro-bind", etc, etc]
        }
        args += ["--proc", "/proc", "--dev", "/dev", "--tmpfs", "/tmp", "--chdir", "/tmp",
                 "--clearenv", "--setenv", "PATH", "/usr/bin:/bin", "--setenv", "HOME", "/tmp", "--cap-drop", "ALL"]
        for (src, dst, ro) in binds { args += [ro ? "--ro-bind" : "--bind", src, dst] }
        var extra: [String] = []
        if let seccompFile {
            args += ["--seccomp", "3"]
            extra.append(seccompFile)
        }
        return ExternalCommand(path, args + ["--"] + argv, extraFiles: extra)
    }
}

extension String {
    func trimmingCharacters() -> String {
        var s = Substring(self)
        while let f = s.first, f == " " || f == "\n" || f == "\t" { s.removeFirst() }
        while let l = s.last, l == " " || l == "\n" || l == "\t" { s.removeLast() }
        return String(s)
    }
}
