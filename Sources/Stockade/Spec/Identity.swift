/// Who the sandboxed process is: an ordinary uid/gid inside, mapped to an unprivileged host
/// uid/gid outside. Files it creates in bound host directories belong to the host ids.
public struct Identity: Sendable, Hashable {
    public var insideUID: UInt32
    public var insideGID: UInt32
    public var hostUID: UInt32
    public var hostGID: UInt32

    public init(insideUID: UInt32 = 1000, insideGID: UInt32 = 1000, hostUID: UInt32, hostGID: UInt32) {
        self.insideUID = insideUID
        self.insideGID = insideGID
        self.hostUID = hostUID
        self.hostGID = hostGID
    }

    /// The identity of a sandbox that belongs to no Stockade user (`stockade run` without `--user`).
    /// Outside every user's range, never 0, and no account on a normal host.
    public static let anonymous = Identity(hostUID: 999_999, hostGID: 999_999)
}
