import Glibc
import Synchronization

/// Gives every user a distinct unprivileged host uid/gid (uid == gid), allocated once from a
/// range and stored durably, so it is stable across restarts and never handed to a second user.
///
/// The store is `<data>/identities.tsv`: one `userid<TAB>uid` line per user, only ever appended
/// (O_APPEND, then fsync). Every allocation holds an exclusive `flock` on the file around
/// reload + choose + append, so allocators in several processes (or several instances in one
/// process) never pick the same uid; a `Mutex` serialises the threads of one instance. Uids are
/// never reused: removing a user's data keeps its line. Entries outside the configured range (from
/// an earlier configuration) stay valid for their users; new ones come from the range.
public final class IdentityAllocator: Sendable {
    public static let defaultRange: Range<UInt32> = 1_000_000 ..< 2_000_000
    /// Host ids below this are system or ordinary accounts (and the usual 16-bit id space).
    public static let minimumUID: UInt32 = 65_536
    public static let fileName = "identities.tsv"
    /// The id a sandbox sees for itself (matches `RootLayout`'s /etc/passwd entry).
    public static let insideID: UInt32 = 1000

    /// Host path of the identity file.
    public let path: String
    public let range: Range<UInt32>

    private struct State: Sendable {
        var table = IdentityTable()
        var device: UInt64 = 0
        var inode: UInt64 = 0
    }
    private let state = Mutex(State())

    /// The allocator of a data directory (created, mode 0711, if missing).
    public convenience init(dataDirectory: String, range: Range<UInt32> = IdentityAllocator.defaultRange) throws(UserDataError) {
        try BeneathFS.makeDirectories(dataDirectory, mode: 0o711)
        try self.init(path: dataDirectory + "/" + IdentityAllocator.fileName, range: range)
    }

    /// The allocator of the identity file at `path`. Loads and checks it now: a corrupt line is an
    /// error naming the line.
    public init(path: String, range: Range<UInt32> = IdentityAllocator.defaultRange) throws(UserDataError) {
        try IdentityAllocator.validate(range)
        guard path.hasPrefix("/"), !path.utf8.contains(0) else {
            throw .invalidPath(path, reason: "the identity file must be an absolute host path without NUL")
        }
        self.path = path
        self.range = range
        try withLockedFile { (_: Int32, _: inout State) throws(UserDataError) in }
    }

    static func validate(_ range: Range<UInt32>) throws(UserDataError) {
        let fail = { (reason: String) in UserDataError.invalidIdentityRange(lower: range.lowerBound, upper: range.upperBound, reason: reason) }
        guard !range.isEmpty else { throw fail("the range is empty") }
        guard range.lowerBound >= minimumUID else {
            throw fail("it includes ids below \(minimumUID) (root, system and ordinary accounts)")
        }
        guard !range.contains(Identity.anonymous.hostUID) else {
            throw fail("it includes \(Identity.anonymous.hostUID), the id of anonymous sandboxes")
        }
    }

    /// The user's identity, allocating a new host uid the first time. Durable when it returns.
    public func identity(for user: UserID) throws(UserDataError) -> Identity {
        if let uid = state.withLock({ $0.table.uidByUser[user] }) { return Self.identity(uid) }
        return try withLockedFile { (fd: Int32, state: inout State) throws(UserDataError) -> Identity in
            if let uid = state.table.uidByUser[user] { return Self.identity(uid) }
            guard let uid = state.table.nextFree(in: range) else {
                throw .identityRangeExhausted(lower: range.lowerBound, upper: range.upperBound, file: path)
            }
            let line = IdentityTable.line(user: user, uid: uid)
            try BeneathFS.writeAll(fd, line, path: path)
            try BeneathFS.fsyncOrThrow(fd, path: path)
            try state.table.parse(line[...], path: path)
            return Self.identity(uid)
        }
    }

    /// The user's identity if one was allocated (by any process), without allocating.
    public func existingIdentity(for user: UserID) throws(UserDataError) -> Identity? {
        if let uid = state.withLock({ $0.table.uidByUser[user] }) { return Self.identity(uid) }
        return try withLockedFile { (_: Int32, state: inout State) throws(UserDataError) -> Identity? in state.table.uidByUser[user].map(Self.identity) }
    }

