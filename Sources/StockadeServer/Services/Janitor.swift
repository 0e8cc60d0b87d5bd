import Logging
import ServiceLifecycle
import Stockade

/// Cleans by age: the daemon's temp/ (one hour) and users' outputs/ (the retention setting).
struct Janitor: Service {
    let users: UserSandboxes
    let outputRetentionSeconds: Double
    let logger: Logger

    func run() async throws {
        // Being cancelled at shutdown is the normal way out, not a failure of the daemon.
        try? await cancelWhenGracefulShutdown {
            while !Task.isCancelled {
                if outputRetentionSeconds > 0 {
                    do {
                        _ = try users.directories.cleanup(olderThan: Int64(outputRetentionSeconds))
                    } catch {
                        logger.warning("cleanup of old outputs failed: \(error)")
                    }
                }
                try await Task.sleep(for: .seconds(600))
            }
        }
    }
}
