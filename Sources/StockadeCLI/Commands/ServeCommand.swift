import ArgumentParser
import Glibc
import Stockade
import StockadeServer

struct ServeCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "serve",
        abstract: "Run the daemon: an HTTP API that executes code for many users in sandboxes.",
        discussion: """
        Every setting is a flag and a STOCKADE_* environment variable (the flag wins). With no setting at all \
        it listens on 127.0.0.1:8080, keeps users' files and an SQLite database in ./data, and runs until \
        SIGTERM or SIGINT, then stops gracefully (running executions get 10 s).

        Environment variables:
        \(DaemonConfig.settings.map { "  \($0.variable) (\($0.flag)): \($0.help)" }.joined(separator: "\n"))
          STOCKADE_CONTROL_PLANE_TOKEN: bearer token sent to the control plane
        """
    )

    @Option(help: "Address to listen on (STOCKADE_HOST; default 127.0.0.1).") var host: String?
    @Option(help: "Port (STOCKADE_PORT; default 8080).") var port: Int?
    @Option(name: .customLong("data-dir"), help: "Data directory (STOCKADE_DATA_DIR; default ./data).") var dataDir: String?
    @Option(name: .customLong("api-token"), help: "Bearer token for every request but /health (STOCKADE_API_TOKEN; prefer the variable, flags show in ps).") var apiToken: String?
    @Option(name: .customLong("max-workers"), help: "Most workers alive at once (STOCKADE_MAX_WORKERS; default 10).") var maxWorkers: Int?
    @Option(name: .customLong("idle-timeout"), help: "Seconds before an idle worker is stopped (STOCKADE_IDLE_TIMEOUT; default 300).") var idleTimeout: Double?
    @Option(name: .customLong("request-timeout"), help: "Longest a request may run, seconds (STOCKADE_REQUEST_TIMEOUT; default 300).") var requestTimeout: Double?
    @Option(name: .customLong("startup-timeout"), help: "Seconds a new worker has to answer (STOCKADE_STARTUP_TIMEOUT; default 30).") var startupTimeout: Double?
    @Option(name: .customLong("queue-timeout"), help: "Seconds a request waits for a free worker (STOCKADE_QUEUE_TIMEOUT; default 30).") var queueTimeout: Double?
    @Option(name: .customLong("max-concurrent-per-user"), help: "Concurrent executions per user (STOCKADE_MAX_CONCURRENT_PER_USER; default 8).") var maxConcurrentPerUser: Int?
    @Option(name: .customLong("max-body"), help: "Largest JSON body (STOCKADE_MAX_BODY; default 16M).") var maxBody: String?
    @Option(name: .customLong("max-upload"), help: "Largest upload (STOCKADE_MAX_UPLOAD; default 10M).") var maxUpload: String?
    @Option(name: .customLong("allowed-extensions"), help: "Upload extensions, comma-separated (STOCKADE_ALLOWED_EXTENSIONS).") var allowedExtensions: String?
    @Option(name: .customLong("control-plane-url"), help: "Where async results and heartbeats go (STOCKADE_CONTROL_PLANE_URL).") var controlPlaneURL: String?
    @Option(name: .customLong("heartbeat-interval"), help: "Seconds between heartbeats (STOCKADE_HEARTBEAT_INTERVAL; default 30).") var heartbeatInterval: Double?
    @Option(name: .customLong("allowed-env"), help: "Host variables passed into sandboxes (STOCKADE_ALLOWED_ENV).") var allowedEnv: String?
    @Option(name: .customLong("allowed-secret-env"), help: "Secret-looking host variables passed anyway, named exactly (STOCKADE_ALLOWED_SECRET_ENV).") var allowedSecretEnv: String?
    @Option(name: .customLong("worker-memory"), help: "Memory limit of each worker (STOCKADE_WORKER_MEMORY; default 1G; 0: none).") var workerMemory: String?
    @Option(name: .customLong("worker-pids"), help: "Process limit of each worker (STOCKADE_WORKER_PIDS; default 256; 0: none).") var workerPids: Int?
    @Option(name: .customLong("worker-cpus"), help: "CPU share of each worker (STOCKADE_WORKER_CPUS).") var workerCPUs: Double?
    @Option(name: .customLong("default-timeout"), help: "Wall limit of a request that gives none, seconds (STOCKADE_DEFAULT_TIMEOUT; default 300).") var defaultTimeout: Double?
    @Option(name: .customLong("output-retention"), help: "Seconds outputs are kept (STOCKADE_OUTPUT_RETENTION; default 7 days).") var outputRetention: Double?
    @Option(name: .customLong("seccomp-policy"), help: "JSON seccomp policy instead of the default (STOCKADE_SECCOMP_POLICY).") var seccompPolicy: String?
    @Option(name: .customLong("log-level"), help: "Log level (STOCKADE_LOG_LEVEL; default info).") var logLevel: String?
    @Option(name: .customLong("warm-python"), help: "Fork Python requests from a warm zygote: true or false (STOCKADE_WARM_PYTHON; default true).") var warmPython: String?
    @Option(name: .customLong("warm-javascript"), help: "Spare Node processes started ahead for JavaScript requests: true or false (STOCKADE_WARM_JAVASCRIPT; default true).") var warmJavaScript: String?
    @Option(name: .customLong("node-spares"), help: "Spare Node processes per worker, 1 to 8 (STOCKADE_NODE_SPARES; default 1).") var nodeSpares: Int?

    func run() async throws {
        var config = DaemonConfig()
        do {
            try config.apply(PoolConfiguration.processEnvironment())
            var flags: [String: String] = [:]
            func put(_ name: String, _ value: (any CustomStringConvertible)?) { if let value { flags[name] = value.description } }
            put("STOCKADE_HOST", host); put("STOCKADE_PORT", port); put("STOCKADE_DATA_DIR", dataDir)
            put("STOCKADE_API_TOKEN", apiToken); put("STOCKADE_MAX_WORKERS", maxWorkers)
            put("STOCKADE_IDLE_TIMEOUT", idleTimeout); put("STOCKADE_REQUEST_TIMEOUT", requestTimeout)
            put("STOCKADE_STARTUP_TIMEOUT", startupTimeout); put("STOCKADE_QUEUE_TIMEOUT", queueTimeout)
            put("STOCKADE_MAX_CONCURRENT_PER_USER", maxConcurrentPerUser); put("STOCKADE_MAX_BODY", maxBody)
            put("STOCKADE_MAX_UPLOAD", maxUpload); put("STOCKADE_ALLOWED_EXTENSIONS", allowedExtensions)
            put("STOCKADE_CONTROL_PLANE_URL", controlPlaneURL); put("STOCKADE_HEARTBEAT_INTERVAL", heartbeatInterval)
            put("STOCKADE_ALLOWED_ENV", allowedEnv); put("STOCKADE_ALLOWED_SECRET_ENV", allowedSecretEnv)
            put("STOCKADE_WORKER_MEMORY", workerMemory); put("STOCKADE_WORKER_PIDS", workerPids)
            put("STOCKADE_WORKER_CPUS", workerCPUs); put("STOCKADE_DEFAULT_TIMEOUT", defaultTimeout)
            put("STOCKADE_OUTPUT_RETENTION", outputRetention); put("STOCKADE_SECCOMP_POLICY", seccompPolicy)
            put("STOCKADE_LOG_LEVEL", logLevel)
            put("STOCKADE_WARM_PYTHON", warmPython); put("STOCKADE_WARM_JAVASCRIPT", warmJavaScript)
            put("STOCKADE_NODE_SPARES", nodeSpares)
            // The pool reads its variables from the same dictionary: keep the environment's under the flags.
            var merged = PoolConfiguration.processEnvironment()
            for (k, v) in flags { merged[k] = v }
            try config.apply(merged)
            try config.validate()
        } catch {
            fail("\(error)")
        }
        guard Runtime.isRoot else {
            fail("stockade serve must run as root: it maps each user's sandbox to an unprivileged host uid (see `stockade doctor`)")
        }
        do {
            try await StockadeDaemon.run(config: config)
        } catch {
            fail("\(error)")
        }
    }
}
