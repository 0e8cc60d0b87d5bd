import Glibc
import Testing
@testable import Stockade

/// Small file helpers for the per-user tests (no Foundation).
enum UsersFS {
    static func write(_ path: String, _ text: String, mode: mode_t = 0o644) {
        let fd = open(path, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, mode)
        precondition(fd >= 0, "open \(path): \(Errno.current)")
        defer { close(fd) }
        let bytes = Array(text.utf8)
        precondition(bytes.withUnsafeBytes { Glibc.write(fd, $0.baseAddress, $0.count) } == bytes.count)
    }

    static func read(_ path: String) -> String? {
        let fd = open(path, O_RDONLY | O_CLOEXEC | O_NOFOLLOW)
        guard fd >= 0 else { return nil }
        defer { close(fd) }
        var out: [UInt8] = []
        var buf = [UInt8](repeating: 0, count: 4096)
        while true {
            let n = buf.withUnsafeMutableBytes { Glibc.read(fd, $0.baseAddress, $0.count) }
            if n <= 0 { break }
            out.append(contentsOf: buf[0..<n])
        }
        return String(decoding: out, as: UTF8.self)
    }

    static func lstatOrNil(_ path: String) -> stat? {
        var st = stat()
        return lstat(path, &st) == 0 ? st : nil
    }

    static func mode(_ path: String) -> mode_t? { lstatOrNil(path).map { $0.st_mode & 0o7777 } }

    static func isSymlink(_ path: String) -> Bool { lstatOrNil(path).map { ($0.st_mode & S_IFMT) == S_IFLNK } ?? false }

    /// Names in a directory, without "." and "..".
    static func names(_ path: String) -> [String] {
        guard let dir = opendir(path) else { return [] }
        defer { closedir(dir) }
        var out: [String] = []
        while let entry = readdir(dir) {
            let name = withUnsafeBytes(of: entry.pointee.d_name) { String(decoding: $0.prefix { $0 != 0 }, as: UTF8.self) }
            if name != "." && name != ".." { out.append(name) }
        }
        return out.sorted()
    }

    /// Set atime and mtime of `path` (the link itself for symlinks).
    static func setMtime(_ path: String, _ seconds: Int64) {
        var times = [timespec(tv_sec: Int(seconds), tv_nsec: 0), timespec(tv_sec: Int(seconds), tv_nsec: 0)]
        precondition(utimensat(AT_FDCWD, path, &times, AT_SYMLINK_NOFOLLOW) == 0, "utimensat \(path): \(Errno.current)")
    }

    static func now() -> Int64 { Int64(time(nil)) }
}

/// A temporary directory removed when the test ends (`defer { dir.remove() }`).
struct TempDir {
    let path: String
    init(_ tag: String) { path = Harness.temporaryDirectory(tag) }
    func remove() { Harness.removeTree(path) }
    func sub(_ name: String) -> String { path + "/" + name }
}
