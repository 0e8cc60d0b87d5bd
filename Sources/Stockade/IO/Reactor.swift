import CStockade
import Glibc
import Synchronization

/// A small epoll loop on one dedicated thread. It watches pidfds (readable when the process
/// exits) and pipes; handlers run on the loop thread, must be short, and never block. A reader
/// takes at most `readBudget` chunks per call and returns `.keep`: the loop is level-triggered,
/// so the rest comes next turn, after the other fds and the timers had theirs (a flooding worker
/// must not delay another sandbox's wall-clock kill).
///
/// An fd registered here is closed only on the reactor thread (a handler returning `.close`, or
/// `close(_:)`), so no thread can ever read from or close an fd number that was just recycled.
public final class Reactor: Sendable {
    public enum Action: Sendable {
        /// Keep watching.
        case keep
        /// Stop watching; the caller still owns the fd.
        case remove
        /// Stop watching and close the fd.
        case close
    }

    public typealias Handler = @Sendable (_ events: UInt32) -> Action

    /// A registration.
    public struct Token: Sendable, Hashable {
        public let id: UInt64
        public let fd: Int32
    }

    public static let shared: Reactor = {
        do { return try Reactor() } catch { fatalError("cannot start the I/O reactor: \(error)") }
    }()

    public static let readable: UInt32 = 0x001
    /// Most reads of 64 KiB a handler does per call.
    public static let readBudget = 4
    public static let writable: UInt32 = 0x004

    private let epfd: Int32
    private let wakeRead: Int32
    private let wakeWrite: Int32
    private struct State {
        var nextID: UInt64 = 2 // 0: the wake-up pipe, 1: the timer
        var handlers: [UInt64: (fd: Int32, handler: Handler)] = [:]
        var jobs: [@Sendable () -> Void] = []
        /// Pending timers, earliest first.
        var timers: [(deadline: Double, id: UInt64, action: @Sendable () -> Void)] = []
        var armedFor: Double = .infinity
    }
    private let timerFD: Int32
    private let state = Mutex(State())

