import Glibc

/// Host-side file operations on one of a user's directories (uploads, work or outputs), safe
/// against whatever the user's sandbox planted there.
///
/// - Names are single components (`FileName`): no `/`, `..`, NUL, control characters or leading `.`.
/// - The directory is opened without following a final symlink, and every name is opened beneath
///   it with openat2 (RESOLVE_BENEATH | NO_SYMLINKS | NO_MAGICLINKS | NO_XDEV), or openat with
///   O_NOFOLLOW where openat2 is missing.
/// - Only regular files with one link are read or listed: symlinks, devices, FIFOs, sockets and
///   hard links (which may point at files elsewhere) are refused.
/// - Symlink policy for writes: **refuse**. A write to a name that is a symlink (or any
///   non-regular file, or a hard link) fails with a clear error and changes nothing. Even if the
///   sandbox plants a link after that check, the data goes to a fresh temporary file that is
///   renamed over the name: rename replaces the link itself and never writes through it.
/// - Writes are atomic: a temporary file in the same directory, fsync, renameat, fsync of the
///   directory. The temporary file is removed on failure.
public struct UserFiles: Sendable {
    /// One listed file.
    public struct Entry: Sendable, Hashable {
        public var name: String
        public var size: UInt64
        /// Modification time, seconds since the epoch.
        public var modified: Int64
        public var modifiedNanoseconds: Int32

        public init(name: String, size: UInt64, modified: Int64, modifiedNanoseconds: Int32 = 0) {
            self.name = name
            self.size = size
            self.modified = modified
            self.modifiedNanoseconds = modifiedNanoseconds
        }
    }

    /// Host path of the directory.
    public let directory: String
    /// The host identity files written here are given to (`nil`: keep the caller's uid/gid).
    public let owner: Identity?
    /// Mode of written files.
    public let fileMode: mode_t

    public init(directory: String, owner: Identity?, fileMode: mode_t = 0o600) throws(UserDataError) {
        guard directory.hasPrefix("/"), !directory.utf8.contains(0) else {
            throw .invalidPath(directory, reason: "the directory must be an absolute host path without NUL")
        }
        self.directory = directory
        self.owner = owner
        self.fileMode = fileMode & 0o7777 & ~mode_t(S_ISUID | S_ISGID | S_ISVTX)
    }

    private func path(_ name: FileName) -> String { directory + "/" + name.rawValue }

    /// The directory, opened without following a final symlink, checked to be owned by `owner`.
    private func openBase() throws(UserDataError) -> Int32 {
        let fd = try BeneathFS.openDirectory(directory)
        guard let owner else { return fd }
        var st = stat()
        guard fstat(fd, &st) == 0 else {
            let error = UserDataError.system(operation: "stat", path: directory, errno: .current)
            close(fd)
            throw error
        }
        guard st.st_uid == owner.hostUID else {
            close(fd)
            throw .unexpectedOwner(path: directory, found: "owned by uid \(st.st_uid)", expected: "owned by uid \(owner.hostUID)")
        }
        return fd
    }

    // MARK: write

    /// Replace (or create) `name` with `data`, atomically. Refuses a name that is a symlink, a
    /// non-regular file or a hard link.
    public func write(name: String, data: [UInt8]) throws(UserDataError) {
        let name = try FileName(name)
        let target = path(name)
        let dirfd = try openBase()
        defer { close(dirfd) }
        if let st = try BeneathFS.lstatAt(dirfd, name.rawValue, path: target) {
            try BeneathFS.requireSingleRegularFile(st, path: target)
        }
        var tempName = ""
        var fd: Int32 = -1
        for _ in 0..<8 {
            tempName = ".stockade-tmp-" + BeneathFS.randomSuffix()
            fd = BeneathFS.open(dirfd, tempName, O_WRONLY | O_CREAT | O_EXCL, 0o600)
            if fd >= 0 || errno != EEXIST { break }
        }
        guard fd >= 0 else { throw BeneathFS.error("create temporary file", path: directory + "/" + tempName) }
        let tempPath = directory + "/" + tempName
        var renamed = false
        defer {
            if fd >= 0 { close(fd) }
            if !renamed { unlinkat(dirfd, tempName, 0) }
        }
        try BeneathFS.writeAll(fd, data, path: tempPath)
        if let owner, fchown(fd, owner.hostUID, owner.hostGID) != 0 {
            throw .system(operation: "chown to \(owner.hostUID):\(owner.hostGID)", path: tempPath, errno: .current)
        }
        guard fchmod(fd, fileMode) == 0 else { throw .system(operation: "chmod", path: tempPath, errno: .current) }
        try BeneathFS.fsyncOrThrow(fd, path: tempPath)
        close(fd)
        fd = -1
        guard renameat(dirfd, tempName, dirfd, name.rawValue) == 0 else {
            throw BeneathFS.error("rename into place", path: target)
        }
        renamed = true
        try BeneathFS.fsyncOrThrow(dirfd, path: directory)
    }

