import CStockade
import Glibc
import SystemPackage

/// An executable copied once into a sealed, read-only memfd and executed by fd (execveat with
/// AT_EMPTY_PATH). Nothing of the host's file tree needs to be visible inside the sandbox, and
/// code inside cannot change the image through /proc/self/exe: the seals forbid writes.
public final class ExecutableImage: Sendable {
    public let fd: Int32
    public let sourcePath: String
    public let size: Int

    /// Copy `path` into a sealed memfd.
    public init(copying path: String, name: String) throws {
        let src = open(path, O_RDONLY | O_CLOEXEC)
        guard src >= 0 else { throw SandboxError.system(operation: "open executable", path: path, errno: .current) }
        defer { close(src) }
        let memfd = stk_memfd_create(name, STK_MFD_CLOEXEC | STK_MFD_ALLOW_SEALING)
        guard memfd >= 0 else { throw SandboxError.system(operation: "memfd_create", path: path, errno: .current) }
        var total = 0
        var buffer = [UInt8](repeating: 0, count: 1 << 20)
        while true {
            let n = buffer.withUnsafeMutableBytes { read(src, $0.baseAddress, $0.count) }
            if n < 0 {
                if errno == EINTR { continue }
                let err = Errno.current
                close(memfd)
                throw SandboxError.system(operation: "read executable", path: path, errno: err)
            }
            if n == 0 { break }
            var off = 0
            while off < n {
                let w = buffer.withUnsafeBytes { write(memfd, $0.baseAddress.map { $0 + off }, n - off) }
                if w < 0 {
                    if errno == EINTR { continue }
                    let err = Errno.current
                    close(memfd)
                    throw SandboxError.system(operation: "write memfd", path: path, errno: err)
                }
                off += w
            }
            total += n
        }
        // Exec needs a mode with x bits; the memfd stays owned by the host's root.
        _ = fchmod(memfd, 0o555)
        let seals = STK_F_SEAL_SEAL | STK_F_SEAL_SHRINK | STK_F_SEAL_GROW | STK_F_SEAL_WRITE
        guard stk_fcntl_add_seals(memfd, seals) == 0 else {
            let err = Errno.current
            close(memfd)
            throw SandboxError.system(operation: "seal memfd", path: path, errno: err)
        }
        self.fd = memfd
        self.sourcePath = path
        self.size = total
    }

    deinit { close(fd) }
}
