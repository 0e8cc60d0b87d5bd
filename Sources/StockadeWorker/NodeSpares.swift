import CStockade
import Glibc

/// The warm JavaScript runtime. Node cannot be forked safely (V8 runs threads), so instead of a
/// zygote the worker keeps spare Node processes: each is a cold start done ahead of time, blocked
/// reading its code on fd 3. A request takes one (getting a fresh process, exactly as a cold run)
/// and a replacement starts in the background. Nothing is shared between requests.
final class NodeSpares {
    struct Spare {
        var pid: Int32
        var stdinW: Int32
        var stdoutR: Int32
        var stderrR: Int32
        var codeW: Int32
        var metaW: Int32
        var resultR: Int32
        var startedMs: Double
    }

    private(set) var spares: [Spare] = []
    private(set) var started = 0
    let target: Int
    private let config: WorkerConfig

    init(config: WorkerConfig, target: Int) {
        self.config = config
        self.target = target
    }

    /// Pids of idle spares (the sweeper spares them).
    var pids: [Int32] { spares.map(\.pid) }

    /// Start spares until there are `target`.
    func refill() {
        while spares.count < target {
            guard let s = startOne() else { return }
            spares.append(s)
        }
    }

    /// A spare for a request, if one is ready.
    func take() -> Spare? {
        spares.isEmpty ? nil : spares.removeFirst()
    }

    /// A spare died while idle (reaped by the worker): forget it and close its pipes.
    func died(_ pid: Int32) -> Bool {
        guard let i = spares.firstIndex(where: { $0.pid == pid }) else { return false }
        let s = spares.remove(at: i)
        for fd in [s.stdinW, s.stdoutR, s.stderrR, s.codeW, s.metaW, s.resultR] { close(fd) }
        return true
    }

    private func startOne() -> Spare? {
        func pair() -> (Int32, Int32)? {
            var fds: [Int32] = [-1, -1]
            return stk_pipe2(&fds, O_CLOEXEC) == 0 ? (fds[0], fds[1]) : nil
        }
        guard let stdin = pair(), let out = pair(), let err = pair(), let code = pair(), let meta = pair(), let res = pair() else {
            return nil
        }
        let childEnds = [stdin.0, out.1, err.1, code.0, meta.0, res.1]
        let parentEnds = [stdin.1, out.0, err.0, code.1, meta.1, res.0]
        defer { for fd in childEnds { close(fd) } }
        let env = config.baseEnvironment.map { "\($0.0)=\($0.1)" }
        let launcher = ChildLauncher(argv: ["/usr/bin/node", "-e", Runners.javascript, "stockade-spare"], env: env,
                                     cwd: config.workDirectory, fds: childEnds, rlimits: [])
        guard let pid = try? launcher.launch() else {
            for fd in parentEnds { close(fd) }
            return nil
        }
        started += 1
        return Spare(pid: pid, stdinW: stdin.1, stdoutR: out.0, stderrR: err.0, codeW: code.1, metaW: meta.1,
                     resultR: res.0, startedMs: nowMs())
    }

    func shutdown() {
        for s in spares {
            kill(s.pid, SIGKILL)
            for fd in [s.stdinW, s.stdoutR, s.stderrR, s.codeW, s.metaW, s.resultR] { close(fd) }
        }
        spares.removeAll()
    }
}
