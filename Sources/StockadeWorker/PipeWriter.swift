import CStockade
import Glibc

/// Writes whole buffers to pipes without blocking the loop: what does not fit now waits for the
/// pipe to drain. Each fd is closed once its buffer is written (or the reader is gone).
final class PipeWriter {
    private let loop: EventLoop
    private var pending: [Int32: (bytes: [UInt8], offset: Int)] = [:]

    init(loop: EventLoop) { self.loop = loop }

    /// Write `bytes` to `fd` and close it after.
    func send(_ bytes: [UInt8], to fd: Int32) {
        _ = stk_set_nonblock(fd, 1)
        pending[fd] = (bytes, 0)
        if !drain(fd) { loop.watch(fd, events: EventLoop.writable) { [unowned self] _ in _ = self.drain(fd) } }
    }

    /// Returns true when `fd` is done (written and closed).
    private func drain(_ fd: Int32) -> Bool {
        guard var entry = pending[fd] else { return true }
        while entry.offset < entry.bytes.count {
            let n = entry.bytes.withUnsafeBytes { write(fd, $0.baseAddress.map { $0 + entry.offset }, entry.bytes.count - entry.offset) }
            if n > 0 { entry.offset += n; continue }
            if n < 0 && errno == EINTR { continue }
            if n < 0 && errno == EAGAIN {
                pending[fd] = entry
                return false
            }
            break // EPIPE: the reader is gone
        }
        pending[fd] = nil
        loop.closeFD(fd)
        return true
    }

    /// Drop what is queued for `fd` and close it.
    func abandon(_ fd: Int32) {
        if pending.removeValue(forKey: fd) != nil { loop.closeFD(fd) }
    }
}
