import SystemPackage

/// Everything that can go wrong with per-user data: user ids, host identities, user directories,
/// host-side file operations and the restricted environment. Each case carries what the caller
/// needs to act (the path, the name, the errno), and `description` says what to do.
public enum UserDataError: Error, Sendable, CustomStringConvertible, Equatable {
    /// A user id does not match `UserID.pattern`.
    case invalidUserID(String, reason: String)
    /// A file name given to `UserFiles` is not a single safe path component.
    case invalidFileName(String, reason: String)
    /// The configured host uid range is unusable.
    case invalidIdentityRange(lower: UInt32, upper: UInt32, reason: String)
    /// An identity cannot own a user's directories (root or a system id).
    case invalidIdentity(hostUID: UInt32, hostGID: UInt32, reason: String)
    /// Every uid of the range belongs to some user.
    case identityRangeExhausted(lower: UInt32, upper: UInt32, file: String)
    /// A line of the identity file cannot be parsed or contradicts an earlier one.
    case corruptIdentityFile(path: String, line: Int, reason: String)
    /// A path the caller configured is unusable (not absolute, NUL byte, ...).
    case invalidPath(String, reason: String)
    /// An entry exists but is the wrong kind of file for the operation (symlink, device, FIFO, ...).
    case refusedFileType(path: String, kind: String)
    /// A regular file with more than one hard link (it may be a link to a file elsewhere).
    case refusedHardLink(path: String, links: UInt64)
    /// Resolving the name would have left the directory or followed a symlink.
    case escapesDirectory(path: String)
    /// The entry does not exist.
    case notFound(path: String)
    /// A file is bigger than the caller allowed.
    case fileTooLarge(path: String, size: UInt64, limit: Int)
    /// A directory Stockade manages is owned by someone unexpected or is not a directory.
    case unexpectedOwner(path: String, found: String, expected: String)
    /// A host-side system call failed.
    case system(operation: String, path: String, errno: Errno)
    /// An entry of the environment allow-list is malformed.
    case invalidAllowList(entry: String, reason: String)
    /// A variable supplied with a request is refused.
    case invalidVariable(name: String, reason: String)

    public var description: String {
        switch self {
        case let .invalidUserID(raw, reason):
            return "invalid user id '\(Self.printable(raw))': \(reason). A user id is 1-64 characters matching \(UserID.pattern) (letters, digits, '_', '.', '-'; starting with a letter or digit)"
        case let .invalidFileName(raw, reason):
            return "invalid file name '\(Self.printable(raw))': \(reason). Use a single name of at most 255 bytes, without '/', NUL or control characters, not starting with '.'"
        case let .invalidIdentityRange(lower, upper, reason):
            return "invalid host uid range \(lower)..<\(upper): \(reason). Choose a range of unprivileged ids no host account uses, such as 1000000..<2000000"
        case let .invalidIdentity(uid, gid, reason):
            return "host identity \(uid):\(gid) cannot own a user's directories: \(reason). Use the identity IdentityAllocator gave the user"
        case let .identityRangeExhausted(lower, upper, file):
            return "no host uid left in \(lower)..<\(upper): every one is allocated in \(file) (uids are never reused). Configure a larger range"
        case let .corruptIdentityFile(path, line, reason):
            return "identity file \(path) line \(line): \(reason). Each line must be 'userid<TAB>uid'; repair the line by hand (never give a uid to a second user) or restore the file from a backup"
        case let .invalidPath(path, reason):
            return "invalid path '\(Self.printable(path))': \(reason)"
        case let .refusedFileType(path, kind):
            return "\(path) is a \(kind): only regular files can be used here (symlinks, devices, FIFOs and sockets are refused). Delete it and try again"
        case let .refusedHardLink(path, links):
            return "\(path) has \(links) hard links: it may be a link to a file outside the user's directory, so it is refused. Delete it and try again"
        case let .escapesDirectory(path):
            return "\(path) resolves outside its directory or through a symlink, which is refused"
        case let .notFound(path):
            return "\(path) does not exist"
        case let .fileTooLarge(path, size, limit):
            return "\(path) is \(size) bytes; at most \(limit) bytes can be read"
        case let .unexpectedOwner(path, found, expected):
            return "\(path) is \(found) but should be \(expected): fix or remove it by hand (Stockade will not take over a path it did not create)"
        case let .system(operation, path, errno):
            return "\(operation) on \(path) failed: \(errno.description) [errno \(errno.rawValue)]"
        case let .invalidAllowList(entry, reason):
            return "environment allow-list entry '\(Self.printable(entry))': \(reason). Entries are variable names or patterns with '*', separated by commas (e.g. 'LC_*,TZ')"
        case let .invalidVariable(name, reason):
            return "environment variable '\(Self.printable(name))': \(reason)"
        }
    }

    /// `text` with control characters and NUL shown escaped, shortened for messages.
    static func printable(_ text: String) -> String {
        var out = ""
        for scalar in text.unicodeScalars.prefix(80) {
            if scalar.value < 0x20 || scalar.value == 0x7f {
                out += "\\x" + (scalar.value < 0x10 ? "0" : "") + String(scalar.value, radix: 16)
            } else {
                out.unicodeScalars.append(scalar)
            }
        }
        if text.unicodeScalars.count > 80 { out += "…" }
        return out
    }
}
