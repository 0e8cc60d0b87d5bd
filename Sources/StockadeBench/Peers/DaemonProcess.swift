import Glibc

/// A `stockade serve` started by the harness, as a user would start it: its own data directory,
/// port 0, its log in a file. Stopped with SIGTERM (SIGKILL after 15 s); the data dir is removed.
public final class DaemonProcess: Sendable {
    public let pid: pid_t
    public let port: Int
    public let dataDirectory: String
    public let stockadePath: String

    public struct Failure: Error, CustomStringConvertible { public var description: String }

    public init(stockade: String, arguments: [String] = []) throws {
        var template = ContiguousArray("/tmp/stockade-bench-daemon-XXXXXX".utf8CString)
        guard let dir = template.withUnsafeMutableBufferPointer({ buf in buf.baseAddress.flatMap { mkdtemp($0) }.map { String(cString: $0) } }) else {
            throw Failure(description: "mkdtemp failed")
        }
        dataDirectory = dir
        stockadePath = stockade
        chmod(dir, 0o755) // sandboxes must be able to pass through to their directories
        let log = dir + "/daemon.log"
        var actions = posix_spawn_file_actions_t()
        posix_spawn_file_actions_init(&actions)
        defer { posix_spawn_file_actions_destroy(&actions) }
        posix_spawn_file_actions_addopen(&actions, 0, "/dev/null", O_RDONLY, 0)
        posix_spawn_file_actions_addopen(&actions, 1, log, O_WRONLY | O_CREAT | O_TRUNC, 0o600)
        posix_spawn_file_actions_adddup2(&actions, 1, 2)
        let argv = [stockade, "serve", "--port", "0", "--data-dir", dir + "/data", "--log-level", "notice"] + arguments
        var cargs: [UnsafeMutablePointer<CChar>?] = argv.map { strdup($0) } + [nil]
        defer { cargs.forEach { free($0) } }
        var cenv: [UnsafeMutablePointer<CChar>?] = [strdup("PATH=/usr/local/bin:/usr/bin:/bin"), nil]
        defer { cenv.forEach { free($0) } }
        var p: pid_t = 0
        guard posix_spawn(&p, stockade, &actions, nil, &cargs, &cenv) == 0 else {
            throw Failure(description: "cannot start \(stockade) serve")
        }
        pid = p
        // The daemon logs "listening on http://127.0.0.1:PORT" once it is up.
        var found: Int?
        for _ in 0..<600 {
            if let text = try? String(contentsOfFile: log), let r = text.firstRange(of: "listening on http://127.0.0.1:") {
                found = Int(text[r.upperBound...].prefix { $0.isNumber })
                if found != nil { break }
            }
            var status: Int32 = 0
            if waitpid(p, &status, WNOHANG) == p {
                throw Failure(description: "the daemon exited at start: \((try? String(contentsOfFile: log)) ?? "")")
            }
            usleep(50_000)
        }
        guard let found else {
            kill(p, SIGKILL)
            throw Failure(description: "the daemon did not start listening within 30 s")
        }
        port = found
    }

    /// SIGTERM, wait (SIGKILL after 15 s), remove the data directory.
    public func stop() {
        kill(pid, SIGTERM)
        var status: Int32 = 0
        for _ in 0..<300 {
            if waitpid(pid, &status, WNOHANG) == pid { break }
            usleep(50_000)
            if status == 0, kill(pid, 0) != 0 { break }
        }
        if kill(pid, 0) == 0 {
            kill(pid, SIGKILL)
            waitpid(pid, &status, 0)
        }
        _ = ExternalCommand("/bin/rm", ["-rf", "--one-file-system", dataDirectory]).output()
    }

    /// Proportional set size (bytes) of the daemon and every process below it.
    public func pssWithDescendants() -> UInt64 { Memory.pss(ofTreeAt: pid) }
}

extension String {
    init(contentsOfFile path: String) throws {
        let fd = open(path, O_RDONLY | O_CLOEXEC)
        guard fd >= 0 else { throw DaemonProcess.Failure(description: "cannot open \(path)") }
        defer { close(fd) }
        var out: [UInt8] = []
        var buf = [UInt8](repeating: 0, count: 8192)
        while true {
            let n = buf.withUnsafeMutableBytes { read(fd, $0.baseAddress, $0.count) }
            if n <= 0 { break }
            out += buf[0..<n]
        }
        self = String(decoding: out, as: UTF8.self)
    }
}

/// Memory of process trees, as proportional set size (shared pages split among sharers, so a sum
/// over processes does not count the same page twice).
public enum Memory {
    public static func pss(ofTreeAt root: pid_t) -> UInt64 {
        var children: [pid_t: [pid_t]] = [:]
        if let dir = opendir("/proc") {
            while let e = readdir(dir) {
                let name = withUnsafeBytes(of: e.pointee.d_name) { String(decoding: $0.prefix { $0 != 0 }, as: UTF8.self) }
                guard let pid = pid_t(name), let stat = try? String(contentsOfFile: "/proc/\(pid)/stat"),
                      let close = stat.lastIndex(of: ")") else { continue }
                let fields = stat[stat.index(after: close)...].split(separator: " ")
                if fields.count > 1, let ppid = pid_t(fields[1]) { children[ppid, default: []].append(pid) }
            }
            closedir(dir)
        }
        var total: UInt64 = 0
        var queue = [root]
        while let p = queue.popLast() {
            total += pss(of: p)
            queue += children[p] ?? []
        }
        return total
    }

    public static func pss(of pid: pid_t) -> UInt64 {
        guard let text = try? String(contentsOfFile: "/proc/\(pid)/smaps_rollup") else { return 0 }
        for line in text.split(separator: "\n") where line.hasPrefix("Pss:") {
            let kb = line.split(separator: " ").dropFirst().first.flatMap { UInt64($0) } ?? 0
            return kb * 1024
        }
        return 0
    }
}
