import Glibc

/// Small file helpers for cgroupfs (and other kernel pseudo-files). Errors name the path.
enum KernelFile {
    static func read(_ path: String) throws -> String {
        let fd = open(path, O_RDONLY | O_CLOEXEC)
        guard fd >= 0 else { throw SandboxError.system(operation: "open", path: path, errno: .current) }
        defer { close(fd) }
        var out: [UInt8] = []
        var buf = [UInt8](repeating: 0, count: 4096)
        while true {
            let n = buf.withUnsafeMutableBytes { Glibc.read(fd, $0.baseAddress, $0.count) }
            if n < 0 {
                if errno == EINTR { continue }
                throw SandboxError.system(operation: "read", path: path, errno: .current)
            }
            if n == 0 { break }
            out.append(contentsOf: buf[0..<n])
        }
        return String(decoding: out, as: UTF8.self)
    }

    static func readIfPresent(_ path: String) -> String? { try? read(path) }

    static func write(_ path: String, _ text: String) throws {
        // O_CREAT is harmless on cgroupfs (its files exist or cannot be made) and lets tests use a plain tree.
        let fd = open(path, O_WRONLY | O_CLOEXEC | O_TRUNC | O_CREAT, 0o644)
        guard fd >= 0 else { throw SandboxError.system(operation: "open for writing", path: path, errno: .current) }
        defer { close(fd) }
        let bytes = Array(text.utf8)
        let n = bytes.withUnsafeBytes { Glibc.write(fd, $0.baseAddress, $0.count) }
        guard n == bytes.count else {
            throw SandboxError.system(operation: "write '\(text.trimmingTrailingNewline)'", path: path, errno: n < 0 ? .current : .ioError)
        }
    }

    static func exists(_ path: String) -> Bool { access(path, F_OK) == 0 }

    static func isDirectory(_ path: String) -> Bool {
        var st = stat()
        return stat(path, &st) == 0 && (st.st_mode & S_IFMT) == S_IFDIR
    }

    /// mkdir -p with `mode`; existing directories are fine.
    static func makeDirectories(_ path: String, mode: mode_t = 0o755) throws {
        var current = ""
        for component in path.split(separator: "/", omittingEmptySubsequences: true) {
            current += "/" + component
            if mkdir(current, mode) != 0 && errno != EEXIST {
                throw SandboxError.system(operation: "mkdir", path: current, errno: .current)
            }
        }
    }

    /// The `key value` lines of files such as memory.events or memory.oom_control.
    static func keyedValue(_ text: String, _ key: String) -> UInt64? {
        for line in text.split(separator: "\n") {
            let parts = line.split(separator: " ")
            if parts.count == 2, parts[0] == key { return UInt64(parts[1]) }
        }
        return nil
    }
}

extension String {
    var trimmingTrailingNewline: String {
        var s = self
        while s.hasSuffix("\n") { s.removeLast() }
        return s
    }
}
