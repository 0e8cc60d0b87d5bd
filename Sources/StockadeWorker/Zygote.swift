import CStockade
import Glibc
import StockadeProtocol

/// The warm Python runtime: a zygote that has the interpreter initialised and the runner compiled,
/// and forks one fresh child per request (see WarmRunners.pythonZygote). Every request starts from
/// the zygote's clean state; nothing a request does reaches the zygote or the next request.
final class PythonZygote {
    enum State: Equatable { case stopped, starting, ready, backingOff(until: Double) }

    private(set) var state: State = .stopped
    private(set) var pid: Int32 = -1
    private var control: Int32 = -1
    /// Executions sent to the zygote, waiting for their pid (answers come in order).
    private var awaiting: [Execution] = []
    private(set) var restarts = 0
    private var consecutiveFailures = 0
    private let loop: EventLoop
    private let config: WorkerConfig
    /// Called with (execution, pid) when a fork answered, or (execution, nil) when it failed.
    var onForked: (Execution, Int32?) -> Void = { _, _ in }

    init(loop: EventLoop, config: WorkerConfig) {
        self.loop = loop
        self.config = config
    }

    var isReady: Bool { state == .ready }
    /// Whether forks are in flight whose pid has not arrived.
    var hasAwaiting: Bool { !awaiting.isEmpty }

    /// Start the zygote if it is not running (and not backing off after failures).
    func ensureStarted() {
        switch state {
        case .ready, .starting: return
        case let .backingOff(until) where nowMs() < until: return
        default: break
        }
        var pair: [Int32] = [-1, -1]
        guard stk_socketpair_seqpacket(&pair) == 0 else { return }
        let devnull = open("/dev/null", O_RDONLY | O_CLOEXEC)
        var env = config.baseEnvironment.map { "\($0.0)=\($0.1)" }
        env.append("STOCKADE_RUNNER=" + Runners.python)
        let launcher = ChildLauncher(argv: ["/usr/bin/python3", "-I", "-c", WarmRunners.pythonZygote], env: env,
                                     cwd: config.workDirectory, fds: [devnull, 2, 2, pair[1]], rlimits: [])
        defer {
            close(devnull)
            close(pair[1])
        }
        do {
            pid = try launcher.launch()
        } catch {
            close(pair[0])
            failed("could not start python3: step \(error.step), errno \(error.errno)")
            return
        }
        control = pair[0]
        _ = stk_set_nonblock(control, 1)
        state = .starting
        loop.watch(control) { [unowned self] _ in self.onReadable() }
    }

    /// Hand a request to the zygote: its six fds (0-5 of the child) and a header. Returns false
    /// when the zygote cannot take it (the caller starts it cold).
    func submit(_ e: Execution, fds: [Int32], header: JSONValue) -> Bool {
        guard state == .ready, control >= 0 else { return false }
        let bytes = JSONWriter.encode(header)
        let rc = bytes.withUnsafeBytes { buf in
            fds.withUnsafeBufferPointer { stk_send_fds(control, buf.baseAddress, UInt(buf.count), $0.baseAddress, Int32(fds.count)) }
        }
        guard rc == bytes.count else { return false }
        awaiting.append(e)
        return true
    }

    private func onReadable() {
        var buf = [UInt8](repeating: 0, count: 64)
        while true {
            let n = buf.withUnsafeMutableBytes { recv(control, $0.baseAddress, 64, Int32(MSG_DONTWAIT)) }
            if n < 0 && (errno == EAGAIN || errno == EINTR) { return }
            if n <= 0 {
                stopped(reason: "the zygote closed its socket")
                return
            }
            if state == .starting, n == 5, buf[0..<5].elementsEqual("ready".utf8) {
                state = .ready
                consecutiveFailures = 0
                continue
            }
            guard n == 4, !awaiting.isEmpty else {
                stopped(reason: "the zygote sent an unexpected message")
                return
            }
            let value = buf.withUnsafeBytes { $0.loadUnaligned(as: Int32.self) }
            let e = awaiting.removeFirst()
            onForked(e, value > 0 ? value : nil)
        }
    }

    /// The zygote's process ended (reaped by the worker).
    func exited() {
        stopped(reason: "the zygote exited")
    }

    private func stopped(reason: String) {
        if control >= 0 { loop.closeFD(control) }
        control = -1
        if pid > 0 { kill(pid, SIGKILL) }
        pid = -1
        let lost = awaiting
        awaiting.removeAll()
        for e in lost { onForked(e, nil) }
        restarts += 1
        failed(reason)
    }

    private func failed(_ reason: String) {
        consecutiveFailures += 1
        let delay = min(30_000, 100 * Double(1 << min(consecutiveFailures, 8)))
        state = .backingOff(until: nowMs() + delay)
        WorkerLog.info("warm python: \(reason); cold starts for the next \(Int(delay)) ms")
    }

    /// Stop it (worker shutdown).
    func shutdown() {
        if control >= 0 { loop.closeFD(control) }
        control = -1
        if pid > 0 { kill(pid, SIGKILL) }
        state = .stopped
    }
}
