import Glibc

/// Removal of directory trees that users control, relative to open directory fds: symlinks are
/// removed, never followed, and other filesystems (mount points) are never entered.
enum TreeRemover {
    /// Deeper trees are left in place and reported (each level holds one fd).
    static let maxDepth = 256

    /// The entry names of the open directory `fd` (without "." and "..").
    static func names(in fd: Int32) -> [String] {
        let copy = dup(fd)
        guard copy >= 0 else { return [] }
        guard let dir = fdopendir(copy) else { close(copy); return [] }
        defer { closedir(dir) }
        rewinddir(dir)
        var out: [String] = []
        while let entry = readdir(dir) {
            let name = withUnsafeBytes(of: entry.pointee.d_name) { String(decoding: $0.prefix { $0 != 0 }, as: UTF8.self) }
            if name != "." && name != ".." { out.append(name) }
        }
        return out
    }

    /// Remove `name` in `parent` and, if it is a directory, everything beneath it.
    static func removeEntry(in parent: Int32, _ name: String, path: String, depth: Int = 0) throws(UserDataError) {
        var st = stat()
        guard fstatat(parent, name, &st, AT_SYMLINK_NOFOLLOW) == 0 else {
            if errno == ENOENT { return }
            throw .system(operation: "stat", path: path, errno: .current)
        }
        if (st.st_mode & S_IFMT) == S_IFDIR {
            guard depth < maxDepth else {
                throw .system(operation: "remove (deeper than \(maxDepth) levels)", path: path, errno: .fileNameTooLong)
            }
            let fd = try openSameDevice(parent, name, path: path)
            do {
                for child in names(in: fd) {
                    try removeEntry(in: fd, child, path: path + "/" + child, depth: depth + 1)
                }
            } catch {
                close(fd)
                throw error
            }
            close(fd)
            guard unlinkat(parent, name, AT_REMOVEDIR) == 0 || errno == ENOENT else {
                throw .system(operation: "rmdir", path: path, errno: .current)
            }
        } else {
            guard unlinkat(parent, name, 0) == 0 || errno == ENOENT else {
                throw .system(operation: "unlink", path: path, errno: .current)
            }
        }
    }

    /// Remove entries of `dirfd` whose mtime is before `cutoff` (and empty directories that were
    /// that old), recursively. Failures are collected in `report`; the walk goes on.
    static func removeExpired(in dirfd: Int32, path: String, cutoff: Int64, report: inout CleanupReport, depth: Int = 0) {
        for name in names(in: dirfd) {
            let childPath = path + "/" + name
            var st = stat()
            guard fstatat(dirfd, name, &st, AT_SYMLINK_NOFOLLOW) == 0 else { continue }
            let expired = Int64(st.st_mtim.tv_sec) < cutoff
            if (st.st_mode & S_IFMT) == S_IFDIR {
                guard depth < maxDepth else {
                    report.failures.append("\(childPath): deeper than \(maxDepth) levels, left in place")
                    continue
                }
                let fd: Int32
                do { fd = try openSameDevice(dirfd, name, path: childPath) } catch {
                    report.failures.append(error.description)
                    continue
                }
                removeExpired(in: fd, path: childPath, cutoff: cutoff, report: &report, depth: depth + 1)
                close(fd)
                if expired {
                    if unlinkat(dirfd, name, AT_REMOVEDIR) == 0 {
                        report.directoriesRemoved += 1
                    } else if errno != ENOTEMPTY && errno != EEXIST && errno != ENOENT {
                        report.failures.append("\(childPath): rmdir: \(Errno.current)")
                    }
                }
            } else if expired {
                if unlinkat(dirfd, name, 0) == 0 {
                    report.filesRemoved += 1
                    if (st.st_mode & S_IFMT) == S_IFREG && st.st_nlink <= 1 { report.bytesFreed += UInt64(max(0, st.st_size)) }
                } else if errno != ENOENT {
                    report.failures.append("\(childPath): unlink: \(Errno.current)")
                }
            }
        }
    }

    /// Open the subdirectory `name` of `parent` without following a link, on the parent's device.
    private static func openSameDevice(_ parent: Int32, _ name: String, path: String) throws(UserDataError) -> Int32 {
        let fd = BeneathFS.retrying { openat(parent, name, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC) }
        guard fd >= 0 else { throw .system(operation: "open directory", path: path, errno: .current) }
        var parentStat = stat(), st = stat()
        guard fstat(parent, &parentStat) == 0, fstat(fd, &st) == 0 else {
            let error = UserDataError.system(operation: "stat", path: path, errno: .current)
            close(fd)
            throw error
        }
        guard st.st_dev == parentStat.st_dev else {
            close(fd)
            throw .system(operation: "enter (a different filesystem is mounted there)", path: path, errno: .improperLink)
        }
        return fd
    }
}
