import Glibc
import SystemPackage

public typealias Errno = SystemPackage.Errno

extension Errno {
    /// The calling thread's errno.
    static var current: Errno { Errno(rawValue: Glibc.errno) }
}
