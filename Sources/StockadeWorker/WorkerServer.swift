import CStockade
import Glibc
import StockadeProtocol

/// The JSON-RPC loop: requests arrive one per line on stdin, responses and notifications leave
/// one per line on stdout. Everything runs on one thread.
final class WorkerServer {
    let config: WorkerConfig
    let loop = EventLoop()
    private var input: LineBuffer
    /// What every read goes into first (requests, children's output); one allocation, reused, as
    /// the loop is single-threaded and each read is copied out before the next.
    private let readBuffer = UnsafeMutableRawBufferPointer.allocate(byteCount: 65536, alignment: 16)
    private var output: [UInt8] = []
    private var outputOffset = 0
    private var waitingToWrite = false
    private var running: [String: Execution] = [:]
    private var byPid: [Int32: Execution] = [:]
    private var started = 0
    private var finished = 0
    private var byStatus: [String: Int] = [:]
    private var nextID = 0
    private var shutdown: (requestID: RPCID?, deadlineMs: Double)?
    private var signalFD: Int32 = -1
    private let startMs = nowMs()
    private let zygote: PythonZygote
    private let spares: NodeSpares
    private let writer: PipeWriter
    /// Exits of children not yet known by pid (a zygote fork reaped before its answer arrived).
    private var unclaimed: [Int32: (status: Int32, usage: rusage)] = [:]
    private var warmHits = 0
    private var coldStarts = 0

    init(config: WorkerConfig) {
        self.config = config
        input = LineBuffer(maxLineBytes: config.maxRequestBytes)
        zygote = PythonZygote(loop: loop, config: config)
        spares = NodeSpares(config: config, target: config.nodeSpares)
        writer = PipeWriter(loop: loop)
        zygote.onForked = { [unowned self] e, pid in self.forked(e, pid: pid) }
    }

    func run() -> Never {
        _ = stk_set_nonblock(0, 1)
        _ = stk_set_nonblock(1, 1)
        signalFD = stk_signalfd_sigchld()
        if signalFD < 0 { WorkerLog.fatal("signalfd failed: errno \(errno)") }
        loop.watch(signalFD) { [unowned self] _ in self.onChildSignal() }
        loop.watch(0) { [unowned self] _ in self.onInput() }
        while true {
            loop.runOnce(timeoutMs: nextTimeout())
            enforceDeadlines()
            progressShutdown()
        }
    }

    // MARK: Input

    private func onInput() {
        let buf = readBuffer
        while true {
            let n = read(0, buf.baseAddress, buf.count)
            if n > 0 {
                input.append(UnsafeRawBufferPointer(rebasing: buf[0..<n]))
                drainLines()
                continue
            }
            if n < 0 && (errno == EAGAIN || errno == EINTR) { return }
            // EOF or error: the host is gone or done. A pending shutdown keeps its grace period;
            // otherwise everything is stopped now, and the worker exits once it is reaped.
            loop.closeFD(0)
            if shutdown == nil { shutdown = (nil, nowMs()) }
            progressShutdown()
            return
        }
    }

    private func drainLines() {
        while let event = input.nextLine() {
            switch event {
            case let .line(bytes):
                if bytes.isEmpty { continue }
                handle(bytes)
            case let .oversize(n):
                send(RPCResponse(id: nil, error: .messageTooLarge("request line exceeds \(config.maxRequestBytes) bytes (\(n) so far); it was discarded")))
            }
        }
    }

    private func handle(_ line: [UInt8]) {
        switch RPCMessage.decode(line) {
        case let .invalid(error, id):
            send(RPCResponse(id: id, error: error))
        case .message(.response):
            WorkerLog.info("ignoring a response sent to the worker")
        case let .message(.request(request)):
            guard let id = request.id else {
                WorkerLog.info("ignoring notification '\(request.method)': the worker answers requests only")
                return
            }
            dispatch(request, id: id)
        }
    }

