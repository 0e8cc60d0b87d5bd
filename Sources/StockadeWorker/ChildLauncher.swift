import CStockade
import Glibc

/// Starts one request's process with the C shim: no new namespaces (the sandbox already has
/// them), its own session and process group, default signal dispositions, its rlimits, fds 0-5
/// in place and every other fd closed. Memory is malloc'd here and freed after the call.
struct ChildLauncher {
    var argv: [String]
    var env: [String]
    var cwd: String
    /// fds for 0, 1, 2 and then 3, 4, 5 in the child.
    var fds: [Int32]
    var rlimits: [(resource: Int32, soft: UInt64, hard: UInt64)]

    struct Failure: Error {
        var step: String
        var errno: Int32
        var detail: String
    }

    func launch() throws(Failure) -> Int32 {
        var allocations: [UnsafeMutableRawPointer] = []
        func cstr(_ s: String) -> UnsafeMutablePointer<CChar> {
            guard let p = strdup(s) else { WorkerLog.fatal("out of memory starting a request") }
            allocations.append(UnsafeMutableRawPointer(p))
            return p
        }
        defer { for a in allocations { free(a) } }
        func array(_ strings: [String]) -> UnsafeMutablePointer<UnsafeMutablePointer<CChar>?> {
            let p = UnsafeMutablePointer<UnsafeMutablePointer<CChar>?>.allocate(capacity: strings.count + 1)
            for (i, s) in strings.enumerated() { p[i] = cstr(s) }
            p[strings.count] = nil
            allocations.append(UnsafeMutableRawPointer(p))
            return p
        }
        var s = stk_spawn_spec()
        s.exec_fd = -1
        let paths = UnsafeMutablePointer<UnsafePointer<CChar>?>.allocate(capacity: 1)
        paths[0] = UnsafePointer(cstr(argv[0]))
        allocations.append(UnsafeMutableRawPointer(paths))
        s.exec_paths = UnsafePointer(paths)
        s.exec_path_count = 1
        s.argv = UnsafePointer(array(argv))
        s.envp = UnsafePointer(array(env))
        s.cwd = UnsafePointer(cstr(cwd))
        s.stdio = (fds[0], fds[1], fds[2])
        let extra = Array(fds.dropFirst(3).prefix(5))
        s.extra_fd_count = Int32(extra.count)
        var e: [Int32] = extra + [Int32](repeating: -1, count: 5 - extra.count)
        s.extra_fds = (e[0], e[1], e[2], e[3], e[4])
        e.removeAll()
        let rl = UnsafeMutablePointer<stk_rlimit>.allocate(capacity: max(rlimits.count, 1))
        allocations.append(UnsafeMutableRawPointer(rl))
        for (i, limit) in rlimits.enumerated() {
            rl[i] = stk_rlimit()
            rl[i].resource = limit.resource
            rl[i].soft = limit.soft
            rl[i].hard = limit.hard
        }
        s.rlimit_count = Int32(rlimits.count)
        s.rlimits = UnsafePointer(rl)
        s.new_session = 1
        s.no_new_privs = 1
        s.pdeathsig = SIGKILL
        s.close_fds = 1
        s.exec_timeout_ms = 10_000
        s.use_clone3 = 1
        s.net_ns_fd = -1
        s.restore_net_ns_fd = -1
        var r = stk_spawn_result()
        guard stk_spawn(&s, &r) == 0 else {
            let detail = withUnsafeBytes(of: r.detail) { String(decoding: $0.prefix { $0 != 0 }, as: UTF8.self) }
            throw Failure(step: String(cString: stk_step_name(r.step)), errno: r.err, detail: detail)
        }
        // Reaping goes through wait4(-1) on SIGCHLD: the pidfd is not needed.
        if r.pidfd >= 0 { close(r.pidfd) }
        return r.pid
    }
}

/// A sealed-enough in-memory file holding `bytes`, positioned at 0, for a child's fd.
func memoryFile(_ name: String, _ bytes: [UInt8]) -> Int32 {
    let fd = stk_memfd_create(name, STK_MFD_CLOEXEC)
    guard fd >= 0 else { return -1 }
    var off = 0
    while off < bytes.count {
        let n = bytes.withUnsafeBytes { write(fd, $0.baseAddress.map { $0 + off }, bytes.count - off) }
        if n < 0 { if errno == EINTR { continue }; close(fd); return -1 }
        off += n
    }
    lseek(fd, 0, SEEK_SET)
    return fd
}
