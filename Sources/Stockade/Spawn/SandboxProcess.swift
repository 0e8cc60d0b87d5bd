import CStockade
import Dispatch
import Glibc
import Synchronization

/// A running sandboxed process: wait for it, kill it, read its output.
///
/// The process is reaped through its pidfd by the reactor thread as soon as it exits, whether or
/// not anyone waits. Its pidfd stays open until this object goes away, so `kill` can never hit a
/// recycled pid.
public final class SandboxProcess: Sendable {
    public let pid: Int32
    /// Parent ends of the stdio pipes (for `.pipe` streams), else -1. The caller owns them.
    public let stdin: Int32
    public let stdout: Int32
    public let stderr: Int32
    public let cgroup: Cgroup?
    public let startedAt: ContinuousClock.Instant

    private let pidfd: Int32
    private let pidfdToken = Mutex<Reactor.Token?>(nil)
    private let ownsCgroup: Bool
    private let cpuLimit: Double?
    private let image: ExecutableImage?   // kept alive while the process may still exec it

    private struct State {
        var outcome: ProcessOutcome?
        var waiters: [CheckedContinuation<ProcessOutcome, Never>] = []
        var wallExceeded = false
    }
    private let state = Mutex(State())
    private let reaped = DispatchSemaphore(value: 0)

    init(pid: Int32, pidfd: Int32, stdin: Int32, stdout: Int32, stderr: Int32, cgroup: Cgroup?,
         ownsCgroup: Bool, wallLimit: Double?, cpuLimit: Double?, started: ContinuousClock.Instant,
         image: ExecutableImage?) {
        self.pid = pid
        self.pidfd = pidfd
        self.stdin = stdin
        self.stdout = stdout
        self.stderr = stderr
        self.cgroup = cgroup
        self.ownsCgroup = ownsCgroup
        self.cpuLimit = cpuLimit
        self.startedAt = started
        self.image = image
        do {
            let token = try Reactor.shared.register(fd: pidfd) { [weak self] _ in
                guard let self else { return .remove }
                return self.reap() ? .remove : .keep
            }
            pidfdToken.withLock { $0 = token }
        } catch {
            // Without the reactor nobody would reap: do it on a thread of its own.
            Thread.detach { [self] in
                while !self.reap(blocking: true) {}
            }
        }
        if let wallLimit {
            // On the reactor's own thread: a busy process cannot make a wall-clock limit late.
            Reactor.shared.schedule(after: wallLimit) { [weak self] in self?.killForWallTime() }
        }
    }

    deinit {
        // The pidfd stays open until now so `kill` can never hit a recycled pid; the reactor
        // closes it on its own thread, after any handler that may still hold it.
        if let token = pidfdToken.withLock({ $0 }) { Reactor.shared.disposeSoon(token) } else { close(pidfd) }
    }

    /// Whether it has exited (and was reaped).
    public var hasExited: Bool { state.withLock { $0.outcome != nil } }

    /// Send `signal` to the process (PID 1 of its sandbox: SIGKILL ends the whole sandbox).
    public func kill(_ signal: Int32 = SIGKILL) {
        let alive = state.withLock { $0.outcome == nil }
        guard alive else { return }
        _ = stk_pidfd_send_signal(pidfd, signal)
    }

    private func killForWallTime() {
        let alive = state.withLock { s -> Bool in
            guard s.outcome == nil else { return false }
            s.wallExceeded = true
            return true
        }
        if alive {
            _ = stk_pidfd_send_signal(pidfd, SIGKILL)
            if ownsCgroup { cgroup?.killAll() }
        }
    }

    /// Wait until it exits.
    public func wait() async -> ProcessOutcome {
        await withCheckedContinuation { continuation in
            let done = state.withLock { s -> ProcessOutcome? in
                if let outcome = s.outcome { return outcome }
                s.waiters.append(continuation)
                return nil
            }
            if let done { continuation.resume(returning: done) }
        }
    }

    /// Block the calling thread until it exits.
    public func waitBlocking() -> ProcessOutcome {
        reaped.wait()
        reaped.signal()
        return state.withLock { s in
            guard let outcome = s.outcome else { fatalError("reaped without an outcome") }
            return outcome
        }
    }

    /// Reap if it exited. Returns true once reaped.
    private func reap(blocking: Bool = false) -> Bool {
        var who: Int32 = 0, code: Int32 = 0, status: Int32 = 0
        var ru = rusage()
        let options = WEXITED | (blocking ? 0 : WNOHANG)
        let rc = stk_waitid_pidfd(pidfd, options, &who, &code, &status, &ru)
        if rc < 0 {
            if errno == EINTR || errno == EAGAIN { return false }
            // ECHILD: someone else reaped it; report what we can.
            complete(ProcessOutcome(termination: .signaled(0), wallSeconds: elapsed(), userCPUSeconds: 0,
                                    systemCPUSeconds: 0, peakRSSBytes: 0, wallTimeExceeded: false,
                                    oomKilled: false, cgroupPeakMemoryBytes: nil))
            return true
        }
        if who == 0 { return false }
        let termination: ProcessOutcome.Termination
        switch code {
        case Int32(CLD_EXITED): termination = .exited(status)
        default: termination = .signaled(status)
        }
        var outcome = ProcessOutcome(
            termination: termination,
            wallSeconds: elapsed(),
            userCPUSeconds: Double(ru.ru_utime.tv_sec) + Double(ru.ru_utime.tv_usec) / 1e6,
            systemCPUSeconds: Double(ru.ru_stime.tv_sec) + Double(ru.ru_stime.tv_usec) / 1e6,
            peakRSSBytes: UInt64(max(0, ru.ru_maxrss)) * 1024,
            wallTimeExceeded: false,
            oomKilled: (cgroup?.oomKills() ?? 0) > 0 && ownsCgroup,
            cgroupPeakMemoryBytes: ownsCgroup ? cgroup?.memoryPeak() : nil)
        outcome.cpuLimitSeconds = cpuLimit
        let finished = outcome
        if ownsCgroup, let cgroup {
            // Removing the group can wait for its last processes to go: not on the reactor
            // thread. Waiters are told once it is gone, so nothing of the sandbox outlives wait().
            Thread.detach { [self] in
                cgroup.destroy()
                self.complete(finished)
            }
        } else {
            complete(finished)
        }
        return true
    }

    private func complete(_ outcome: ProcessOutcome) {
        let waiters = state.withLock { s -> [CheckedContinuation<ProcessOutcome, Never>] in
            var o = outcome
            o.wallTimeExceeded = s.wallExceeded
            s.outcome = o
            let w = s.waiters
            s.waiters = []
            return w
        }
        reaped.signal()
        let final = state.withLock { $0.outcome ?? outcome }
        for w in waiters { w.resume(returning: final) }
    }

    private func elapsed() -> Double {
        let d = ContinuousClock.now - startedAt
        return Double(d.components.seconds) + Double(d.components.attoseconds) / 1e18
    }
}

/// A detached pthread running a closure (no Foundation).
enum Thread {
    static func detach(_ body: @escaping @Sendable () -> Void) {
        final class Box { let body: @Sendable () -> Void; init(_ b: @escaping @Sendable () -> Void) { body = b } }
        let box = Unmanaged.passRetained(Box(body))
        var t = pthread_t()
        let rc = pthread_create(&t, nil, { arg in
            guard let arg else { return nil }
            Unmanaged<Box>.fromOpaque(arg).takeRetainedValue().body()
            return nil
        }, box.toOpaque())
        if rc == 0 { pthread_detach(t) } else { box.release() }
    }
}
