import CStockade
import Glibc
import Synchronization

/// A small epoll loop on one dedicated thread. It watches pidfds (readable when the process
/// exits) and pipes; handlers run on the loop thread, must be short, and never block.
public final class Reactor: Sendable {
    public enum Action: Sendable { case keep, remove }
    public typealias Handler = @Sendable (_ events: UInt32) -> Action

    public static let shared: Reactor = {
        do { return try Reactor() } catch { fatalError("cannot start the I/O reactor: \(error)") }
    }()

    private let epfd: Int32
    private struct State {
        var nextID: UInt64 = 1
        var handlers: [UInt64: (fd: Int32, handler: Handler)] = [:]
        var idsByFD: [Int32: UInt64] = [:]
    }
    private let state = Mutex(State())

    public init() throws {
        epfd = epoll_create1(Int32(EPOLL_CLOEXEC))
        guard epfd >= 0 else { throw SandboxError.system(operation: "epoll_create1", path: nil, errno: .current) }
        let box = Unmanaged.passRetained(ReactorBox(self))
        var thread = pthread_t()
        let rc = pthread_create(&thread, nil, { arg in
            guard let arg else { return nil }
            let reactor = Unmanaged<ReactorBox>.fromOpaque(arg).takeRetainedValue().reactor
            reactor.run()
            return nil
        }, box.toOpaque())
        guard rc == 0 else {
            box.release()
            throw SandboxError.system(operation: "pthread_create", path: nil, errno: Errno(rawValue: rc))
        }
        pthread_detach(thread)
    }

    /// Watch `fd` for `events` (EPOLLIN by default; EPOLLHUP and EPOLLERR always). The handler
    /// is called on the reactor thread until it returns `.remove` or `unregister` is called.
    public func register(fd: Int32, events: UInt32 = 0x001 /* EPOLLIN */, handler: @escaping Handler) throws {
        let id = state.withLock { s -> UInt64 in
            let id = s.nextID
            s.nextID += 1
            s.handlers[id] = (fd, handler)
            s.idsByFD[fd] = id
            return id
        }
        var event = epoll_event()
        event.events = events
        event.data.u64 = id
        if epoll_ctl(epfd, EPOLL_CTL_ADD, fd, &event) < 0 {
            let err = Errno.current
            state.withLock { s in
                s.handlers[id] = nil
                if s.idsByFD[fd] == id { s.idsByFD[fd] = nil }
            }
            throw SandboxError.system(operation: "epoll_ctl(ADD)", path: nil, errno: err)
        }
    }

    /// Stop watching `fd`. Call before closing it.
    public func unregister(fd: Int32) {
        let had = state.withLock { s -> Bool in
            guard let id = s.idsByFD.removeValue(forKey: fd) else { return false }
            s.handlers[id] = nil
            return true
        }
        if had { _ = epoll_ctl(epfd, EPOLL_CTL_DEL, fd, nil) }
    }

    private func run() {
        let capacity = 64
        let events = UnsafeMutablePointer<epoll_event>.allocate(capacity: capacity)
        while true {
            let n = epoll_wait(epfd, events, Int32(capacity), -1)
            if n < 0 {
                if errno == EINTR { continue }
                fatalError("epoll_wait failed: \(Errno.current)")
            }
            for i in 0..<Int(n) {
                let id = events[i].data.u64
                let mask = events[i].events
                guard let entry = state.withLock({ $0.handlers[id] }) else { continue }
                if entry.handler(mask) == .remove {
                    let removed = state.withLock { s -> Bool in
                        guard s.handlers.removeValue(forKey: id) != nil else { return false }
                        if s.idsByFD[entry.fd] == id { s.idsByFD[entry.fd] = nil }
                        return true
                    }
                    if removed { _ = epoll_ctl(epfd, EPOLL_CTL_DEL, entry.fd, nil) }
                }
            }
        }
    }
}

private final class ReactorBox {
    let reactor: Reactor
    init(_ reactor: Reactor) { self.reactor = reactor }
}
