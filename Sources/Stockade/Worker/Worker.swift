import Dispatch
import Glibc
import StockadeProtocol
import Synchronization

/// How to start a worker.
public struct WorkerConfiguration: Sendable {
    /// The sandbox the worker runs in: mounts, identity, environment, limits, cgroup. Its
    /// `arguments` and `executable` are set by `Worker.start`.
    public var sandbox: SandboxSpec
    /// The worker executable; nil: `stockade-worker` (WorkerImage.shared()).
    public var image: ExecutableImage?
    /// Inside the sandbox: the requests' working directory and where they leave output files.
    public var workDirectory: String = "/tmp"
    public var outputsDirectory: String?
    /// Wall limit of a request that names none, and the cap of one request's output.
    public var defaultWallMs: Int64 = 30_000
    public var defaultOutputBytes: Int64 = 1 << 20
    public var maxConcurrentExecutions = 32
    /// The first ping must be answered within this.
    public var startupTimeoutSeconds: Double = 30
    /// Longest line the host accepts from the worker.
    public var maxLineBytes = 160 << 20
    /// The host's backstop: a request unanswered this long after its wall limit kills the worker.
    public var backstopGraceSeconds: Double = 10
    /// Warm runtimes: a Python zygote that forks each request from an initialised interpreter, and
    /// spare Node processes started ahead of time (a fresh process per request either way).
    public var warmPython = true
    public var warmJavaScript = true
    public var nodeSpares = 1
    /// Extra arguments for the worker (tests).
    public var extraArguments: [String] = []

    public init(sandbox: SandboxSpec = WorkerConfiguration.defaultSandbox()) {
        self.sandbox = sandbox
    }

    /// A sandbox for a worker with no user attached: default root, default policy, Landlock.
    public static func defaultSandbox() -> SandboxSpec {
        var spec = SandboxSpec(arguments: ["stockade-worker"])
        spec.landlock = .automatic
        return spec
    }
}

/// A sandbox that lives for many requests: `stockade-worker` as its PID 1, spoken to over
/// JSON-RPC on its stdin/stdout. Each request runs as a child process inside.
public final class Worker: Sendable {
    public let process: SandboxProcess
    public let configuration: WorkerConfiguration
    /// From spawn to the first pong.
    public var startupSeconds: Double { startup.withLock { $0 } }
    private let startup = Mutex<Double>(0)
    private let connection: WorkerConnection
    private let stopping = Mutex(false)
    private let logToken: Reactor.Token?

    public var pid: Int32 { process.pid }
    public var isAlive: Bool { !process.hasExited }

    private init(process: SandboxProcess, connection: WorkerConnection, configuration: WorkerConfiguration, logToken: Reactor.Token?) {
        self.process = process
        self.connection = connection
        self.configuration = configuration
        self.logToken = logToken
    }

    /// Spawn the sandbox with the worker and wait for its first ping answer.
    public static func start(_ configuration: WorkerConfiguration) async throws(WorkerError) -> Worker {
        let begin = ContinuousClock.now
        var spec = configuration.sandbox
        let image: ExecutableImage
        do {
            image = try configuration.image ?? WorkerImage.shared()
        } catch let e as WorkerError {
            throw e
        } catch {
            throw .startFailed("\(error)")
        }
        spec.executable = .image(image)
        var args = ["stockade-worker", "--work", configuration.workDirectory,
                    "--default-wall-ms", "\(configuration.defaultWallMs)",
                    "--default-output-bytes", "\(configuration.defaultOutputBytes)",
                    "--max-concurrent", "\(configuration.maxConcurrentExecutions)"]
        if let outputs = configuration.outputsDirectory { args += ["--outputs", outputs] }
        if !configuration.warmPython { args.append("--no-warm-python") }
        if !configuration.warmJavaScript { args.append("--no-warm-javascript") }
        args += ["--node-spares", "\(configuration.nodeSpares)"]
        spec.arguments = args + configuration.extraArguments
        spec.workingDirectory = configuration.workDirectory
        spec.stdin = .pipe
        spec.stdout = .pipe
        spec.stderr = .pipe
        // The worker lives until stopped: the host's wall limit applies per request, not to it.
        spec.limits.wallSeconds = nil
        let process: SandboxProcess
        do {
            process = try await Sandbox.spawn(spec)
        } catch {
            throw .startFailed("\(error)")
        }
        let logToken = WorkerLogDrain.start(fd: process.stderr, pid: process.pid)
        let connection: WorkerConnection
        do {
            connection = try WorkerConnection(stdin: process.stdin, stdout: process.stdout, maxLineBytes: configuration.maxLineBytes) { [weak process] violation in
                process?.kill(SIGKILL)
                _ = violation
            }
        } catch {
            process.kill(SIGKILL)
            throw .startFailed("cannot watch the worker's output: \(error)")
        }
        let worker = Worker(process: process, connection: connection, configuration: configuration, logToken: logToken)
        worker.watchExit()
        // Startup: the first ping, bounded.
        let timeout = configuration.startupTimeoutSeconds
        let timer = Reactor.shared.schedule(after: timeout) { [weak process] in process?.kill(SIGKILL) }
        do {
            _ = try await connection.call(WorkerMethod.ping, nil)
            Reactor.shared.cancelTimer(timer)
        } catch {
            Reactor.shared.cancelTimer(timer)
            process.kill(SIGKILL)
            _ = await process.wait()
            if ContinuousClock.now - begin >= .seconds(timeout) { throw .startupTimeout(seconds: timeout) }
            throw error
        }
        let d = ContinuousClock.now - begin
        worker.startup.withLock { $0 = Double(d.components.seconds) + Double(d.components.attoseconds) / 1e18 }
        return worker
    }