    /// Every allocation in the file, reloaded now.
    public func allIdentities() throws(UserDataError) -> [UserID: Identity] {
        try withLockedFile { (_: Int32, state: inout State) throws(UserDataError) -> [UserID: Identity] in state.table.uidByUser.mapValues(Self.identity) }
    }

    private static func identity(_ uid: UInt32) -> Identity {
        Identity(insideUID: insideID, insideGID: insideID, hostUID: uid, hostGID: uid)
    }

    // MARK: the file

    /// Open the file (creating it), take the exclusive flock, bring the table up to date with the
    /// file's contents, and run `body` with the fd (O_APPEND) and the state.
    private func withLockedFile<R: Sendable>(_ body: (Int32, inout State) throws(UserDataError) -> R) throws(UserDataError) -> R {
        try state.withLock { (state: inout State) throws(UserDataError) -> R in
            let fd = try openFile()
            defer { close(fd) } // also releases the flock
            while flock(fd, LOCK_EX) != 0 {
                if errno == EINTR { continue }
                throw .system(operation: "flock", path: path, errno: .current)
            }
            try refresh(fd, &state)
            return try body(fd, &state)
        }
    }

    private func openFile() throws(UserDataError) -> Int32 {
        let flags = O_RDWR | O_APPEND | O_CLOEXEC | O_NOFOLLOW
        var fd = BeneathFS.retrying { open(path, flags) }
        if fd < 0 && errno == ENOENT {
            fd = BeneathFS.retrying { open(path, flags | O_CREAT, 0o600) }
            if fd >= 0 {
                let parent = String(path[..<(path.lastIndex(of: "/") ?? path.startIndex)])
                do { try BeneathFS.fsyncDirectory(parent.isEmpty ? "/" : parent) } catch { close(fd); throw error }
            }
        }
        guard fd >= 0 else {
            if errno == ELOOP { throw .unexpectedOwner(path: path, found: "a symbolic link", expected: "a regular file") }
            throw .system(operation: "open identity file", path: path, errno: .current)
        }
        var st = stat()
        guard fstat(fd, &st) == 0, (st.st_mode & S_IFMT) == S_IFREG else {
            close(fd)
            throw .unexpectedOwner(path: path, found: "not a regular file", expected: "a regular file")
        }
        return fd
    }

    /// Parse what was appended since the last look (all of it if the file was replaced), and cut
    /// an incomplete last line left by a crash mid-append (it was never confirmed to anyone).
    private func refresh(_ fd: Int32, _ state: inout State) throws(UserDataError) {
        let st = try BeneathFS.fstatOrThrow(fd, path: path)
        let size = Int(st.st_size)
        if UInt64(st.st_dev) != state.device || UInt64(st.st_ino) != state.inode || size < state.table.parsedBytes {
            state = State(device: UInt64(st.st_dev), inode: UInt64(st.st_ino))
        }
        if size == 0 {
            try BeneathFS.writeAll(fd, Array("# stockade host identities: user id<TAB>host uid (= gid). Append only; never reuse a uid.\n".utf8), path: path)
            try BeneathFS.fsyncOrThrow(fd, path: path)
            return try refresh(fd, &state)
        }
        guard size > state.table.parsedBytes else { return }
        var bytes = [UInt8](repeating: 0, count: size - state.table.parsedBytes)
        var done = 0
        while done < bytes.count {
            let n = bytes.withUnsafeMutableBytes { pread(fd, $0.baseAddress.map { $0 + done }, $0.count - done, off_t(state.table.parsedBytes + done)) }
            if n < 0 && errno == EINTR { continue }
            guard n > 0 else { throw .system(operation: "read", path: path, errno: n < 0 ? .current : .ioError) }
            done += n
        }
        let incomplete = try state.table.parse(bytes[...], path: path)
        if incomplete > 0 {
            guard ftruncate(fd, off_t(state.table.parsedBytes)) == 0 else {
                throw .system(operation: "truncate an incomplete last line of", path: path, errno: .current)
            }
            try BeneathFS.fsyncOrThrow(fd, path: path)
        }
    }
}
