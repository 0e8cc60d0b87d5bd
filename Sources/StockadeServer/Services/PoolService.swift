import ServiceLifecycle
import Stockade

/// Ties the pool to the daemon's lifecycle: on SIGTERM/SIGINT the pool stops accepting, lets
/// running executions finish within the grace period, then stops every worker.
struct PoolService: Service {
    let pool: WorkerPool
    let grace: Double

    func run() async throws {
        await pool.startMaintenance()
        try? await gracefulShutdown()
        await pool.shutdown(grace: grace)
    }
}
