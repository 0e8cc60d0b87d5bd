import CStockade
import Glibc
import Synchronization

/// Process-wide facts and directories the spawn path needs, set up once.
public enum Runtime {
    /// Where the root tmpfs of each new sandbox is mounted before pivot_root (inside the
    /// sandbox's own mount namespace; the host never sees the mount). `STOCKADE_RUNTIME_DIR`
    /// overrides the parent directory (default /run/stockade).
    public static let directory: String = {
        if let env = getenv("STOCKADE_RUNTIME_DIR") { return String(cString: env) }
        return "/run/stockade"
    }()

    private static let staging = Mutex<String?>(nil)

    /// The staging directory, created on first use (mode 0755 so mapped ids can traverse it).
    static func stagingDirectory() throws -> String {
        try staging.withLock { cached in
            if let cached { return cached }
            let path = directory + "/newroot"
            try KernelFile.makeDirectories(path, mode: 0o755)
            _ = chmod(directory, 0o755)
            _ = chmod(path, 0o755)
            cached = path
            return path
        }
    }

    /// The highest capability number of this kernel.
    static let lastCapability: Int32 = stk_last_cap()

    public static var isRoot: Bool { geteuid() == 0 }
}
