import Glibc

/// Which of a user's directories.
public enum UserDirectoryKind: String, Sendable, CaseIterable {
    /// Files the user sent; read-only inside the sandbox.
    case uploads
    /// The sandbox's writable working directory (its home).
    case work
    /// What executions produce.
    case outputs

    /// Where a sandbox sees this directory.
    public var insidePath: String {
        switch self {
        case .uploads: return UserDirectories.uploadsInside
        case .work: return UserDirectories.workInside
        case .outputs: return UserDirectories.outputsInside
        }
    }

    /// Whether the sandbox may write to it.
    public var writableInside: Bool { self != .uploads }
}

/// The per-user directory layout under a data directory:
///
/// "root" below is the daemon's own uid/gid (root in production).
///
/// ```
/// <data>                    0711 root           traversable, not listable
/// <data>/identities.tsv     0600 root           (IdentityAllocator)
/// <data>/temp               0700 root           the daemon's staging
/// <data>/users              0711 root
/// <data>/users/<id>         0710 root:<gid>     only the user's gid may traverse; root owns the
///                                               entries, so the user cannot swap them for links
/// <data>/users/<id>/uploads 0700 <uid>:<gid>    → /uploads (read-only inside)
/// <data>/users/<id>/work    0700 <uid>:<gid>    → /home/user (read-write, working directory)
/// <data>/users/<id>/outputs 0700 <uid>:<gid>    → /outputs (read-write)
/// ```
public struct UserDirectories: Sendable {
    public static let workInside = "/home/user"
    public static let outputsInside = "/outputs"
    public static let uploadsInside = "/uploads"

    public let dataDirectory: String

    public init(dataDirectory: String) throws(UserDataError) {
        guard dataDirectory.hasPrefix("/"), !dataDirectory.utf8.contains(0) else {
            throw .invalidPath(dataDirectory, reason: "the data directory must be an absolute host path without NUL")
        }
        var parts: [Substring] = []
        for component in dataDirectory.split(separator: "/") {
            guard component != ".", component != ".." else {
                throw .invalidPath(dataDirectory, reason: "the data directory must not contain '.' or '..' components")
            }
            parts.append(component)
        }
        guard !parts.isEmpty else { throw .invalidPath(dataDirectory, reason: "the data directory cannot be '/'") }
        self.dataDirectory = "/" + parts.joined(separator: "/")
    }

    public var usersDirectory: String { dataDirectory + "/users" }
    public var tempDirectory: String { dataDirectory + "/temp" }
    public var identityFile: String { dataDirectory + "/" + IdentityAllocator.fileName }

    /// `<data>/users/<id>`.
    public func root(of user: UserID) -> String { usersDirectory + "/" + user.rawValue }
    public func path(_ kind: UserDirectoryKind, of user: UserID) -> String { root(of: user) + "/" + kind.rawValue }
    public func uploads(of user: UserID) -> String { path(.uploads, of: user) }
    public func work(of user: UserID) -> String { path(.work, of: user) }
    public func outputs(of user: UserID) -> String { path(.outputs, of: user) }

    /// The three binds a user's sandbox gets: work at /home/user and outputs at /outputs
    /// (read-write), uploads at /uploads (read-only). Use /home/user as the working directory.
    public func mounts(for user: UserID) -> [Mount] {
        [.work, .outputs, .uploads].map { kind in
            .bind(source: path(kind, of: user), destination: kind.insidePath, readOnly: !kind.writableInside)
        }
    }

    /// Host-side file operations on one of the user's directories; files written there belong to
    /// `identity`.
    public func files(_ kind: UserDirectoryKind, of user: UserID, identity: Identity) throws(UserDataError) -> UserFiles {
        try UserFiles(directory: path(kind, of: user), owner: identity)
    }

    // MARK: creation

