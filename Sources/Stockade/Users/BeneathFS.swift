import CStockade
import Glibc

/// Raw file-system helpers for the per-user code: opening single names beneath a directory fd
/// without following symlinks, full reads and writes, and errors that name the path.
enum BeneathFS {
    /// O_PATH, which Swift's Glibc module does not export (from the shim).
    static let pathOnly: Int32 = STK_O_PATH

    /// RESOLVE_BENEATH | RESOLVE_NO_SYMLINKS | RESOLVE_NO_MAGICLINKS | RESOLVE_NO_XDEV.
    static let resolveFlags = STK_RESOLVE_BENEATH | STK_RESOLVE_NO_SYMLINKS | STK_RESOLVE_NO_MAGICLINKS | STK_RESOLVE_NO_XDEV

    /// Open `name` (one validated component) beneath `dirfd`. Uses openat2 so the kernel refuses
    /// symlinks, magic links, mount crossings and escapes; falls back to openat with O_NOFOLLOW
    /// when the kernel lacks openat2 (ENOSYS), which for a single component refuses the same.
    /// Returns the fd, or -1 with errno set.
    static func open(_ dirfd: Int32, _ name: String, _ flags: Int32, _ mode: mode_t = 0) -> Int32 {
        let all = flags | O_CLOEXEC | O_NOFOLLOW
        let fd = retrying { stk_openat2_beneath(dirfd, name, all, Int32(mode), resolveFlags) }
        if fd >= 0 || errno != ENOSYS { return fd }
        guard !name.utf8.contains(UInt8(ascii: "/")) else { errno = EINVAL; return -1 }
        return retrying { openat(dirfd, name, all, mode) }
    }

    /// `open`, throwing a `UserDataError` that names `path` (ELOOP/EXDEV: an escape was refused).
    static func openOrThrow(_ dirfd: Int32, _ name: String, _ flags: Int32, _ mode: mode_t = 0,
                            path: String, operation: String = "open") throws(UserDataError) -> Int32 {
        let fd = open(dirfd, name, flags, mode)
        guard fd >= 0 else { throw error(operation, path: path) }
        return fd
    }

    /// The `UserDataError` for the current errno.
    static func error(_ operation: String, path: String) -> UserDataError {
        let code = errno
        switch code {
        case ELOOP, EXDEV: return .escapesDirectory(path: path)
        case ENOENT: return .notFound(path: path)
        default: return .system(operation: operation, path: path, errno: Errno(rawValue: code))
        }
    }

    /// lstat of one name relative to `dirfd`; nil when it does not exist.
    static func lstatAt(_ dirfd: Int32, _ name: String, path: String) throws(UserDataError) -> stat? {
        var st = stat()
        if fstatat(dirfd, name, &st, AT_SYMLINK_NOFOLLOW) == 0 { return st }
        if errno == ENOENT { return nil }
        throw .system(operation: "stat", path: path, errno: .current)
    }

    static func fstatOrThrow(_ fd: Int32, path: String) throws(UserDataError) -> stat {
        var st = stat()
        guard fstat(fd, &st) == 0 else { throw .system(operation: "stat", path: path, errno: .current) }
        return st
    }

    /// Human name of a file type, for messages.
    static func kind(_ mode: mode_t) -> String {
        switch mode & S_IFMT {
        case S_IFREG: return "regular file"
        case S_IFDIR: return "directory"
        case S_IFLNK: return "symbolic link"
        case S_IFCHR: return "character device"
        case S_IFBLK: return "block device"
        case S_IFIFO: return "FIFO"
        case S_IFSOCK: return "socket"
        default: return "file of unknown type"
        }
    }

    /// Refuse anything but a regular file with a single link.
    static func requireSingleRegularFile(_ st: stat, path: String) throws(UserDataError) {
        guard (st.st_mode & S_IFMT) == S_IFREG else { throw .refusedFileType(path: path, kind: kind(st.st_mode)) }
        guard st.st_nlink <= 1 else { throw .refusedHardLink(path: path, links: UInt64(st.st_nlink)) }
    }