    private func dispatch(_ request: RPCRequest, id: RPCID) {
        switch request.method {
        case WorkerMethod.ping:
            send(RPCResponse(id: id, result: .object(["pong": true, "pid": .int(Int64(getpid())),
                                                      "uptime_ms": .double(((nowMs() - startMs) * 1000).rounded() / 1000)])))
        case WorkerMethod.execute:
            do throws(RPCError) {
                try startExecution(ExecuteParams(json: request.params), requestID: id)
            } catch {
                send(RPCResponse(id: id, error: error))
            }
        case WorkerMethod.cancel:
            guard let eid = request.params?["execution_id"]?.stringValue else {
                send(RPCResponse(id: id, error: .invalidParams("cancel takes {\"execution_id\": \"...\"}")))
                return
            }
            guard let e = running[eid], e.isRunning else {
                send(RPCResponse(id: id, error: .executionNotFound("no running execution '\(eid)'")))
                return
            }
            stop(e, .cancelled, "cancelled on request")
            send(RPCResponse(id: id, result: .object(["cancelled": true, "execution_id": .string(eid)])))
        case WorkerMethod.stats:
            var statuses = JSONObject()
            for (k, v) in byStatus.sorted(by: { $0.key < $1.key }) { statuses[k] = .int(Int64(v)) }
            send(RPCResponse(id: id, result: .object([
                "running": .int(Int64(running.count)), "started": .int(Int64(started)),
                "finished": .int(Int64(finished)), "by_status": .object(statuses),
                "processes": .int(Int64(requestProcessCount())),
                "warm": .object(["hits": .int(Int64(warmHits)), "cold_starts": .int(Int64(coldStarts)),
                                 "zygote_restarts": .int(Int64(zygote.restarts)), "zygote_ready": .bool(zygote.isReady),
                                 "node_spares": .int(Int64(spares.spares.count)), "node_spares_started": .int(Int64(spares.started)),
                                 "python": .bool(config.warmPython), "javascript": .bool(config.warmJavaScript)]),
                "uptime_ms": .double(((nowMs() - startMs) * 1000).rounded() / 1000)])))
        case WorkerMethod.shutdown:
            let grace = request.params?["grace_ms"]?.intValue ?? 5000
            shutdown = (id, nowMs() + Double(max(0, min(grace, 600_000))))
            progressShutdown()
        default:
            send(RPCResponse(id: id, error: .methodNotFound("unknown method '\(request.method)': use execute, cancel, ping, stats or shutdown")))
        }
    }

    // MARK: Executions

