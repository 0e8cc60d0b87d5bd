import CStockade
import Glibc

// stockade-worker: PID 1 of a sandbox. Speaks JSON-RPC 2.0 over stdin/stdout with the host and
// runs each request as a child process (see WorkerServer).

// It kills leftover processes of ended requests, which is only right inside its own pid namespace.
guard getpid() == 1 else {
    WorkerLog.fatal("stockade-worker must run as PID 1 of a sandbox (it is pid \(getpid())); the host starts it with `Worker.start`")
}

// Same-uid processes of the sandbox must not reach this process's memory, fds or environment
// through /proc/1/*: a non-dumpable process's /proc entries belong to root, outside their reach.
_ = stk_set_dumpable(0)
// Write errors (EPIPE) are handled where they happen; children get default dispositions back.
signal(SIGPIPE, SIG_IGN)

let config = WorkerConfig.parse(CommandLine.arguments)
WorkerServer(config: config).run()
