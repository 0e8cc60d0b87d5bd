import Glibc
import Hummingbird
import Logging
import Metrics
import Prometheus
import ServiceLifecycle
import Stockade

/// `stockade serve`: the daemon. Runs until SIGTERM/SIGINT, then stops gracefully.
public enum StockadeDaemon {
    public static let version = "0.1.0"
    public static var arch: String {
        var u = utsname()
        uname(&u)
        return withUnsafeBytes(of: u.machine) { String(decoding: $0.prefix { $0 != 0 }, as: UTF8.self) }
    }

    /// Set up everything from `config` and serve until a termination signal.
    /// `onListening` gets the bound port (tests start on port 0).
    public static func run(config: DaemonConfig, onListening: @escaping @Sendable (Int) async -> Void = { _ in }) async throws {
        try config.validate()
        var log = Logger(label: "stockade")
        log.logLevel = Logger.Level(rawValue: config.logLevel) ?? .info
        let logger = log

        let registry = PrometheusCollectorRegistry()
        MetricsSystem.bootstrap(PrometheusMetricsFactory(registry: registry))

        let dataDir = absolutePath(config.dataDirectory)
        var settings = UserSandboxSettings(dataDirectory: dataDir)
        settings.allowedEnvironment = config.allowedEnvironment
        settings.explicitlyAllowedEnvironment = config.allowedSecretEnvironment
        settings.workerMemoryBytes = config.workerMemoryBytes
        settings.workerPids = config.workerPids
        settings.workerCPUs = config.workerCPUs
        if let path = config.seccompPolicyPath { settings.seccomp = try SeccompPolicyFile.load(path) }
        let users = try UserSandboxes(settings: settings)
        for ignored in users.environment.ignoredEntries {
            logger.warning("STOCKADE_ALLOWED_ENV entry '\(ignored)' looks like a secret and is ignored; name it in STOCKADE_ALLOWED_SECRET_ENV to pass it anyway")
        }
        let store = try ExecutionStore(path: dataDir + "/stockade.sqlite")
        let interrupted = try store.markInterrupted(now: Timestamp.now(), outbox: config.controlPlaneURL == nil ? nil : { record in
            .object(["type": "execution.finished", "execution": StockadeAPI.recordJSON(record)])
        })
        if interrupted > 0 { logger.warning("\(interrupted) execution(s) were running when the daemon last stopped: marked interrupted") }
        let swept = StaleCgroupSweeper.sweep()
        if swept > 0 { logger.notice("removed \(swept) empty cgroup(s) left by Stockade processes that were killed") }

        let defaultWallMs = Int64(config.defaultTimeoutSeconds * 1000)
        let pool = WorkerPool(configuration: config.pool) { user in
            var worker = try users.workerConfiguration(for: user)
            worker.defaultWallMs = defaultWallMs
            worker.warmPython = config.warmPython
            worker.warmJavaScript = config.warmJavaScript
            worker.nodeSpares = config.nodeSpares
            return worker
        }
        let api = StockadeAPI(config: config, pool: pool, store: store, users: users,
                              metrics: DaemonMetrics(registry: registry), logger: logger)
        var services: [any Service] = [PoolService(pool: pool, grace: 10),
                                        Janitor(users: users, outputRetentionSeconds: config.outputRetentionSeconds, logger: logger)]
        if let url = config.controlPlaneURL {
            services.append(ControlPlane(url: url, token: getenv("STOCKADE_CONTROL_PLANE_TOKEN").map { String(cString: $0) },
                                         store: store, pool: pool, heartbeatInterval: config.heartbeatIntervalSeconds, logger: logger))
        }
        let app = Application(
            router: api.router(),
            configuration: .init(address: .hostname(config.host, port: config.port), serverName: "stockade"),
            services: services,
            onServerRunning: { channel in
                let port = channel.localAddress?.port ?? config.port
                logger.notice("stockade \(version) listening on http://\(config.host):\(port) (data: \(dataDir))")
                await onListening(port)
            },
            logger: logger)
        try await app.runService()
    }

    static func absolutePath(_ path: String) -> String {
        if path.hasPrefix("/") { return path }
        var buf = [CChar](repeating: 0, count: 4096)
        _ = getcwd(&buf, 4096)
        var cwd = String(decoding: buf.prefix { $0 != 0 }.map { UInt8(bitPattern: $0) }, as: UTF8.self)
        if cwd.hasSuffix("/") { cwd.removeLast() }
        var rel = Substring(path)
        while rel.hasPrefix("./") { rel = rel.dropFirst(2) }
        return cwd + "/" + rel
    }
}
