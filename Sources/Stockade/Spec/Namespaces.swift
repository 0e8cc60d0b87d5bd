import CStockade

/// The namespaces a sandbox gets. Each is switchable; `.all` is the default.
public struct Namespaces: OptionSet, Sendable, Hashable {
    public let rawValue: Int32
    public init(rawValue: Int32) { self.rawValue = rawValue }

    public static let user = Namespaces(rawValue: Int32(STK_NS_USER))
    public static let pid = Namespaces(rawValue: Int32(STK_NS_PID))
    public static let mount = Namespaces(rawValue: Int32(STK_NS_MOUNT))
    public static let network = Namespaces(rawValue: Int32(STK_NS_NET))
    public static let ipc = Namespaces(rawValue: Int32(STK_NS_IPC))
    public static let uts = Namespaces(rawValue: Int32(STK_NS_UTS))
    public static let cgroup = Namespaces(rawValue: Int32(STK_NS_CGROUP))

    public static let all: Namespaces = [.user, .pid, .mount, .network, .ipc, .uts, .cgroup]
}
