import CStockade
import Glibc

/// The worker's single-threaded epoll loop. Handlers run on the main thread, one at a time.
final class EventLoop {
    typealias Handler = (_ events: UInt32) -> Void
    private let epfd: Int32
    private var handlers: [Int32: Handler] = [:]

    static let readable: UInt32 = 0x001   // EPOLLIN
    static let writable: UInt32 = 0x004   // EPOLLOUT
    static let hangup: UInt32 = 0x010     // EPOLLHUP
    static let error: UInt32 = 0x008      // EPOLLERR

    init() {
        epfd = epoll_create1(Int32(EPOLL_CLOEXEC))
        if epfd < 0 { WorkerLog.fatal("epoll_create1 failed: errno \(errno)") }
    }

    func watch(_ fd: Int32, events: UInt32 = EventLoop.readable, _ handler: @escaping Handler) {
        handlers[fd] = handler
        var ev = epoll_event()
        ev.events = events
        ev.data.fd = fd
        if epoll_ctl(epfd, EPOLL_CTL_ADD, fd, &ev) < 0 && errno == EEXIST {
            _ = epoll_ctl(epfd, EPOLL_CTL_MOD, fd, &ev)
        }
    }

    func modify(_ fd: Int32, events: UInt32) {
        var ev = epoll_event()
        ev.events = events
        ev.data.fd = fd
        _ = epoll_ctl(epfd, EPOLL_CTL_MOD, fd, &ev)
    }

    /// Stop watching and close `fd`.
    func closeFD(_ fd: Int32) {
        if handlers.removeValue(forKey: fd) != nil { _ = epoll_ctl(epfd, EPOLL_CTL_DEL, fd, nil) }
        close(fd)
    }

    /// Wait up to `timeoutMs` (-1: forever) and dispatch what is ready.
    func runOnce(timeoutMs: Int32) {
        var events = [epoll_event](repeating: epoll_event(), count: 32)
        let n = events.withUnsafeMutableBufferPointer { epoll_wait(epfd, $0.baseAddress, 32, timeoutMs) }
        if n < 0 { return }
        for i in 0..<Int(n) {
            let fd = events[i].data.fd
            handlers[fd]?(events[i].events)
        }
    }
}

/// Monotonic milliseconds.
func nowMs() -> Double {
    var ts = timespec()
    clock_gettime(CLOCK_MONOTONIC, &ts)
    return Double(ts.tv_sec) * 1000 + Double(ts.tv_nsec) / 1e6
}

/// Diagnostics go to stderr, which the host reads as the worker's log.
enum WorkerLog {
    static func info(_ message: String) {
        let line = "stockade-worker: " + message + "\n"
        line.withCString { _ = write(2, $0, strlen($0)) }
    }

    static func fatal(_ message: String) -> Never {
        info("fatal: " + message)
        exit(70)
    }
}
