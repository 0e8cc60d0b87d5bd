import CStockade

/// The step of the spawn path at which a sandbox failed to start. Mirrors `enum stk_step`.
public struct SpawnStep: RawRepresentable, Hashable, Sendable, CustomStringConvertible {
    public let rawValue: Int32
    public init(rawValue: Int32) { self.rawValue = rawValue }

    public var name: String { String(cString: stk_step_name(rawValue)) }
    public var description: String { name }

    public static let clone = SpawnStep(rawValue: Int32(STK_STEP_CLONE.rawValue))
    public static let uidMap = SpawnStep(rawValue: Int32(STK_STEP_UID_MAP.rawValue))
    public static let gidMap = SpawnStep(rawValue: Int32(STK_STEP_GID_MAP.rawValue))
    public static let cgroup = SpawnStep(rawValue: Int32(STK_STEP_CGROUP.rawValue))
    public static let waitExec = SpawnStep(rawValue: Int32(STK_STEP_WAIT_EXEC.rawValue))
    public static let mkdir = SpawnStep(rawValue: Int32(STK_STEP_MKDIR.rawValue))
    public static let bind = SpawnStep(rawValue: Int32(STK_STEP_BIND.rawValue))
    public static let remount = SpawnStep(rawValue: Int32(STK_STEP_REMOUNT.rawValue))
    public static let tmpfs = SpawnStep(rawValue: Int32(STK_STEP_TMPFS.rawValue))
    public static let proc = SpawnStep(rawValue: Int32(STK_STEP_PROC.rawValue))
    public static let pivotRoot = SpawnStep(rawValue: Int32(STK_STEP_PIVOT_ROOT.rawValue))
    public static let rlimit = SpawnStep(rawValue: Int32(STK_STEP_RLIMIT.rawValue))
    public static let chdir = SpawnStep(rawValue: Int32(STK_STEP_CHDIR.rawValue))
    public static let landlock = SpawnStep(rawValue: Int32(STK_STEP_LANDLOCK.rawValue))
    public static let seccomp = SpawnStep(rawValue: Int32(STK_STEP_SECCOMP.rawValue))
    public static let exec = SpawnStep(rawValue: Int32(STK_STEP_EXEC.rawValue))
}
