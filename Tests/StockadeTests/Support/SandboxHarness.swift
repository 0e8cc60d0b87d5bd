import Glibc
import Synchronization
import Testing
@testable import Stockade

/// Shared helpers for tests that start real sandboxes.
enum Harness {
    static var isRoot: Bool { geteuid() == 0 }
    static let rootReason: Comment = "needs root: sandboxes map to unprivileged host uids (run the suite as root)"

    struct Output {
        var outcome: ProcessOutcome
        var stdout: String
        var stderr: String
    }

    /// Run `spec` with stdout/stderr captured.
    static func run(_ spec: SandboxSpec) async throws -> Output {
        var spec = spec
        spec.stdout = .pipe
        spec.stderr = .pipe
        let process = try await Sandbox.spawn(spec)
        async let out = OutputCollector.collect(fd: process.stdout)
        async let err = OutputCollector.collect(fd: process.stderr)
        let outcome = await process.wait()
        return Output(outcome: outcome, stdout: String(decoding: await out.bytes, as: UTF8.self),
                      stderr: String(decoding: await err.bytes, as: UTF8.self))
    }

    /// Run a shell script in a default sandbox, after `configure` adjusted the spec.
    static func sh(_ script: String, _ configure: (inout SandboxSpec) -> Void = { _ in }) async throws -> Output {
        var spec = SandboxSpec(arguments: ["/bin/sh", "-c", script])
        spec.landlock = .automatic
        configure(&spec)
        return try await run(spec)
    }

    static func python(_ code: String, _ configure: (inout SandboxSpec) -> Void = { _ in }) async throws -> Output {
        var spec = SandboxSpec(arguments: ["/usr/bin/python3", "-c", code])
        spec.landlock = .automatic
        configure(&spec)
        return try await run(spec)
    }

    /// A fresh host directory for a test, removed by `cleanup`.
    static func temporaryDirectory(_ tag: String) -> String {
        var template = ContiguousArray("/tmp/stockade-test-\(tag)-XXXXXX".utf8CString)
        return template.withUnsafeMutableBufferPointer { buf in
            guard let base = buf.baseAddress, let p = mkdtemp(base) else { fatalError("mkdtemp failed") }
            return String(cString: p)
        }
    }

    static func removeTree(_ path: String) {
        guard path.hasPrefix("/tmp/stockade-test-") else { return }
        var spec = posix_spawn_file_actions_t()
        posix_spawn_file_actions_init(&spec)
        defer { posix_spawn_file_actions_destroy(&spec) }
        var pid: pid_t = 0
        let args = ["/bin/rm", "-rf", "--one-file-system", path]
        var cargs = args.map { strdup($0) } + [nil]
        defer { cargs.forEach { free($0) } }
        if posix_spawn(&pid, "/bin/rm", &spec, nil, &cargs, environ) == 0 {
            var status: Int32 = 0
            waitpid(pid, &status, 0)
        }
    }

    /// Number of open fds of this process, not counting pre-made network namespaces (a pool
    /// whose size moves with its refills).
    static func openFDCount() -> Int {
        ownFDs().filter { !$0.link.hasPrefix("net:") }.count
    }

    /// Where fd `fd` of process `pid` points ("pipe:[123]", "/path", ...).
    static func fdLink(pid: Int32, fd: Int32) -> String? {
        var buf = [CChar](repeating: 0, count: 512)
        let n = readlink("/proc/\(pid)/fd/\(fd)", &buf, 511)
        guard n > 0 else { return nil }
        return String(decoding: buf[0..<n].map { UInt8(bitPattern: $0) }, as: UTF8.self)
    }

    /// This process's fds: what each points at, and the pid of each pidfd.
    static func ownFDs() -> [(fd: Int32, link: String, pidfdPid: Int32?)] {
        guard let dir = opendir("/proc/self/fd") else { return [] }
        defer { closedir(dir) }
        var out: [(Int32, String, Int32?)] = []
        while let e = readdir(dir) {
            let name = withUnsafeBytes(of: e.pointee.d_name) { String(decoding: $0.prefix { $0 != 0 }, as: UTF8.self) }
            guard let fd = Int32(name), let link = fdLink(pid: getpid(), fd: fd) else { continue }
            var pid: Int32?
            if link.contains("pidfd"), let info = KernelFile.readIfPresent("/proc/self/fdinfo/\(fd)") {
                for line in info.split(separator: "\n") where line.hasPrefix("Pid:") {
                    pid = Int32(line.dropFirst(4).trimmed)
                }
            }
            out.append((fd, link, pid))
        }
        return out
    }

    /// Zombie children of this process.
    static func zombieChildren() -> [Int32] {
        guard let dir = opendir("/proc") else { return [] }
        defer { closedir(dir) }
        var out: [Int32] = []
        let me = getpid()
        while let entry = readdir(dir) {
            let name = withUnsafeBytes(of: entry.pointee.d_name) { String(decoding: $0.prefix { $0 != 0 }, as: UTF8.self) }
            guard let pid = Int32(name) else { continue }
            guard let stat = KernelFile.readIfPresent("/proc/\(pid)/stat"),
                  let close = stat.lastIndex(of: ")") else { continue }
            let fields = stat[stat.index(after: close)...].split(separator: " ")
            if fields.count > 2, fields[0] == "Z", Int32(fields[1]) == me { out.append(pid) }
        }
        return out
    }
}

extension StringProtocol {
    /// Without leading and trailing whitespace (Foundation-free).
    var trimmed: String {
        let chars = Array(self)
        let isSpace: (Character) -> Bool = { $0 == " " || $0 == "\t" || $0 == "\n" || $0 == "\r" }
        guard let first = chars.firstIndex(where: { !isSpace($0) }),
              let last = chars.lastIndex(where: { !isSpace($0) }) else { return "" }
        return String(chars[first...last])
    }
}

/// A lock-protected value shareable across tasks (Mutex itself is noncopyable).
final class Locked<Value: Sendable>: Sendable {
    private let mutex: Mutex<Value>
    init(_ value: Value) { mutex = Mutex(value) }
    func withLock<R: Sendable>(_ body: (inout Value) -> R) -> R { mutex.withLock { body(&$0) } }
    var value: Value { mutex.withLock { $0 } }
}