    /// Convenience for text.
    public func write(name: String, text: String) throws(UserDataError) {
        try write(name: name, data: Array(text.utf8))
    }

    // MARK: read

    /// The contents of `name`, at most `maxBytes` (more throws `fileTooLarge`).
    public func read(name: String, maxBytes: Int) throws(UserDataError) -> [UInt8] {
        let name = try FileName(name)
        let target = path(name)
        let dirfd = try openBase()
        defer { close(dirfd) }
        // O_PATH first: opening has no side effects whatever the entry is; check, then reopen.
        let pathFD = try BeneathFS.openOrThrow(dirfd, name.rawValue, BeneathFS.pathOnly, path: target)
        defer { close(pathFD) }
        let st = try BeneathFS.fstatOrThrow(pathFD, path: target)
        try BeneathFS.requireSingleRegularFile(st, path: target)
        let fd = try reopenForReading(pathFD, dirfd: dirfd, name: name, expected: st, path: target)
        defer { close(fd) }
        return try BeneathFS.readAll(fd, limit: maxBytes, path: target)
    }

    /// Reopen the checked O_PATH fd for reading: through /proc/self/fd (the same inode, no second
    /// lookup), or where /proc is missing a second lookup that must find the same inode.
    private func reopenForReading(_ pathFD: Int32, dirfd: Int32, name: FileName, expected: stat, path: String) throws(UserDataError) -> Int32 {
        var fd = BeneathFS.retrying { open("/proc/self/fd/\(pathFD)", O_RDONLY | O_CLOEXEC | O_NOCTTY | O_NONBLOCK) }
        if fd < 0 {
            guard errno == ENOENT else { throw .system(operation: "reopen", path: path, errno: .current) }
            fd = try BeneathFS.openOrThrow(dirfd, name.rawValue, O_RDONLY | O_NOCTTY | O_NONBLOCK, path: path)
        }
        let st: stat
        do { st = try BeneathFS.fstatOrThrow(fd, path: path) } catch { close(fd); throw error }
        guard st.st_dev == expected.st_dev, st.st_ino == expected.st_ino else {
            close(fd)
            throw .escapesDirectory(path: path)
        }
        return fd
    }

    // MARK: list

    /// Regular single-link files with valid names, sorted by name. Temporary files, symlinks,
    /// directories and special files are left out.
    public func list() throws(UserDataError) -> [Entry] {
        let base = try openBase()
        let listFD = dup(base)
        close(base)
        guard listFD >= 0 else { throw .system(operation: "dup", path: directory, errno: .current) }
        guard let dir = fdopendir(listFD) else {
            close(listFD)
            throw .system(operation: "opendir", path: directory, errno: .current)
        }
        defer { closedir(dir) }
        let fd = dirfd(dir)
        var out: [Entry] = []
        while true {
            errno = 0
            guard let entry = readdir(dir) else {
                if errno != 0 { throw .system(operation: "readdir", path: directory, errno: .current) }
                break
            }
            let name = withUnsafeBytes(of: entry.pointee.d_name) { String(decoding: $0.prefix { $0 != 0 }, as: UTF8.self) }
            guard FileName.problem(with: name) == nil else { continue }
            var st = stat()
            guard fstatat(fd, name, &st, AT_SYMLINK_NOFOLLOW) == 0 else { continue }
            guard (st.st_mode & S_IFMT) == S_IFREG, st.st_nlink <= 1 else { continue }
            out.append(Entry(name: name, size: UInt64(st.st_size), modified: Int64(st.st_mtim.tv_sec),
                             modifiedNanoseconds: Int32(st.st_mtim.tv_nsec)))
        }
        return out.sorted { $0.name < $1.name }
    }

    // MARK: delete

    /// Remove `name`. Any non-directory entry can be removed (unlinking a symlink or a hard link
    /// removes only the name here, never what it points to); directories are refused.
    public func delete(name: String) throws(UserDataError) {
        let name = try FileName(name)
        let target = path(name)
        let dirfd = try openBase()
        defer { close(dirfd) }
        guard let st = try BeneathFS.lstatAt(dirfd, name.rawValue, path: target) else { throw .notFound(path: target) }
        guard (st.st_mode & S_IFMT) != S_IFDIR else { throw .refusedFileType(path: target, kind: "directory") }
        guard unlinkat(dirfd, name.rawValue, 0) == 0 else { throw BeneathFS.error("unlink", path: target) }
        try BeneathFS.fsyncOrThrow(dirfd, path: directory)
    }
}
