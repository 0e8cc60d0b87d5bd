import Metrics

/// The pool's figures as swift-metrics metrics (the daemon exports them to Prometheus).
struct PoolMetrics: Sendable {
    private let queueWaitTimer = Timer(label: "stockade_pool_queue_wait_seconds")
    private let startTimer = Timer(label: "stockade_pool_worker_start_seconds")
    private let executionTimer = Timer(label: "stockade_pool_execution_seconds")
    private let startedCounter = Counter(label: "stockade_pool_workers_started_total")
    private let reapedCounter = Counter(label: "stockade_pool_workers_reaped_total")
    private let evictedCounter = Counter(label: "stockade_pool_workers_evicted_total")
    private let crashedCounter = Counter(label: "stockade_pool_workers_crashed_total")
    private let workersGauge = Gauge(label: "stockade_pool_workers")
    private let busyGauge = Gauge(label: "stockade_pool_workers_busy")
    private let queueGauge = Gauge(label: "stockade_pool_queue_depth")

    func queueWait(ms: Double) { queueWaitTimer.recordNanoseconds(Int64(ms * 1e6)) }
    func workerStarted(ms: Double) {
        startTimer.recordNanoseconds(Int64(ms * 1e6))
        startedCounter.increment()
    }
    func execution(ms: Double) { executionTimer.recordNanoseconds(Int64(ms * 1e6)) }
    func served(status: String) { Counter(label: "stockade_pool_requests_total", dimensions: [("status", status)]).increment() }
    func failed(code: String) { Counter(label: "stockade_pool_requests_failed_total", dimensions: [("code", code)]).increment() }
    func reaped() { reapedCounter.increment() }
    func evicted() { evictedCounter.increment() }
    func crashed() { crashedCounter.increment() }
    func workers(total: Int, busy: Int) {
        workersGauge.record(total)
        busyGauge.record(busy)
    }
    func queueDepth(_ n: Int) { queueGauge.record(n) }
}