    private func startExecution(_ params: ExecuteParams, requestID: RPCID) throws(RPCError) {
        if shutdown != nil { throw .shuttingDown("the worker is shutting down; send the request to a new worker") }
        guard running.count < config.maxConcurrent else {
            throw .overloaded("\(running.count) executions are running, the most this worker takes; retry when one finishes")
        }
        let eid: String
        if let given = params.executionID {
            guard running[given] == nil else { throw .invalidParams("execution_id '\(given)' is already running") }
            eid = given
        } else {
            nextID += 1
            eid = "exec-\(nextID)"
        }
        let wall = min(params.limits.wallMs ?? config.defaultWallMs, config.maxWallMs)
        let cap = Int(params.limits.outputBytes ?? config.defaultOutputBytes)
        let e = Execution(id: eid, requestID: requestID, params: params, wallLimitMs: wall, outputCap: cap)
        if let dir = config.outputsDirectory { e.outputsBefore = OutputScanner.snapshot(dir) }

        var rlimits: [(resource: Int32, soft: UInt64, hard: UInt64)] = []
        if let cpu = params.limits.cpuMs {
            let seconds = UInt64((cpu + 999) / 1000)
            rlimits.append((STK_RLIMIT_CPU, seconds, seconds + 1))
        }
        if let mem = params.limits.memoryBytes { rlimits.append((STK_RLIMIT_DATA, UInt64(mem), UInt64(mem))) }
        if let pids = params.limits.pids {
            // RLIMIT_NPROC counts every task of the sandbox's uid: allow the request this many, its
            // own process included. A warm request's process exists already (the zygote's
            // pre-forked child), and the zygote forks the next one after it: the two cancel out.
            let n = UInt64(pids) + UInt64(ProcessSweeper.taskCount())
            rlimits.append((STK_RLIMIT_NPROC, n, n))
        }
        var envPairs = config.baseEnvironment.filter { params.env[$0.0] == nil }
        envPairs += params.env.sorted { $0.key < $1.key }.map { ($0.key, $0.value) }

        // Warm JavaScript: a spare Node process brings its own pipes. A spare was started before
        // its request, so limits that must be set when a process starts (V8's heap size, rlimits,
        // which the sandbox may not set on another process) make the request go cold. Wall-clock
        // and output limits are the worker's either way.
        if params.language == .javascript && config.warmJavaScript && rlimits.isEmpty {
            if let spare = spares.take() {
                warmHits += 1
                startOnSpare(e, spare, env: envPairs)
                spares.refill()
                return
            }
            spares.refill()
        }

        // A shell script up to 120 KiB is the -c argument: it needs stdio and nothing else (its
        // report is its exit status). Other requests also get the code (fd 3), the metadata (fd 4)
        // and a pipe for the runner's report (fd 5).
        let shellDirect = params.language == .shell && params.code.utf8.count <= 120 * 1024 && !params.code.utf8.contains(0)
        func pipePair() -> (Int32, Int32)? {
            var fds: [Int32] = [-1, -1]
            return stk_pipe2(&fds, O_CLOEXEC) == 0 ? (fds[0], fds[1]) : nil
        }
        guard let out = pipePair(), let err = pipePair() else { throw .internalError("cannot create pipes: errno \(errno)") }
        let res: (Int32, Int32) = shellDirect ? (-1, -1) : (pipePair() ?? (-1, -1))
        let stdinFD = params.stdin.map { memoryFile("stdin", Array($0.utf8)) } ?? open("/dev/null", O_RDONLY | O_CLOEXEC)
        var childFDs = [stdinFD, out.1, err.1]
        if !shellDirect {
            var meta = JSONObject()
            meta["handler"] = .bool(params.handler)
            if let event = params.event { meta["event"] = event }
            meta["execution_id"] = .string(eid)
            meta["limits"] = params.limits.jsonValue
            childFDs += [memoryFile("code", Array(params.code.utf8)), memoryFile("meta", JSONWriter.encode(.object(meta))), res.1]
        }
        defer { for fd in childFDs where fd >= 0 { close(fd) } }
        guard childFDs.allSatisfy({ $0 >= 0 }) else {
            [out.0, err.0, res.0].filter { $0 >= 0 }.forEach { close($0) }
            throw .internalError("cannot prepare the request's files: errno \(errno)")
        }

        // Warm Python: the zygote forks it; a cold start when the zygote is not ready.
        if params.language == .python && config.warmPython {
            if zygote.isReady {
                var header = JSONObject()
                header["rlimits"] = .array(rlimits.map { .array([.int(Int64($0.resource)), .int(Int64(bitPattern: $0.soft)), .int(Int64(bitPattern: $0.hard))]) })
                header["env"] = .object(JSONObject(envPairs.map { ($0.0, .string($0.1)) }))
                header["cwd"] = .string(config.workDirectory)
                header["stream"] = .bool(params.stream)
                if zygote.submit(e, fds: childFDs, header: .object(header)) {
                    warmHits += 1
                    register(e, out: out.0, err: err.0, res: res.0)
                    return
                }
            }
            zygote.ensureStarted()
        }

        var argv: [String]
        switch params.language {
        case .shell:
            // A bigger script is read whole and its fds closed before it runs.
            argv = shellDirect ? ["/bin/sh", "-c", params.code]
                : ["/bin/sh", "-c", "c=$(cat <&3; echo .); exec 3<&- 4<&- 5>&-; eval \"${c%.}\""]
        case .python: argv = ["/usr/bin/python3", "-I"] + (params.stream ? ["-u"] : []) + ["-c", Runners.python]
        case .javascript:
            argv = ["/usr/bin/node"]
            if let mem = params.limits.memoryBytes { argv.append("--max-old-space-size=\(max(16, mem * 7 / 10 / 1_048_576))") }
            argv += ["-e", Runners.javascript]
        }
        let env = envPairs.map { "\($0.0)=\($0.1)" }
        let launcher = ChildLauncher(argv: argv, env: env, cwd: config.workDirectory, fds: childFDs, rlimits: rlimits)
        do {
            e.pid = try launcher.launch()
        } catch {
            [out.0, err.0, res.0].filter { $0 >= 0 }.forEach { close($0) }
            var r = ExecutionResult(executionID: eid, status: .internalError)
            r.message = "could not start \(argv[0]): step \(error.step), errno \(error.errno)\(error.detail.isEmpty ? "" : " (\(error.detail))")"
            send(RPCResponse(id: requestID, result: r.jsonValue))
            return
        }
        if params.language != .shell { coldStarts += 1 }
        byPid[e.pid] = e
        register(e, out: out.0, err: err.0, res: res.0)
    }