    /// Create (or repair the modes and owners of) `<data>`, `<data>/users` and `<data>/temp`.
    public func ensureBase() throws(UserDataError) {
        try BeneathFS.makeDirectories(dataDirectory, mode: 0o711)
        let data = try BeneathFS.openDirectory(dataDirectory)
        defer { close(data) }
        try DirectoryMaker.fix(data, path: dataDirectory, mode: 0o711, uid: geteuid(), gid: getegid())
        for (name, mode) in [("users", mode_t(0o711)), ("temp", mode_t(0o700))] {
            let fd = try DirectoryMaker.ensure(in: data, name, parentPath: dataDirectory, mode: mode, uid: geteuid(), gid: getegid())
            close(fd)
        }
    }

    /// Create the user's directories on first use (and repair modes and owners later): the user's
    /// root 0710 root:<gid>, and uploads, work and outputs 0700 owned by the user's host uid/gid.
    public func ensure(user: UserID, identity: Identity) throws(UserDataError) {
        guard identity.hostUID != 0, identity.hostGID != 0 else {
            throw .invalidIdentity(hostUID: identity.hostUID, hostGID: identity.hostGID, reason: "uid or gid 0 is root")
        }
        try ensureBase()
        let users = try BeneathFS.openDirectory(usersDirectory)
        defer { close(users) }
        let home = try DirectoryMaker.ensure(in: users, user.rawValue, parentPath: usersDirectory, mode: 0o710,
                                             uid: geteuid(), gid: identity.hostGID)
        defer { close(home) }
        for kind in UserDirectoryKind.allCases {
            let fd = try DirectoryMaker.ensure(in: home, kind.rawValue, parentPath: root(of: user), mode: 0o700,
                                               uid: identity.hostUID, gid: identity.hostGID)
            close(fd)
        }
    }

    // MARK: removal and cleanup

    /// Remove all of the user's data. Their host identity stays allocated (uids are never reused).
    public func remove(user: UserID) throws(UserDataError) {
        let users: Int32
        do { users = try BeneathFS.openDirectory(usersDirectory) } catch .notFound { return }
        defer { close(users) }
        try TreeRemover.removeEntry(in: users, user.rawValue, path: root(of: user))
    }

    /// Remove files older than `seconds` (by mtime) from `<data>/temp` and every user's outputs,
    /// and empty directories that were that old. Never follows symlinks (a link is removed, not
    /// what it points to) and never crosses into another filesystem.
    @discardableResult
    public func cleanup(olderThan seconds: Int64, now: Int64? = nil) throws(UserDataError) -> CleanupReport {
        let cutoff = (now ?? Int64(time(nil))) - seconds
        var report = CleanupReport()
        if let temp = try? BeneathFS.openDirectory(tempDirectory) {
            defer { close(temp) }
            TreeRemover.removeExpired(in: temp, path: tempDirectory, cutoff: cutoff, report: &report)
        }
        let users: Int32
        do { users = try BeneathFS.openDirectory(usersDirectory) } catch .notFound { return report }
        defer { close(users) }
        for name in TreeRemover.names(in: users) {
            guard let user = try? UserID(name) else { continue }
            let outputsPath = outputs(of: user)
            let home = BeneathFS.open(users, name, O_RDONLY | O_DIRECTORY)
            guard home >= 0 else { continue }
            defer { close(home) }
            let fd = BeneathFS.open(home, UserDirectoryKind.outputs.rawValue, O_RDONLY | O_DIRECTORY)
            guard fd >= 0 else {
                if errno != ENOENT { report.failures.append("\(outputsPath): \(Errno.current)") }
                continue
            }
            defer { close(fd) }
            TreeRemover.removeExpired(in: fd, path: outputsPath, cutoff: cutoff, report: &report)
        }
        return report
    }
}

/// What a cleanup removed.
public struct CleanupReport: Sendable, Hashable {
    public var filesRemoved = 0
    public var directoriesRemoved = 0
    public var bytesFreed: UInt64 = 0
    /// Entries that could not be removed, with the reason.
    public var failures: [String] = []
    public init() {}
}