    public init() throws {
        epfd = epoll_create1(Int32(EPOLL_CLOEXEC))
        guard epfd >= 0 else { throw SandboxError.system(operation: "epoll_create1", path: nil, errno: .current) }
        var fds: [Int32] = [-1, -1]
        guard stk_pipe2(&fds, O_CLOEXEC | O_NONBLOCK) == 0 else {
            throw SandboxError.system(operation: "pipe2", path: nil, errno: .current)
        }
        wakeRead = fds[0]
        wakeWrite = fds[1]
        var event = epoll_event()
        event.events = Reactor.readable
        event.data.u64 = 0 // id 0: the wake-up pipe
        _ = epoll_ctl(epfd, EPOLL_CTL_ADD, wakeRead, &event)
        timerFD = timerfd_create(CLOCK_MONOTONIC, Int32(TFD_CLOEXEC | TFD_NONBLOCK))
        guard timerFD >= 0 else { throw SandboxError.system(operation: "timerfd_create", path: nil, errno: .current) }
        var timerEvent = epoll_event()
        timerEvent.events = Reactor.readable
        timerEvent.data.u64 = 1 // id 1: the timer
        _ = epoll_ctl(epfd, EPOLL_CTL_ADD, timerFD, &timerEvent)
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

    /// Watch `fd` for `events` (readable by default; hang-up and errors always). The handler runs
    /// on the reactor thread until it returns `.remove` or `.close`, or `close(_:)` is called.
    @discardableResult
    public func register(fd: Int32, events: UInt32 = Reactor.readable, handler: @escaping Handler) throws -> Token {
        let id = state.withLock { s -> UInt64 in
            let id = s.nextID
            s.nextID += 1
            s.handlers[id] = (fd, handler)
            return id
        }
        var event = epoll_event()
        event.events = events
        event.data.u64 = id
        if epoll_ctl(epfd, EPOLL_CTL_ADD, fd, &event) < 0 {
            let err = Errno.current
            _ = state.withLock { $0.handlers.removeValue(forKey: id) }
            throw SandboxError.system(operation: "epoll_ctl(ADD)", path: nil, errno: err)
        }
        return Token(id: id, fd: fd)
    }

    /// Change the events a registration waits for (0: none, for now).
    public func modify(_ token: Token, events: UInt32) {
        post { [self] in
            guard state.withLock({ $0.handlers[token.id] != nil }) else { return }
            var event = epoll_event()
            event.events = events
            event.data.u64 = token.id
            _ = epoll_ctl(epfd, EPOLL_CTL_MOD, token.fd, &event)
        }
    }

    /// Stop watching and close the fd, on the reactor thread. Idempotent: a registration already
    /// closed (by its handler) is left alone. Returns once it is done.
    public func close(_ token: Token) async {
        await withCheckedContinuation { (c: CheckedContinuation<Void, Never>) in
            post { [self] in
                self.closeOnLoop(token.id)
                c.resume()
            }
        }
    }

    /// Like `close(_:)` without waiting (for deinit).
    public func closeSoon(_ token: Token) {
        post { [self] in self.closeOnLoop(token.id) }
    }

    /// For an fd whose handler never closes it (a pidfd kept for `kill`): stop watching if still
    /// watched and close it, on the reactor thread, without waiting.
    public func disposeSoon(_ token: Token) {
        post { [self] in
            if state.withLock({ $0.handlers.removeValue(forKey: token.id) }) != nil {
                _ = epoll_ctl(epfd, EPOLL_CTL_DEL, token.fd, nil)
            }
            Glibc.close(token.fd)
        }
    }

    /// Stop watching `token` without closing (the caller owns the fd). Returns once done.
    public func unregister(_ token: Token) async {
        await withCheckedContinuation { (c: CheckedContinuation<Void, Never>) in
            post { [self] in
                if let entry = state.withLock({ $0.handlers.removeValue(forKey: token.id) }) {
                    _ = epoll_ctl(epfd, EPOLL_CTL_DEL, entry.fd, nil)
                }
                c.resume()
            }
        }
    }

    private func closeOnLoop(_ id: UInt64) {
        guard let entry = state.withLock({ $0.handlers.removeValue(forKey: id) }) else { return }
        _ = epoll_ctl(epfd, EPOLL_CTL_DEL, entry.fd, nil)
        Glibc.close(entry.fd)
    }

    // MARK: Timers

    /// Monotonic seconds.
    public static func now() -> Double {
        var ts = timespec()
        clock_gettime(CLOCK_MONOTONIC, &ts)
        return Double(ts.tv_sec) + Double(ts.tv_nsec) / 1e9
    }

    /// Run `action` on the reactor thread after `seconds`. Timeouts and wall-clock limits use
    /// this, never the shared thread pool, which a busy process can starve. The action must be
    /// short (a kill, a resume). Returns an id for `cancelTimer`.
    @discardableResult
    public func schedule(after seconds: Double, _ action: @escaping @Sendable () -> Void) -> UInt64 {
        let deadline = Self.now() + max(0, seconds)
        return state.withLock { s -> UInt64 in
            let id = s.nextID
            s.nextID += 1
            let index = s.timers.firstIndex { $0.deadline > deadline } ?? s.timers.count
            s.timers.insert((deadline, id, action), at: index)
            if deadline < s.armedFor { arm(&s, deadline) }
            return id
        }
    }

    /// Forget a timer that has not fired (a no-op if it has).
    public func cancelTimer(_ id: UInt64) {
        state.withLock { s in s.timers.removeAll { $0.id == id } }
    }

    private func arm(_ s: inout State, _ deadline: Double) {
        s.armedFor = deadline
        var spec = itimerspec()
        let secs = deadline.rounded(.down)
        spec.it_value.tv_sec = Int(secs)
        spec.it_value.tv_nsec = max(1, Int((deadline - secs) * 1e9))
        _ = timerfd_settime(timerFD, Int32(TFD_TIMER_ABSTIME), &spec, nil)
    }

    private func fireTimers() {
        var expirations: UInt64 = 0
        _ = read(timerFD, &expirations, 8)
        let now = Self.now()
        let due = state.withLock { s -> [@Sendable () -> Void] in
            let n = s.timers.firstIndex { $0.deadline > now } ?? s.timers.count
            let due = s.timers[0..<n].map(\.action)
            s.timers.removeFirst(n)
            s.armedFor = .infinity
            if let next = s.timers.first { arm(&s, next.deadline) }
            return due
        }
        for action in due { action() }
    }

    /// Run `job` on the reactor thread after the events already waiting (for work a handler
    /// splits into turns).
    public func later(_ job: @escaping @Sendable () -> Void) {
        post(job)
    }

    /// Run `job` on the reactor thread.
    private func post(_ job: @escaping @Sendable () -> Void) {
        state.withLock { $0.jobs.append(job) }
        var one: UInt8 = 1
        _ = write(wakeWrite, &one, 1)
    }

    private func run() {
        let capacity = 64
        let events = UnsafeMutablePointer<epoll_event>.allocate(capacity: capacity)
        var drain = [UInt8](repeating: 0, count: 256)
        while true {
            let n = epoll_wait(epfd, events, Int32(capacity), -1)
            if n < 0 {
                if errno == EINTR { continue }
                fatalError("epoll_wait failed: \(Errno.current)")
            }
            for i in 0..<Int(n) {
                let id = events[i].data.u64
                if id == 1 {
                    fireTimers()
                    continue
                }
                if id == 0 {
                    while drain.withUnsafeMutableBytes({ read(wakeRead, $0.baseAddress, $0.count) }) > 0 {}
                    let jobs = state.withLock { s -> [@Sendable () -> Void] in
                        defer { s.jobs.removeAll() }
                        return s.jobs
                    }
                    for job in jobs { job() }
                    continue
                }
                guard let entry = state.withLock({ $0.handlers[id] }) else { continue }
                switch entry.handler(events[i].events) {
                case .keep:
                    continue
                case .remove:
                    if state.withLock({ $0.handlers.removeValue(forKey: id) }) != nil {
                        _ = epoll_ctl(epfd, EPOLL_CTL_DEL, entry.fd, nil)
                    }
                case .close:
                    closeOnLoop(id)
                }
            }
        }
    }
}

private final class ReactorBox {
    let reactor: Reactor
    init(_ reactor: Reactor) { self.reactor = reactor }
}
