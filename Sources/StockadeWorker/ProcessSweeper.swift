import Glibc

/// The worker is PID 1: every process of the sandbox is its descendant. A request runs in its own
/// session; when it ends, everything left of it is killed, including processes that double-forked
/// or escaped into a session of their own (only sessions of running requests are spared).
enum ProcessSweeper {
    /// (pid, session id) of every process but the worker itself.
    static func processes() -> [(pid: Int32, sid: Int32)] {
        guard let dir = opendir("/proc") else { return [] }
        defer { closedir(dir) }
        var out: [(Int32, Int32)] = []
        while let entry = readdir(dir) {
            let name = withUnsafeBytes(of: entry.pointee.d_name) { String(decoding: $0.prefix { $0 != 0 }, as: UTF8.self) }
            guard let pid = Int32(name), pid != 1 else { continue }
            guard let sid = sessionID(of: pid) else { continue }
            out.append((pid, sid))
        }
        return out
    }

    /// Field 6 of /proc/PID/stat, after the parenthesised command name.
    static func sessionID(of pid: Int32) -> Int32? {
        let fd = open("/proc/\(pid)/stat", O_RDONLY | O_CLOEXEC)
        guard fd >= 0 else { return nil }
        defer { close(fd) }
        var buf = [UInt8](repeating: 0, count: 512)
        let n = buf.withUnsafeMutableBytes { read(fd, $0.baseAddress, $0.count) }
        guard n > 0, let close = buf[0..<n].lastIndex(of: UInt8(ascii: ")")) else { return nil }
        let fields = buf[(close + 1)..<n].split(separator: UInt8(ascii: " "))
        // fields: state ppid pgrp session ...
        guard fields.count > 3 else { return nil }
        return Int32(String(decoding: fields[3], as: UTF8.self))
    }

    /// Kill every process whose session is not in `keep`. Returns how many were signalled.
    @discardableResult
    static func sweep(keepSessions keep: Set<Int32>) -> Int {
        // Only PID 1 of a sandbox's pid namespace may do this (main.swift checks at start, too).
        guard getpid() == 1 else { return 0 }
        var killed = 0
        for p in processes() where !keep.contains(p.sid) {
            if kill(p.pid, SIGKILL) == 0 { killed += 1 }
        }
        return killed
    }

    static func count() -> Int { processes().count }

    /// Tasks (threads included) of every process, the worker's too: what RLIMIT_NPROC counts, as
    /// every process of the sandbox runs as the same user.
    static func taskCount() -> Int {
        guard let dir = opendir("/proc") else { return 0 }
        defer { closedir(dir) }
        var total = 0
        while let entry = readdir(dir) {
            let name = withUnsafeBytes(of: entry.pointee.d_name) { String(decoding: $0.prefix { $0 != 0 }, as: UTF8.self) }
            guard Int32(name) != nil, let tasks = opendir("/proc/\(name)/task") else { continue }
            while let t = readdir(tasks) { if t.pointee.d_name.0 != UInt8(ascii: ".") { total += 1 } }
            closedir(tasks)
        }
        return total
    }
}
