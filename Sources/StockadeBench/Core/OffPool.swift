import Glibc

/// Runs blocking work (a peer's spawn and wait) on a thread of its own, so that N concurrent
/// clients of a throughput run really have N peers in flight: on Swift's cooperative pool (one
/// thread per core) a blocking wait would hold a pool thread and cap the concurrency at the core
/// count.
enum OffPool {
    private final class Job: @unchecked Sendable {
        let body: () -> Void
        init(_ body: @escaping () -> Void) { self.body = body }
    }

    static func run(_ body: @escaping @Sendable () throws -> Void) async throws {
        let result: Result<Void, any Error> = await withCheckedContinuation { done in
            let job = Job { done.resume(returning: Result { try body() }) }
            var thread = pthread_t()
            var attr = pthread_attr_t()
            pthread_attr_init(&attr)
            pthread_attr_setdetachstate(&attr, Int32(PTHREAD_CREATE_DETACHED))
            let rc = pthread_create(&thread, &attr, { arg in
                guard let arg else { return nil }
                Unmanaged<Job>.fromOpaque(arg).takeRetainedValue().body()
                return nil
            }, Unmanaged.passRetained(job).toOpaque())
            pthread_attr_destroy(&attr)
            if rc != 0 {
                // No thread: run it here rather than fail the measurement.
                Unmanaged.passUnretained(job).release()
                job.body()
            }
        }
        try result.get()
    }
}
