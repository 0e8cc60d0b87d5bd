import Dispatch
import Glibc
import StockadeProtocol

/// The orchestrator: routes each user's requests to that user's warm worker (user affinity),
/// starts workers on demand, and keeps the machine inside its limits. The actor only keeps the
/// books; executions run outside it, so a long request never holds up another.
public actor WorkerPool {
    /// Builds the worker configuration of a user (identity, directories, environment, limits).
    public typealias Factory = @Sendable (_ user: String) async throws -> WorkerConfiguration

    /// One user's worker, starting or ready. @unchecked: its fields are read and written only on
    /// the actor; code outside only holds it to hand it back to `release`.
    final class Slot: @unchecked Sendable {
        let user: String
        let generation: Int
        var worker: Worker?
        var start: Task<Worker, any Error>?
        var startedAt: Double = 0
        var running = 0
        var lastUsed: Double
        /// Being stopped by the pool (evicted, reaped, shut down): its exit is not a crash.
        var retiring = false

        init(user: String, generation: Int, now: Double) {
            self.user = user
            self.generation = generation
            lastUsed = now
        }
    }

    public let configuration: PoolConfiguration
    private let factory: Factory
    private var slots: [String: Slot] = [:]
    private var waiters: [(id: Int, continuation: CheckedContinuation<Bool, Never>)] = []
    private var nextWaiter = 0
    private var generation = 0
    private var failures: [String: (count: Int, nextAllowed: Double, last: String)] = [:]
    private var accepting = true
    private var maintenance: Task<Void, Never>?
    private var retiringWorkers: [Int: Worker] = [:]

    // Counters.
    private var started = 0, reaped = 0, evicted = 0, crashed = 0, startFailures = 0, served = 0
    private var byStatus: [String: Int] = [:]
    private var failed: [String: Int] = [:]
    private var queueWait = LatencyHistogram()
    private var workerStart = LatencyHistogram()
    private var executionTime = LatencyHistogram()
    private let metrics = PoolMetrics()

    public init(configuration: PoolConfiguration = PoolConfiguration(), factory: @escaping Factory) {
        self.configuration = configuration
        self.factory = factory
        Sandbox.prime()
    }

    /// Start the background loop that reaps idle workers and checks health.
    public func startMaintenance() {
        guard maintenance == nil else { return }
        let interval = configuration.maintenanceIntervalSeconds
        maintenance = Task { [weak self] in
            while !Task.isCancelled {
                try? await Task.sleep(for: .milliseconds(Int(interval * 1000)))
                await self?.maintain()
            }
        }
    }

    static func now() -> Double {
        var ts = timespec()
        clock_gettime(CLOCK_MONOTONIC, &ts)
        return Double(ts.tv_sec) + Double(ts.tv_nsec) / 1e9
    }

    // MARK: Requests

    /// Run `request` in `user`'s worker and wait for the result.
    public nonisolated func execute(user: String, request: ExecuteParams) async throws(PoolError) -> ExecutionResult {
        let (slot, worker) = try await acquire(user)
        let started = Self.now()
        do {
            let result = try await worker.execute(capped(request))
            await release(slot, status: result.status.rawValue, error: nil, ms: (Self.now() - started) * 1000)
            return result
        } catch {
            let pe = PoolError.from(error)
            await release(slot, status: nil, error: pe.code, ms: (Self.now() - started) * 1000)
            throw pe
        }
    }

    /// Run `request` in `user`'s worker, yielding output as it happens, then the result.
    public nonisolated func executeStreaming(user: String, request: ExecuteParams) -> AsyncThrowingStream<WorkerEvent, any Error> {
        let (stream, continuation) = AsyncThrowingStream<WorkerEvent, any Error>.makeStream()
        let task = Task {
            let slot: Slot
            let worker: Worker
            do {
                (slot, worker) = try await acquire(user)
            } catch {
                continuation.finish(throwing: error)
                return
            }
            let started = Self.now()
            var status: String?
            do {
                for try await event in worker.executeStreaming(capped(request)) {
                    if case let .result(r) = event { status = r.status.rawValue }
                    continuation.yield(event)
                }
                await release(slot, status: status, error: status == nil ? "no_result" : nil, ms: (Self.now() - started) * 1000)
                continuation.finish()
            } catch {
                let pe = (error as? WorkerError).map(PoolError.from) ?? PoolError.worker(.protocolViolation("\(error)"))
                await release(slot, status: nil, error: pe.code, ms: (Self.now() - started) * 1000)
                continuation.finish(throwing: pe)
            }
        }
        continuation.onTermination = { _ in task.cancel() }
        return stream
    }

    /// Cancel an execution running in `user`'s worker.
    public func cancel(user: String, executionID: String) async throws(PoolError) {
        guard let worker = slots[user]?.worker else { throw .worker(.rpc(.executionNotFound("no worker for user '\(user)'"))) }
        do { try await worker.cancel(executionID: executionID) } catch { throw .from(error) }
    }

    /// The pid of `user`'s worker, if one is running (tests check affinity with it).
    public func workerPID(user: String) -> Int32? { slots[user]?.worker?.pid }

    private nonisolated func capped(_ request: ExecuteParams) -> ExecuteParams {
        var r = request
        let maxMs = Int64(configuration.requestTimeoutSeconds * 1000)
        r.limits.wallMs = min(r.limits.wallMs ?? maxMs, maxMs)
        return r
    }

    // MARK: Acquire and release

    private func acquire(_ user: String) async throws(PoolError) -> (Slot, Worker) {
        do { _ = try UserID(user) } catch { throw .invalidRequest(error.description) }
        let queuedAt = Self.now()
        let deadline = queuedAt + configuration.queueTimeoutSeconds
        let limit = min(configuration.maxConcurrentPerWorker, configuration.maxConcurrentPerUser)
        while true {
            guard accepting else { throw .shuttingDown }
            if let slot = slots[user], !slot.retiring {
                if let worker = slot.worker {
                    if !worker.isAlive {
                        remove(slot)
                        continue
                    }
                    if slot.running < limit {
                        slot.running += 1
                        slot.lastUsed = Self.now()
                        recordQueueWait(since: queuedAt)
                        return (slot, worker)
                    }
                } else if let start = slot.start {
                    // Concurrent first requests of one user share one start.
                    let result = await start.result
                    switch result {
                    case .success: continue
                    case let .failure(error):
                        if let pe = error as? PoolError { throw pe }
                        throw .workerStartFailed("\(error)")
                    }
                }
            } else if slots[user] == nil, slots.count < configuration.maxWorkers || evictIdle() {
                if let f = failures[user], f.nextAllowed > Self.now() {
                    let wait = f.nextAllowed - Self.now()
                    if f.nextAllowed > deadline { throw .backoff(retryAfterSeconds: wait, lastError: f.last) }
                    try? await Task.sleep(for: .milliseconds(Int(wait * 1000) + 1))
                    continue
                }
                // The new worker is reserved for this request (running = 1 from the start), so no
                // other user can evict it in the instant between its start and its first use.
                let slot = startWorker(for: user)
                guard let start = slot.start else { continue }
                switch await start.result {
                case let .success(worker):
                    if slots[user] === slot, worker.isAlive {
                        slot.lastUsed = Self.now()
                        recordQueueWait(since: queuedAt)
                        return (slot, worker)
                    }
                    slot.running -= 1
                    continue
                case let .failure(error):
                    if let pe = error as? PoolError { throw pe }
                    throw .workerStartFailed("\(error)")
                }
            }
            // No capacity now: wait until something frees up, or the queue timeout.
            var freed = false
            if Self.now() < deadline { freed = await waitForCapacity(until: deadline) }
            if !freed {
                failed["pool_exhausted", default: 0] += 1
                throw .poolExhausted(waitedSeconds: Self.now() - queuedAt, retryAfterSeconds: estimateRetryAfter())
            }
        }
    }

    private func release(_ slot: Slot, status: String?, error: String?, ms: Double) {
        slot.running -= 1
        slot.lastUsed = Self.now()
        executionTime.record(ms)
        metrics.execution(ms: ms)
        if let status {
            served += 1
            byStatus[status, default: 0] += 1
            metrics.served(status: status)
            // A worker that served a request is healthy: forget its past failed starts.
            failures[slot.user] = nil
        }
        if let error {
            failed[error, default: 0] += 1
            metrics.failed(code: error)
        }
        wakeWaiters()
    }

    private func recordQueueWait(since: Double) {
        let ms = (Self.now() - since) * 1000
        queueWait.record(ms)
        metrics.queueWait(ms: ms)
    }

    /// A rough hint for Retry-After: the typical execution time, at least one second.
    private func estimateRetryAfter() -> Double {
        max(1, executionTime.summary.p50Ms / 1000)
    }

    private func waitForCapacity(until deadline: Double) async -> Bool {
        nextWaiter += 1
        let id = nextWaiter
        metrics.queueDepth(waiters.count + 1)
        return await withCheckedContinuation { continuation in
            waiters.append((id, continuation))
            let delay = max(0, deadline - Self.now())
            Reactor.shared.schedule(after: delay) { [weak self] in
                Task { await self?.expireWaiter(id) }
            }
        }
    }

    private func expireWaiter(_ id: Int) {
        guard let i = waiters.firstIndex(where: { $0.id == id }) else { return }
        waiters.remove(at: i).continuation.resume(returning: false)
        metrics.queueDepth(waiters.count)
    }

    /// Something freed up: let every waiter look again, first come first served.
    private func wakeWaiters() {
        guard !waiters.isEmpty else { return }
        let w = waiters
        waiters.removeAll()
        metrics.queueDepth(0)
        for waiter in w { waiter.continuation.resume(returning: true) }
    }

    // MARK: Workers

    private func startWorker(for user: String) -> Slot {
        generation += 1
        let slot = Slot(user: user, generation: generation, now: Self.now())
        slot.startedAt = slot.lastUsed
        slot.running = 1 // reserved for the request that asked for it
        slots[user] = slot
        let factory = self.factory
        let startup = configuration.startupTimeoutSeconds
        slot.start = Task {
            let begin = Self.now()
            do {
                var config = try await factory(user)
                config.startupTimeoutSeconds = startup
                let worker = try await Worker.start(config)
                self.workerStarted(slot, worker, ms: (Self.now() - begin) * 1000)
                return worker
            } catch {
                self.workerFailedToStart(slot, error)
                throw PoolError.workerStartFailed("\(error)")
            }
        }
        return slot
    }

    private func workerStarted(_ slot: Slot, _ worker: Worker, ms: Double) {
        slot.worker = worker
        slot.start = nil
        slot.startedAt = Self.now()
        started += 1
        workerStart.record(ms)
        metrics.workerStarted(ms: ms)
        if slots[slot.user] !== slot || !accepting {
            // Shut down or replaced while starting.
            retire(slot)
        } else {
            Task { [weak self] in
                let outcome = await worker.waitForExit()
                await self?.workerExited(slot, outcome)
            }
        }
        wakeWaiters()
    }

    private func workerFailedToStart(_ slot: Slot, _ error: any Error) {
        startFailures += 1
        recordFailure(slot.user, "\(error)")
        if slots[slot.user] === slot { slots[slot.user] = nil }
        wakeWaiters()
    }

    private func recordFailure(_ user: String, _ message: String) {
        let count = (failures[user]?.count ?? 0) + 1
        let delay = min(configuration.crashBackoffMaxSeconds, configuration.crashBackoffBaseSeconds * Double(1 << min(count - 1, 20)))
        failures[user] = (count, Self.now() + delay, message)
    }

    private func workerExited(_ slot: Slot, _ outcome: ProcessOutcome) {
        if slots[slot.user] === slot { slots[slot.user] = nil }
        if !slot.retiring {
            crashed += 1
            metrics.crashed()
            if Self.now() - slot.startedAt < configuration.crashLoopWindowSeconds {
                recordFailure(slot.user, "the worker died \(Int((Self.now() - slot.startedAt) * 1000)) ms after starting (\(Worker.describe(outcome)))")
            }
        }
        wakeWaiters()
    }

    private func remove(_ slot: Slot) {
        if slots[slot.user] === slot { slots[slot.user] = nil }
        wakeWaiters()
    }

    /// Stop a worker the pool no longer wants (its exit is not a crash).
    private func retire(_ slot: Slot) {
        slot.retiring = true
        if slots[slot.user] === slot { slots[slot.user] = nil }
        guard let worker = slot.worker else { return }
        retiringWorkers[slot.generation] = worker
        Task { [weak self] in
            await worker.stop(grace: 1)
            await self?.retired(slot.generation)
        }
    }

    private func retired(_ generation: Int) {
        retiringWorkers[generation] = nil
        wakeWaiters()
    }

    /// Make room for a new user: stop the least recently used idle worker.
    private func evictIdle() -> Bool {
        let idle = slots.values.filter { $0.worker != nil && $0.running == 0 && !$0.retiring }
        guard let lru = idle.min(by: { $0.lastUsed < $1.lastUsed }) else { return false }
        evicted += 1
        metrics.evicted()
        retire(lru)
        return true
    }

    private func maintain() {
        let now = Self.now()
        for slot in Array(slots.values) {
            guard let worker = slot.worker else { continue }
            if !worker.isAlive {
                // The exit watcher counts the crash; make sure the slot is gone meanwhile.
                remove(slot)
            } else if slot.running == 0 && now - slot.lastUsed > configuration.idleTimeoutSeconds {
                reaped += 1
                metrics.reaped()
                retire(slot)
            }
        }
        metrics.workers(total: slots.count, busy: slots.values.filter { $0.running > 0 }.count)
    }

    // MARK: Stats and shutdown

    public func stats() -> PoolStats {
        var perUser: [String: PoolStats.UserCounts] = [:]
        for (user, slot) in slots { perUser[user] = PoolStats.UserCounts(workers: 1, running: slot.running) }
        let ready = slots.values.filter { $0.worker != nil }
        return PoolStats(
            total: slots.count, busy: ready.filter { $0.running > 0 }.count,
            idle: ready.filter { $0.running == 0 }.count, starting: slots.values.filter { $0.worker == nil }.count,
            perUser: perUser, started: started, reaped: reaped, evicted: evicted, crashed: crashed,
            startFailures: startFailures, served: served, byStatus: byStatus, failed: failed,
            queueDepth: waiters.count, queueWait: queueWait.summary, workerStart: workerStart.summary,
            execution: executionTime.summary, maxWorkers: configuration.maxWorkers, accepting: accepting)
    }

    /// Stop accepting, let running executions finish within `grace` seconds, then cancel them and
    /// stop every worker. When it returns, no process, cgroup or fd of any sandbox is left.
    public func shutdown(grace: Double = 10) async {
        accepting = false
        maintenance?.cancel()
        maintenance = nil
        let queued = waiters
        waiters.removeAll()
        for w in queued { w.continuation.resume(returning: false) }
        let deadline = Self.now() + grace
        while slots.values.contains(where: { $0.running > 0 }) && Self.now() < deadline {
            try? await Task.sleep(for: .milliseconds(20))
        }
        // Wait for starts in progress, so no worker appears after we return.
        for slot in slots.values {
            if let start = slot.start { _ = await start.result }
        }
        let all = slots.values.compactMap { s -> Worker? in s.retiring = true; return s.worker }
            + Array(retiringWorkers.values)
        slots.removeAll()
        await withTaskGroup(of: Void.self) { group in
            for worker in all { group.addTask { await worker.stop(grace: 0) } }
        }
    }
}
