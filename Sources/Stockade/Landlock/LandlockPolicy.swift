import CStockade

/// Landlock as a second, independent filesystem layer inside the sandbox: even if a mount were
/// wrong, the process can only read what the rules name and write where they allow.
public struct LandlockPolicy: Sendable, Hashable {
    public enum Mode: String, Sendable, Hashable {
        /// On where the kernel supports Landlock; where it does not, the sandbox runs without it
        /// and `stockade doctor` says so.
        case auto
        /// Required: spawning fails with a clear error on kernels without Landlock.
        case required
        case off
    }

    public enum Access: Sendable, Hashable {
        /// Read files, list directories, execute.
        case read
        /// Everything: create, write, remove, execute.
        case readWrite
        /// Device files: read, write, truncate, ioctl.
        case device
        /// List the directory only (not its files).
        case listOnly
    }

    public struct Rule: Sendable, Hashable {
        public var path: String
        public var access: Access
        public var isDirectory: Bool
        public init(path: String, access: Access, isDirectory: Bool = true) {
            self.path = path
            self.access = access
            self.isDirectory = isDirectory
        }
    }

    public var mode: Mode
    /// Extra rules on top of those derived from the sandbox's mounts.
    public var extraRules: [Rule]
    /// ABI 6+: forbid connecting to abstract unix sockets and signalling processes outside the
    /// sandbox's Landlock domain.
    public var scopeAbstractSockets: Bool
    public var scopeSignals: Bool

    public init(mode: Mode = .auto, extraRules: [Rule] = [], scopeAbstractSockets: Bool = true, scopeSignals: Bool = false) {
        self.mode = mode
        self.extraRules = extraRules
        self.scopeAbstractSockets = scopeAbstractSockets
        self.scopeSignals = scopeSignals
    }

    public static let automatic = LandlockPolicy()

    /// The kernel's Landlock ABI version, or nil without Landlock.
    public static let kernelABI: Int? = {
        let v = stk_landlock_abi_version()
        return v > 0 ? Int(v) : nil
    }()

    // Access bits (linux/landlock.h).
    static let execute: UInt64 = 1 << 0
    static let writeFile: UInt64 = 1 << 1
    static let readFile: UInt64 = 1 << 2
    static let readDir: UInt64 = 1 << 3
    static let refer: UInt64 = 1 << 13
    static let truncate: UInt64 = 1 << 14
    static let ioctlDev: UInt64 = 1 << 15
    /// Rights that make sense on a regular file (others are for directories).
    static let fileRights: UInt64 = execute | writeFile | readFile | truncate | ioctlDev

    /// Every filesystem right the given ABI knows.
    static func handledRights(abi: Int) -> UInt64 {
        var rights: UInt64 = (1 << 13) - 1
        if abi >= 2 { rights |= refer }
        if abi >= 3 { rights |= truncate }
        if abi >= 5 { rights |= ioctlDev }
        return rights
    }

    static func rights(_ access: Access, abi: Int, isDirectory: Bool) -> UInt64 {
        let handled = handledRights(abi: abi)
        var r: UInt64
        switch access {
        case .read: r = execute | readFile | readDir
        case .readWrite: r = handled
        case .device: r = readFile | writeFile | readDir | truncate | ioctlDev
        case .listOnly: r = readDir
        }
        r &= handled
        if !isDirectory { r &= fileRights }
        return r
    }
}
