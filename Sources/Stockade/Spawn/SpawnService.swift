import Dispatch
import Glibc
import Synchronization

/// Dedicated, never-exiting threads that call `stk_spawn`.
///
/// PR_SET_PDEATHSIG fires when the *thread* that created the child exits, not the process. Swift's
/// cooperative pool and Dispatch retire idle threads, which would kill every sandbox spawned from
/// them; spawning from threads that live as long as the process makes die-with-parent mean
/// die-with-this-process.
final class SpawnService: Sendable {
    static let shared = SpawnService(threadCount: 2)

    private let jobs = Mutex<[@Sendable () -> Void]>([])
    private let pending = DispatchSemaphore(value: 0)

    private init(threadCount: Int) {
        for _ in 0..<threadCount {
            let box = Unmanaged.passRetained(ServiceBox(self))
            var thread = pthread_t()
            let rc = pthread_create(&thread, nil, { arg in
                guard let arg else { return nil }
                Unmanaged<ServiceBox>.fromOpaque(arg).takeRetainedValue().service.loop()
                return nil
            }, box.toOpaque())
            if rc != 0 { fatalError("cannot start a spawn thread: errno \(rc)") }
            pthread_detach(thread)
        }
    }

    private func loop() {
        while true {
            pending.wait()
            let job = jobs.withLock { $0.isEmpty ? nil : $0.removeFirst() }
            job?()
        }
    }

    private func submit(_ job: @escaping @Sendable () -> Void) {
        jobs.withLock { $0.append(job) }
        pending.signal()
    }

    /// Run `body` on a spawn thread and return its result to an async caller.
    func run<T: Sendable>(_ body: @escaping @Sendable () -> T) async -> T {
        await withCheckedContinuation { continuation in
            submit { continuation.resume(returning: body()) }
        }
    }

    /// Run `body` on a spawn thread, blocking the calling thread until it is done.
    func runBlocking<T: Sendable>(_ body: @escaping @Sendable () -> T) -> T {
        let done = DispatchSemaphore(value: 0)
        let result = Mutex<T?>(nil)
        submit {
            let value = body()
            result.withLock { $0 = value }
            done.signal()
        }
        done.wait()
        return result.withLock { value in
            guard let value else { fatalError("spawn job finished without a result") }
            return value
        }
    }
}

private final class ServiceBox {
    let service: SpawnService
    init(_ service: SpawnService) { self.service = service }
}