    /// Count it as started and watch its pipes.
    private func register(_ e: Execution, out: Int32, err: Int32, res: Int32) {
        started += 1
        e.stdoutFD = out
        e.stderrFD = err
        e.resultFD = res
        for fd in [out, err, res] where fd >= 0 { _ = stk_set_nonblock(fd, 1) }
        running[e.id] = e
        loop.watch(out) { [unowned self] _ in self.drain(e, fd: e.stdoutFD, stream: .stdout) }
        loop.watch(err) { [unowned self] _ in self.drain(e, fd: e.stderrFD, stream: .stderr) }
        if res >= 0 { loop.watch(res) { [unowned self] _ in self.drainResult(e) } }
    }

    /// The zygote answered a fork: the request's pid, or nil when the fork failed.
    private func forked(_ e: Execution, pid: Int32?) {
        guard let pid else {
            // Never started: report it like a failed cold start (its pipes close with the fds).
            e.waitStatus = 70 << 8
            e.reapedAtMs = nowMs()
            e.endedMs = e.reapedAtMs
            e.stopMessage = "the warm Python runtime failed to start this request; retry it"
            if e.stoppedFor == nil { e.stoppedFor = .internalError }
            for fd in [e.stdoutFD, e.stderrFD, e.resultFD] where fd >= 0 { loop.closeFD(fd) }
            e.stdoutFD = -1
            e.stderrFD = -1
            e.resultFD = -1
            maybeFinish(e)
            return
        }
        e.pid = pid
        if let done = unclaimed.removeValue(forKey: pid) {
            ended(e, status: done.status, usage: done.usage)
            return
        }
        byPid[pid] = e
        if e.stoppedFor != nil {
            kill(-pid, SIGKILL)
            kill(pid, SIGKILL)
        }
    }

    /// Run `e` on a spare Node process: its limits, then its code, metadata and stdin.
    private func startOnSpare(_ e: Execution, _ spare: NodeSpares.Spare, env: [(String, String)]) {
        e.pid = spare.pid
        byPid[spare.pid] = e
        var meta = JSONObject()
        meta["handler"] = .bool(e.params.handler)
        if let event = e.params.event { meta["event"] = event }
        meta["execution_id"] = .string(e.id)
        meta["limits"] = e.params.limits.jsonValue
        meta["env"] = .object(JSONObject(env.map { ($0.0, .string($0.1)) }))
        writer.send(Array(e.params.code.utf8), to: spare.codeW)
        writer.send(JSONWriter.encode(.object(meta)), to: spare.metaW)
        writer.send(Array((e.params.stdin ?? "").utf8), to: spare.stdinW)
        register(e, out: spare.stdoutR, err: spare.stderrR, res: spare.resultR)
    }

    private func drain(_ e: Execution, fd: Int32, stream: OutputEvent.Stream) {
        guard fd >= 0 else { return }
        let buf = readBuffer
        while true {
            let n = read(fd, buf.baseAddress, buf.count)
            if n > 0 {
                accept(e, stream, Array(UnsafeRawBufferPointer(rebasing: buf[0..<n])))
                continue
            }
            if n < 0 && (errno == EAGAIN || errno == EINTR) { return }
            if e.params.stream, let rest = e.carry[stream], !rest.isEmpty {
                notify(e, stream, e.streamable(stream, [], final: true))
            }
            loop.closeFD(fd)
            if stream == .stdout { e.stdoutFD = -1 } else { e.stderrFD = -1 }
            maybeFinish(e)
            return
        }
    }

