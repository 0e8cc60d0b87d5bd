import Glibc

/// Runs an external program the way a user would: posix_spawn, stdio to /dev/null (or captured),
/// wait. Used for the peers (bwrap, crun, firejail, the stockade CLI, plain fork/exec).
public struct ExternalCommand: Sendable {
    public var path: String
    public var arguments: [String]
    /// Files opened as fds 3, 4, ... in the child (for bwrap --seccomp 3, say).
    public var extraFiles: [String] = []
    public var environment: [String]? = nil

    public init(_ path: String, _ arguments: [String], extraFiles: [String] = []) {
        self.path = path
        self.arguments = arguments
        self.extraFiles = extraFiles
    }

    public struct Failure: Error, CustomStringConvertible {
        public var description: String
    }

    /// Run to completion; throws unless it exits 0.
    public func run() throws {
        let status = try spawnAndWait(captureTo: nil)
        guard status == 0 else {
            throw Failure(description: "\(path) \(arguments.prefix(4).joined(separator: " ")) exited with status \(status)")
        }
    }

    /// Start it and return its pid without waiting (the caller reaps it).
    public func start() throws -> pid_t { try spawn(stdoutFD: nil) }

    /// Run and return its stdout, or nil on failure.
    public func output() -> String? {
        var fds: [Int32] = [-1, -1]
        guard pipe(&fds) == 0 else { return nil }
        let status: Int32
        var bytes: [UInt8] = []
        do {
            let pid = try spawn(stdoutFD: fds[1])
            close(fds[1])
            var buf = [UInt8](repeating: 0, count: 4096)
            while true {
                let n = buf.withUnsafeMutableBytes { read(fds[0], $0.baseAddress, $0.count) }
                if n <= 0 { break }
                bytes += buf[0..<n]
            }
            close(fds[0])
            status = waitFor(pid)
        } catch {
            close(fds[0]); close(fds[1])
            return nil
        }
        return status == 0 ? String(decoding: bytes, as: UTF8.self) : nil
    }

    func spawnAndWait(captureTo: Int32?) throws -> Int32 {
        let pid = try spawn(stdoutFD: captureTo)
        return waitFor(pid)
    }

    private func waitFor(_ pid: pid_t) -> Int32 {
        var status: Int32 = 0
        while waitpid(pid, &status, 0) < 0 && errno == EINTR {}
        if status & 0x7f == 0 { return (status >> 8) & 0xff }
        return 128 + (status & 0x7f)
    }

    private func spawn(stdoutFD: Int32?) throws -> pid_t {
        var actions = posix_spawn_file_actions_t()
        posix_spawn_file_actions_init(&actions)
        defer { posix_spawn_file_actions_destroy(&actions) }
        posix_spawn_file_actions_addopen(&actions, 0, "/dev/null", O_RDONLY, 0)
        if let stdoutFD {
            posix_spawn_file_actions_adddup2(&actions, stdoutFD, 1)
        } else {
            posix_spawn_file_actions_addopen(&actions, 1, "/dev/null", O_WRONLY, 0)
        }
        posix_spawn_file_actions_addopen(&actions, 2, "/dev/null", O_WRONLY, 0)
        for (i, file) in extraFiles.enumerated() {
            posix_spawn_file_actions_addopen(&actions, Int32(3 + i), file, O_RDONLY, 0)
        }
        let argv = [path] + arguments
        var cargs: [UnsafeMutablePointer<CChar>?] = argv.map { strdup($0) } + [nil]
        defer { cargs.forEach { free($0) } }
        let envStrings = environment ?? ["PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin"]
        var cenv: [UnsafeMutablePointer<CChar>?] = envStrings.map { strdup($0) } + [nil]
        defer { cenv.forEach { free($0) } }
        var pid: pid_t = 0
        let rc = posix_spawn(&pid, path, &actions, nil, &cargs, &cenv)
        guard rc == 0 else { throw Failure(description: "cannot start \(path): errno \(rc)") }
        return pid
    }

    /// The first executable named `name` on the standard PATH, or nil.
    public static func find(_ name: String) -> String? {
        for dir in ["/usr/local/sbin", "/usr/local/bin", "/usr/sbin", "/usr/bin", "/sbin", "/bin"] {
            let p = dir + "/" + name
            if access(p, X_OK) == 0 { return p }
        }
        return nil
    }
}
