import CStockade
import Glibc
import Logging

/// Reads a worker's stderr (its log) and forwards complete lines to swift-log, so a chatty or
/// hostile worker can never fill the pipe and block, nor flood the host's log (bounded per worker).
enum WorkerLogDrain {
    static let logger = Logger(label: "stockade.worker")

    /// Returns the registration, for closing it when the worker is stopped.
    @discardableResult
    static func start(fd: Int32, pid: Int32) -> Reactor.Token? {
        guard fd >= 0 else { return nil }
        _ = stk_set_nonblock(fd, 1)
        final class State: @unchecked Sendable { var pending: [UInt8] = []; var logged = 0 }
        let state = State() // only touched on the reactor thread
        do {
            return try Reactor.shared.register(fd: fd) { _ in
                var buf = [UInt8](repeating: 0, count: 16384)
                for _ in 0..<Reactor.readBudget {
                    let n = buf.withUnsafeMutableBytes { read(fd, $0.baseAddress, $0.count) }
                    if n > 0 {
                        state.pending += buf[0..<n]
                        while let nl = state.pending.firstIndex(of: 10) {
                            let line = String(decoding: state.pending[..<nl].prefix(2000), as: UTF8.self)
                            state.pending.removeSubrange(...nl)
                            if state.logged < 1000 {
                                state.logged += 1
                                logger.warning("\(line)", metadata: ["worker_pid": "\(pid)"])
                            }
                        }
                        if state.pending.count > 8192 { state.pending.removeAll() }
                        continue
                    }
                    if n < 0 && (errno == EAGAIN || errno == EINTR) { return .keep }
                    return .close
                }
                return .keep
            }
        } catch {
            close(fd)
            return nil
        }
    }
}
