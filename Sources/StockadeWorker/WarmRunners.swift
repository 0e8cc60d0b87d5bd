/// Programs of the warm runtimes (see Zygote.swift and NodeSpares.swift).
enum WarmRunners {
    /// The Python zygote. It imports what the runner needs, then serves fork requests on fd 3 (a
    /// unix seqpacket socket to the worker). Each request carries a JSON header and six fds (the
    /// request's 0-5). It forks with clone(CLONE_PARENT), so the request's process is the worker's
    /// child like a cold one, and answers with the pid. The child sets itself up (fds, session,
    /// limits, environment, directory, dumpable) and runs the same runner as a cold start.
    static let pythonZygote = #"""
import os, sys, json, socket, struct, ctypes, signal, resource, traceback, inspect, asyncio, atexit
_libc = ctypes.PyDLL(None, use_errno=True)   # PyDLL: the GIL stays held across clone, as in os.fork
_api = ctypes.pythonapi
_CLONE_PARENT = 0x00008000
_SYS_CLONE = 56
_libc.prctl(4, 0, 0, 0, 0)                    # PR_SET_DUMPABLE 0: requests cannot reach the zygote
ctl = socket.socket(fileno=3)
RUNNER = compile(os.environ.pop("STOCKADE_RUNNER"), "<stockade-runner>", "exec")
ctl.send(b"ready")
while True:
    try:
        msg, fds, _flags, _addr = socket.recv_fds(ctl, 65536, 6)
    except OSError:
        os._exit(0)
    if not msg:
        os._exit(0)
    head = json.loads(msg)
    _api.PyOS_BeforeFork()
    pid = _libc.syscall(_SYS_CLONE, _CLONE_PARENT | signal.SIGCHLD, 0, 0, 0, 0)
    if pid != 0:
        _api.PyOS_AfterFork_Parent()
        for fd in fds:
            os.close(fd)
        ctl.send(struct.pack("i", pid if pid > 0 else -ctypes.get_errno()))
        continue
    # The child: a request's process.
    _api.PyOS_AfterFork_Child()
    try:
        ctl.close()
        for i, fd in enumerate(fds):
            if fd != i:
                os.dup2(fd, i)
        os.closerange(6, 65536)
        os.setsid()
        _libc.prctl(4, 1, 0, 0, 0)            # dumpable again, as after exec
        for name, soft, hard in head.get("rlimits", []):
            resource.setrlimit(name, (soft, hard))
        os.environ.clear()
        os.environ.update(head.get("env", {}))
        os.chdir(head.get("cwd", "/tmp"))
        if head.get("stream"):
            sys.stdout.reconfigure(line_buffering=False, write_through=True)
            sys.stderr.reconfigure(line_buffering=False, write_through=True)
    except BaseException:
        traceback.print_exc()
        os._exit(70)
    code = 0
    try:
        exec(RUNNER, {"__name__": "__stockade_runner__", "__builtins__": __builtins__})
    except SystemExit as e:
        code = e.code if isinstance(e.code, int) else (0 if e.code is None else 1)
    except BaseException:
        traceback.print_exc()
        code = 1
    try:
        atexit._run_exitfuncs()
    finally:
        try:
            sys.stdout.flush()
        except BaseException:
            pass
        try:
            sys.stderr.flush()
        except BaseException:
            pass
        os._exit(code)
"""#
}
