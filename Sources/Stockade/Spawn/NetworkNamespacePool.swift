import CStockade
import Dispatch
import Glibc
import Synchronization

/// Fresh network namespaces (loopback up, nothing else) made ahead of time on a background
/// thread, so the one expensive namespace is off the spawn's critical path. Each is handed to
/// exactly one sandbox and never reused: it dies with that sandbox's last process.
///
/// They belong to the host's user namespace, not the sandbox's: code inside can use loopback but
/// cannot reconfigure the namespace at all (no CAP_NET_ADMIN over it), which is stricter than a
/// namespace it owns. `STOCKADE_NETNS_POOL=0` turns the pool off (then clone makes each one).
final class NetworkNamespacePool: Sendable {
    static let shared = NetworkNamespacePool(target: {
        if let v = getenv("STOCKADE_NETNS_POOL"), let n = Int(String(cString: v)) { return max(0, min(n, 64)) }
        return 4
    }())

    /// The process's own network namespace, which spawn threads return to after a clone.
    static let hostNamespace: Int32 = stk_netns_current()

    let target: Int
    private let ready = Mutex<[Int32]>([])
    private let wake = DispatchSemaphore(value: 0)
    private let started = Mutex(false)
    private let takes = Mutex(0)
    private let broken = Mutex(false)

    init(target: Int) {
        self.target = target
    }

    /// A namespace fd (the caller closes it after the spawn), or nil: make one in the clone.
    func take() -> Int32? {
        guard target > 0, Self.hostNamespace >= 0, !broken.withLock({ $0 }) else { return nil }
        // A process that spawns once (the CLI) should not pay for a pool: start at the second.
        if takes.withLock({ $0 += 1; return $0 }) >= 2 { startIfNeeded() }
        let fd = ready.withLock { $0.isEmpty ? nil : $0.removeLast() }
        wake.signal()
        return fd
    }

    private func startIfNeeded() {
        let first = started.withLock { s -> Bool in
            defer { s = true }
            return !s
        }
        guard first else { return }
        Thread.detach { [self] in self.fill() }
    }

    private func fill() {
        let home = stk_netns_current()
        guard home >= 0 else { broken.withLock { $0 = true }; return }
        while true {
            while ready.withLock({ $0.count }) < target {
                let fd = stk_netns_create(home)
                if fd < 0 {
                    // Not permitted here (not root, or a container without CAP_SYS_ADMIN): stay off.
                    broken.withLock { $0 = true }
                    return
                }
                ready.withLock { $0.append(fd) }
            }
            wake.wait()
        }
    }

    /// Warm the pool now (for daemons and benchmarks that know they will spawn soon).
    func prime() {
        guard target > 0 else { return }
        startIfNeeded()
        wake.signal()
    }
}