    private func accept(_ e: Execution, _ stream: OutputEvent.Stream, _ bytes: [UInt8]) {
        let room = max(0, e.outputCap - e.outputCount)
        let kept = bytes.count <= room ? bytes : Array(bytes[0..<room])
        if stream == .stdout { e.stdout += kept } else { e.stderr += kept }
        if kept.count < bytes.count {
            if stream == .stdout { e.stdoutTruncated = true } else { e.stderrTruncated = true }
            if e.isRunning && e.stoppedFor == nil {
                stop(e, .outputLimit, "output exceeded the \(e.outputCap) byte limit")
            }
        }
        if e.params.stream && !kept.isEmpty {
            let text = e.streamable(stream, kept, final: false)
            if !text.isEmpty { notify(e, stream, text) }
        }
    }

    private func notify(_ e: Execution, _ stream: OutputEvent.Stream, _ text: String) {
        let event = OutputEvent(requestID: e.requestID, executionID: e.id, stream: stream, data: text)
        var line: [UInt8] = []
        RPCRequest(method: OutputEvent.method, params: event.jsonValue, id: nil).encodeLine(into: &line)
        write(line)
    }

    private func drainResult(_ e: Execution) {
        guard e.resultFD >= 0 else { return }
        var buf = [UInt8](repeating: 0, count: 65536)
        while true {
            let n = buf.withUnsafeMutableBytes { read(e.resultFD, $0.baseAddress, $0.count) }
            if n > 0 {
                // The report holds the handler's return value; it shares the output cap.
                if e.resultBytes.count + n <= max(e.outputCap, 1 << 20) { e.resultBytes += buf[0..<n] }
                continue
            }
            if n < 0 && (errno == EAGAIN || errno == EINTR) { return }
            loop.closeFD(e.resultFD)
            e.resultFD = -1
            maybeFinish(e)
            return
        }
    }

    private func onChildSignal() {
        var info = [UInt8](repeating: 0, count: 128)
        while info.withUnsafeMutableBytes({ read(signalFD, $0.baseAddress, 128) }) > 0 {}
        var reapedAny = false
        while true {
            var status: Int32 = 0
            var ru = rusage()
            let pid = wait4(-1, &status, WNOHANG | __WALL, &ru)
            if pid <= 0 { break }
            if pid == zygote.pid { zygote.exited(); continue }
            if spares.died(pid) { continue }
            guard let e = byPid.removeValue(forKey: pid) else {
                // A zygote fork whose pid has not arrived yet, or an orphan (then it is dropped).
                if zygote.hasAwaiting { unclaimed[pid] = (status, ru) }
                if unclaimed.count > 256 { unclaimed.removeAll() }
                continue
            }
            ended(e, status: status, usage: ru, sweep: false)
            reapedAny = true
        }
        if reapedAny { sweepEnded() }
    }

    private func ended(_ e: Execution, status: Int32, usage: rusage, sweep: Bool = true) {
        e.waitStatus = status
        e.usage = usage
        e.reapedAtMs = nowMs()
        e.endedMs = e.reapedAtMs
        if sweep { sweepEnded() }
    }

    /// Processes of requests (running or left over): everything but the sessions of the zygote (with
    /// its pre-forked child) and of idle spares.
    private func requestProcessCount() -> Int {
        var warm = Set(spares.pids)
        if zygote.pid > 0 { warm.insert(zygote.pid) }
        return ProcessSweeper.processes().filter { !warm.contains($0.sid) }.count
    }

    /// Kill what is left of every request whose main process has ended.
    private func sweepEnded() {
        // Sessions of running requests, of the zygote and of idle spares are kept; a request whose
        // pid is not known yet (zygote fork in flight) holds back the sweep until it is.
        if running.values.contains(where: { $0.isRunning && $0.pid <= 0 }) {
            for e in Array(running.values) where !e.isRunning { maybeFinish(e) }
            return
        }
        var live = Set(running.values.filter { $0.isRunning }.map(\.pid))
        if zygote.pid > 0 { live.insert(zygote.pid) }
        for pid in spares.pids { live.insert(pid) }
        ProcessSweeper.sweep(keepSessions: live)
        for e in Array(running.values) where !e.isRunning { maybeFinish(e) }
    }