    static func writeAll(_ fd: Int32, _ bytes: [UInt8], path: String) throws(UserDataError) {
        var offset = 0
        while offset < bytes.count {
            let n = bytes.withUnsafeBytes { raw in
                Glibc.write(fd, raw.baseAddress.map { $0 + offset }, raw.count - offset)
            }
            if n < 0 {
                if errno == EINTR { continue }
                throw .system(operation: "write", path: path, errno: .current)
            }
            if n == 0 { throw .system(operation: "write", path: path, errno: .ioError) }
            offset += n
        }
    }

    /// Read at most `limit` bytes; more than that throws `fileTooLarge`.
    static func readAll(_ fd: Int32, limit: Int, path: String) throws(UserDataError) -> [UInt8] {
        var out: [UInt8] = []
        var buffer = [UInt8](repeating: 0, count: 64 << 10)
        while true {
            let n = buffer.withUnsafeMutableBytes { Glibc.read(fd, $0.baseAddress, $0.count) }
            if n < 0 {
                if errno == EINTR { continue }
                throw .system(operation: "read", path: path, errno: .current)
            }
            if n == 0 { return out }
            guard out.count + n <= limit else {
                var st = stat()
                let size = fstat(fd, &st) == 0 ? UInt64(max(Int64(st.st_size), Int64(out.count + n))) : UInt64(out.count + n)
                throw .fileTooLarge(path: path, size: size, limit: limit)
            }
            out.append(contentsOf: buffer[0..<n])
        }
    }

    static func fsyncOrThrow(_ fd: Int32, path: String) throws(UserDataError) {
        while fsync(fd) != 0 {
            if errno == EINTR { continue }
            throw .system(operation: "fsync", path: path, errno: .current)
        }
    }

    /// 16 random hex characters for temporary names.
    static func randomSuffix() -> String {
        var rng = SystemRandomNumberGenerator()
        let value = rng.next() as UInt64
        let hex = String(value, radix: 16)
        return String(repeating: "0", count: 16 - hex.count) + hex
    }

    static func retrying(_ body: () -> Int32) -> Int32 {
        while true {
            let r = body()
            if r >= 0 || errno != EINTR { return r }
        }
    }

    /// The directory `path` opened (O_RDONLY | O_DIRECTORY, never following a final symlink).
    static func openDirectory(_ path: String) throws(UserDataError) -> Int32 {
        let fd = retrying { Glibc.open(path, O_RDONLY | O_DIRECTORY | O_CLOEXEC | O_NOFOLLOW) }
        guard fd >= 0 else {
            if errno == ELOOP || errno == ENOTDIR {
                var st = stat()
                let found = lstat(path, &st) == 0 ? "a " + kind(st.st_mode) : "not a directory"
                throw .unexpectedOwner(path: path, found: found, expected: "a directory")
            }
            throw error("open directory", path: path)
        }
        return fd
    }
}

extension BeneathFS {
    /// mkdir -p of an operator-configured absolute path; new directories get `mode` (before umask).
    static func makeDirectories(_ path: String, mode: mode_t) throws(UserDataError) {
        guard path.hasPrefix("/"), !path.utf8.contains(0) else {
            throw .invalidPath(path, reason: "it must be an absolute host path without NUL")
        }
        var current = ""
        for component in path.split(separator: "/", omittingEmptySubsequences: true) {
            current += "/" + component
            if mkdir(current, mode) != 0 && errno != EEXIST {
                throw .system(operation: "mkdir", path: current, errno: .current)
            }
        }
    }

    /// fsync the directory at `path` (after creating or renaming an entry in it).
    static func fsyncDirectory(_ path: String) throws(UserDataError) {
        let fd = retrying { Glibc.open(path, O_RDONLY | O_DIRECTORY | O_CLOEXEC) }
        guard fd >= 0 else { throw .system(operation: "open directory", path: path, errno: .current) }
        defer { close(fd) }
        try fsyncOrThrow(fd, path: path)
    }
}
