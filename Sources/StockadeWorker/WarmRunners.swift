/// Programs of the warm runtimes (see Zygote.swift and NodeSpares.swift).
enum WarmRunners {
    /// The Python zygote. It imports what the runner needs (but asyncio), then serves fork requests on fd 3 (a
    /// unix seqpacket socket to the worker). Each request carries a JSON header and six fds (the
    /// request's 0-5). It forks with clone(CLONE_PARENT), so the request's process is the worker's
    /// child like a cold one, and answers with the pid. The child sets itself up (fds, session,
    /// limits, environment, directory, dumpable) and runs the same runner as a cold start.
    static let pythonZygote = #"""
import os, sys, json, socket, struct, ctypes, signal, resource, traceback, inspect, atexit
# asyncio is not imported here: it would add 7 MB to every fork (the page tables a fork copies);
# an async handler imports it in its own child.
_libc = ctypes.PyDLL(None, use_errno=True)   # PyDLL: the GIL stays held across clone, as in os.fork
_api = ctypes.pythonapi
_CLONE_PARENT = 0x00008000
_SYS_CLONE = 56
_libc.prctl(4, 0, 0, 0, 0)                    # PR_SET_DUMPABLE 0: requests cannot reach the zygote
ctl = socket.socket(fileno=3)
RUNNER = compile(os.environ.pop("STOCKADE_RUNNER"), "<stockade-runner>", "exec")

def _clone():
    # clone(CLONE_PARENT): the child is the worker's child, reaped and limited like a cold one.
    _api.PyOS_BeforeFork()
    pid = _libc.syscall(_SYS_CLONE, _CLONE_PARENT | signal.SIGCHLD, 0, 0, 0, 0)
    if pid == 0:
        _api.PyOS_AfterFork_Child()
    else:
        _api.PyOS_AfterFork_Parent()
    return pid

def _serve(head, fds, keep):
    # In the child: fds 0-5 from the request, then the same runner as a cold start.
    try:
        for i, fd in enumerate(fds):
            if fd != i:
                os.dup2(fd, i)
        for fd in set(fds) | set(keep):
            if fd > 5:
                os.close(fd)
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
        if not isinstance(e.code, int) and e.code is not None:
            try:
                print(e.code, file=sys.stderr)   # as python3 does for sys.exit("message")
            except BaseException:
                pass
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

def _prefork():
    # A child forked before its request, waiting on a socket of its own: the fork is paid between
    # requests, not during one. Returns (pid, socket) or None.
    a, b = socket.socketpair(socket.AF_UNIX, socket.SOCK_SEQPACKET)
    pid = _clone()
    if pid == 0:
        ctl.close()
        a.close()
        try:
            msg, fds, _f, _a = socket.recv_fds(b, 65536, 6)
        except OSError:
            os._exit(0)
        if not msg:
            os._exit(0)
        _serve(json.loads(msg), fds, [b.fileno()])
    b.close()
    if pid < 0:
        a.close()
        return None
    return (pid, a)

ready = _prefork()
ctl.send(b"ready")
while True:
    try:
        msg, fds, _flags, _addr = socket.recv_fds(ctl, 65536, 6)
    except OSError:
        os._exit(0)
    if not msg:
        os._exit(0)
    pid = -1
    if ready is not None:
        rpid, rsock = ready
        ready = None
        try:
            socket.send_fds(rsock, [msg], fds)
            pid = rpid
        except OSError:
            os.kill(rpid, signal.SIGKILL)
        rsock.close()
    if pid < 0:
        pid = _clone()
        if pid == 0:
            ctl.close()
            _serve(json.loads(msg), fds, [])
    for fd in fds:
        os.close(fd)
    ctl.send(struct.pack("i", pid if pid > 0 else -ctypes.get_errno()))
    ready = _prefork()
"""#
}