    private func maybeFinish(_ e: Execution) {
        guard !e.isRunning, running[e.id] != nil else { return }
        if e.pipesOpen {
            // Killed leftovers close their copies of the pipes; do not wait on them for long.
            if let reaped = e.reapedAtMs, nowMs() - reaped > 250 {
                for fd in [e.stdoutFD, e.stderrFD, e.resultFD] where fd >= 0 { loop.closeFD(fd) }
                e.stdoutFD = -1
                e.stderrFD = -1
                e.resultFD = -1
            } else {
                return
            }
        }
        running[e.id] = nil
        finished += 1
        var files: [OutputFile] = []
        if let dir = config.outputsDirectory {
            files = OutputScanner.changed(in: dir, since: e.outputsBefore).map { OutputFile(path: $0.0, size: $0.1) }
        }
        let result = e.result(files: files)
        byStatus[result.status.rawValue, default: 0] += 1
        send(RPCResponse(id: e.requestID, result: result.jsonValue))
    }

    private func stop(_ e: Execution, _ reason: ExecutionStatus, _ message: String) {
        guard e.isRunning else { return }
        if e.stoppedFor == nil {
            e.stoppedFor = reason
            e.stopMessage = message
        }
        guard e.pid > 0 else { return } // killed when the zygote tells its pid
        kill(-e.pid, SIGKILL)
        kill(e.pid, SIGKILL)
    }

    private func stopAll(_ reason: ExecutionStatus, _ message: String) {
        for e in running.values { stop(e, reason, message) }
    }

    private func enforceDeadlines() {
        let now = nowMs()
        for e in running.values {
            if e.isRunning && now >= e.deadlineMs {
                stop(e, .timeout, "killed at the \(e.wallLimitMs) ms wall-clock limit")
            } else if !e.isRunning {
                maybeFinish(e)
            }
        }
    }

    private func nextTimeout() -> Int32 {
        let now = nowMs()
        var next = Double.infinity
        for e in running.values {
            next = min(next, e.isRunning ? e.deadlineMs : (e.reapedAtMs ?? now) + 260)
        }
        if let s = shutdown { next = min(next, s.deadlineMs) }
        if next == .infinity { return -1 }
        return Int32(max(0, min(next - now + 1, 60_000)))
    }

    private func progressShutdown() {
        guard let s = shutdown else { return }
        if !running.isEmpty {
            if nowMs() >= s.deadlineMs { stopAll(.cancelled, "the worker shut down before it finished") }
            return
        }
        zygote.shutdown()
        spares.shutdown()
        if let id = s.requestID {
            send(RPCResponse(id: id, result: .object(["shutdown": true, "finished": .int(Int64(finished))])))
        }
        flushBlocking()
        exit(0)
    }

    // MARK: Output

    private func send(_ response: RPCResponse) {
        var line: [UInt8] = []
        response.encodeLine(into: &line)
        write(line)
    }

    private func write(_ bytes: [UInt8]) {
        output += bytes
        flush()
    }

    private func flush() {
        while outputOffset < output.count {
            let n = output.withUnsafeBytes { Glibc.write(1, $0.baseAddress.map { $0 + outputOffset }, output.count - outputOffset) }
            if n > 0 {
                outputOffset += n
                continue
            }
            if n < 0 && errno == EINTR { continue }
            if n < 0 && errno == EAGAIN {
                if !waitingToWrite {
                    waitingToWrite = true
                    loop.watch(1, events: EventLoop.writable) { [unowned self] _ in self.flush() }
                }
                return
            }
            // EPIPE: the host is gone.
            stopAll(.cancelled, "the host stopped reading")
            exit(0)
        }
        output.removeAll(keepingCapacity: output.count < (1 << 20))
        outputOffset = 0
        if waitingToWrite {
            waitingToWrite = false
            loop.modify(1, events: 0)
        }
    }

    private func flushBlocking() {
        _ = stk_set_nonblock(1, 0)
        flush()
    }
}
