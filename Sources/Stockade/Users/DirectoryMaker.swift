import Glibc

/// Creates directories relative to an already-open parent (no path re-resolution, no symlink
/// followed) and brings their mode and owner to what the layout says.
enum DirectoryMaker {
    /// mkdirat + open of `name` in `parent`, then `fix`. Returns the open directory.
    static func ensure(in parent: Int32, _ name: String, parentPath: String, mode: mode_t,
                       uid: UInt32, gid: UInt32) throws(UserDataError) -> Int32 {
        let path = parentPath + "/" + name
        if mkdirat(parent, name, mode) != 0 && errno != EEXIST {
            throw .system(operation: "mkdir", path: path, errno: .current)
        }
        let fd = BeneathFS.retrying { openat(parent, name, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC) }
        guard fd >= 0 else {
            if errno == ELOOP || errno == ENOTDIR {
                var st = stat()
                let found = fstatat(parent, name, &st, AT_SYMLINK_NOFOLLOW) == 0 ? "a " + BeneathFS.kind(st.st_mode) : "not a directory"
                throw .unexpectedOwner(path: path, found: found, expected: "a directory")
            }
            throw .system(operation: "open directory", path: path, errno: .current)
        }
        do {
            try fix(fd, path: path, mode: mode, uid: uid, gid: gid)
        } catch {
            close(fd)
            throw error
        }
        return fd
    }

    /// Set owner and mode of the open directory `fd` where they differ (exact mode, umask aside).
    static func fix(_ fd: Int32, path: String, mode: mode_t, uid: UInt32, gid: UInt32) throws(UserDataError) {
        let st = try BeneathFS.fstatOrThrow(fd, path: path)
        if st.st_uid != uid || st.st_gid != gid {
            guard fchown(fd, uid, gid) == 0 else {
                throw .system(operation: "chown to \(uid):\(gid)", path: path, errno: .current)
            }
        }
        if (st.st_mode & 0o7777) != mode || st.st_uid != uid || st.st_gid != gid {
            // chown clears set-id bits; set the mode after it.
            guard fchmod(fd, mode) == 0 else {
                throw .system(operation: "chmod to \(String(mode, radix: 8))", path: path, errno: .current)
            }
        }
    }
}
