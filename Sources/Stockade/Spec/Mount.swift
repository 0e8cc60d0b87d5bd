/// One mount inside the sandbox. Destinations are absolute paths inside the sandbox.
public enum Mount: Sendable, Hashable {
    /// Bind a host path (file or directory) at `destination`.
    case bind(source: String, destination: String, readOnly: Bool)
    /// A fresh tmpfs, `sizeBytes` big (0: the kernel default, half of RAM), with `mode`.
    case tmpfs(destination: String, sizeBytes: UInt64, mode: UInt32)
    /// A file made for this sandbox with the given contents.
    case file(destination: String, contents: [UInt8], mode: UInt32)
    /// A symbolic link at `destination` pointing to `target`.
    case symlink(target: String, destination: String)
    /// An empty directory.
    case directory(destination: String, mode: UInt32)

    public var destination: String {
        switch self {
        case let .bind(_, destination, _), let .tmpfs(destination, _, _), let .file(destination, _, _),
             let .symlink(_, destination), let .directory(destination, _):
            return destination
        }
    }

    /// Whether the sandbox can write to this mount.
    public var isWritable: Bool {
        switch self {
        case let .bind(_, _, readOnly): return !readOnly
        case .tmpfs: return true
        case .file, .symlink, .directory: return false
        }
    }
}