    private func watchExit() {
        let process = self.process
        let connection = self.connection
        let stopping = { [weak self] in self?.stopping.withLock { $0 } ?? true }
        Task.detached {
            let outcome = await process.wait()
            connection.close(with: stopping() ? .stopped : .crashed(exit: Worker.describe(outcome)))
        }
    }

    static func describe(_ o: ProcessOutcome) -> String {
        switch o.termination {
        case let .exited(code): return "exit status \(code)"
        case let .signaled(sig): return "killed by signal \(sig)" + (o.oomKilled ? " (out of memory)" : "")
        }
    }

    // MARK: Requests

    /// Run one execution and wait for its result.
    public func execute(_ params: ExecuteParams) async throws(WorkerError) -> ExecutionResult {
        var p = params
        p.stream = false
        let wall = Double(p.limits.wallMs ?? configuration.defaultWallMs) / 1000
        let backstop = armBackstop(after: wall + configuration.backstopGraceSeconds)
        defer { backstop.cancel() }
        let oomBefore = process.cgroup?.oomKills() ?? 0
        let value = try await connection.call(WorkerMethod.execute, p.jsonValue)
        guard let result = ExecutionResult(json: value) else {
            kill()
            throw .protocolViolation("an execute result without the result contract's fields")
        }
        return attributeOOM(result, before: oomBefore)
    }

    /// The worker cannot see its cgroup; the host can. A process of this execution killed while
    /// the cgroup's OOM counter moved was killed for memory.
    func attributeOOM(_ result: ExecutionResult, before: UInt64) -> ExecutionResult {
        guard let group = process.cgroup, result.signal == SIGKILL, result.status == .signaled,
              group.oomKills() > before else { return result }
        var r = result
        r.status = .memoryLimit
        r.message = "killed by the kernel's OOM killer: the worker's cgroup reached its memory limit"
        return r
    }

    /// Run one execution, yielding output chunks in order as they happen and then the result.
    public func executeStreaming(_ params: ExecuteParams) -> AsyncThrowingStream<WorkerEvent, any Error> {
        var p = params
        p.stream = true
        let wall = Double(p.limits.wallMs ?? configuration.defaultWallMs) / 1000
        let backstop = armBackstop(after: wall + configuration.backstopGraceSeconds)
        let oomBefore = process.cgroup?.oomKills() ?? 0
        let (_, stream) = connection.stream(WorkerMethod.execute, p.jsonValue)
        let (out, continuation) = AsyncThrowingStream<WorkerEvent, any Error>.makeStream()
        let forward = Task {
            do {
                for try await event in stream {
                    if case let .result(r) = event {
                        continuation.yield(.result(self.attributeOOM(r, before: oomBefore)))
                    } else {
                        continuation.yield(event)
                    }
                }
                continuation.finish()
            } catch {
                continuation.finish(throwing: error)
            }
            backstop.cancel()
        }
        continuation.onTermination = { _ in forward.cancel() }
        return out
    }

    /// Ask the worker to stop an execution (it ends with status `cancelled`).
    public func cancel(executionID: String) async throws(WorkerError) {
        _ = try await connection.call(WorkerMethod.cancel, .object(["execution_id": .string(executionID)]))
    }

    /// Round trip to the worker.
    public func ping() async throws(WorkerError) -> JSONValue {
        try await connection.call(WorkerMethod.ping, nil)
    }

    /// The worker's own counters: running, started, finished, by status.
    public func stats() async throws(WorkerError) -> JSONValue {
        try await connection.call(WorkerMethod.stats, nil)
    }

    /// Stop gracefully: running executions get `grace` seconds, then are killed; the worker
    /// exits. If it does not, SIGKILL ends the whole sandbox. No process or zombie is left.
    @discardableResult
    public func stop(grace: Double = 5) async -> ProcessOutcome {
        stopping.withLock { $0 = true }
        if !process.hasExited {
            let killer = Reactor.shared.schedule(after: grace + 2) { [process] in process.kill(SIGKILL) }
            _ = try? await connection.call(WorkerMethod.shutdown, .object(["grace_ms": .int(Int64(grace * 1000))]))
            let outcome = await process.wait()
            Reactor.shared.cancelTimer(killer)
            await releaseResources()
            return outcome
        }
        let outcome = await process.wait()
        await releaseResources()
        return outcome
    }

    /// Fail what is left, close the pipes and the log: after `stop` returns, the host holds no fd
    /// of this worker but its pidfd (closed with this object, so `kill` stays safe).
    private func releaseResources() async {
        connection.close(with: .stopped)
        await connection.release()
        if let logToken { await Reactor.shared.close(logToken) }
    }

    /// SIGKILL the worker's sandbox now.
    public func kill() {
        process.kill(SIGKILL)
    }

    /// Wait until the worker's process has exited.
    public func waitForExit() async -> ProcessOutcome {
        await process.wait()
    }

    /// The host's backstop for one request; returns a cancellable token.
    private func armBackstop(after seconds: Double) -> Backstop {
        Backstop(Reactor.shared.schedule(after: seconds) { [weak self] in
            guard let self, self.isAlive else { return }
            self.connection.close(with: .unresponsive(seconds: seconds))
            self.process.kill(SIGKILL)
        })
    }

    struct Backstop: Sendable {
        let timer: UInt64
        init(_ timer: UInt64) { self.timer = timer }
        func cancel() { Reactor.shared.cancelTimer(timer) }
    }
}
