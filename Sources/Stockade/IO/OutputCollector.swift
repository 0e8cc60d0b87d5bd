import CStockade
import Glibc
import Synchronization

/// Reads a pipe to its end without blocking a thread: the reactor drains it as data arrives.
public enum OutputCollector {
    /// Everything written to `fd` until EOF, at most `limit` bytes kept (the rest is read and
    /// dropped so the writer never blocks). Closes `fd`.
    public static func collect(fd: Int32, limit: Int = 64 << 20) async -> (bytes: [UInt8], truncated: Bool) {
        _ = stk_set_nonblock(fd, 1)
        let box = Mutex<(bytes: [UInt8], truncated: Bool)>(([], false))
        return await withCheckedContinuation { continuation in
            let finish: @Sendable () -> Void = {
                continuation.resume(returning: box.withLock { $0 })
            }
            do {
                try Reactor.shared.register(fd: fd) { _ in
                    var buffer = [UInt8](repeating: 0, count: 65536)
                    for _ in 0..<Reactor.readBudget {
                        let n = buffer.withUnsafeMutableBytes { read(fd, $0.baseAddress, $0.count) }
                        if n > 0 {
                            box.withLock { state in
                                let room = limit - state.bytes.count
                                if room > 0 { state.bytes.append(contentsOf: buffer[0..<min(n, room)]) }
                                if n > room { state.truncated = true }
                            }
                            continue
                        }
                        if n < 0 && (errno == EAGAIN || errno == EINTR) { return .keep }
                        finish()
                        return .close // the reactor closes the fd on its own thread
                    }
                    return .keep // more to read: next turn
                }
            } catch {
                close(fd)
                finish()
            }
        }
    }
}
