/// The small programs each request's interpreter runs. The user's code arrives on fd 3, the
/// request's metadata (handler mode, event, limits) as JSON on fd 4, and the runner reports how the
/// code ended as one JSON object on fd 5: {"ok": true, "return_value": ...} or
/// {"ok": false, "error": {"type", "message", "traceback"}, "memory": bool}.
enum Runners {
    static let python = #"""
import os as _os, sys as _sys
def _stockade_read(fd):
    parts = []
    while True:
        b = _os.read(fd, 1 << 20)
        if not b:
            break
        parts.append(b)
    _os.close(fd)
    return b"".join(parts)
def _stockade_run():
    import json, traceback
    _os.set_inheritable(5, False)   # the report fd: not for the user's own child processes
    code = _stockade_read(3).decode("utf-8", "replace")
    raw = _stockade_read(4)
    meta = json.loads(raw) if raw else {}
    res = _os.fdopen(5, "w")
    def report(obj):
        try:
            text = json.dumps(obj)
        except (TypeError, ValueError) as e:
            text = json.dumps({"ok": False, "error": {"type": "TypeError",
                "message": "the handler's return value is not JSON-serialisable: %s" % e, "traceback": ""}})
        res.write(text)
        res.flush()
    def fail(e, memory=False):
        tb = traceback.format_exception(type(e), e, e.__traceback__)
        # Drop the runner's own frames: the user's traceback starts at their code.
        tb = [l for l in tb if "_stockade_run" not in l]
        text = "".join(tb)
        _sys.stderr.write(text)
        _sys.stderr.flush()
        report({"ok": False, "memory": memory, "error": {"type": type(e).__name__, "message": str(e), "traceback": text}})
    g = {"__name__": "__main__", "__builtins__": __builtins__, "__file__": "<code>"}
    try:
        exec(compile(code, "<code>", "exec"), g)
        if meta.get("handler"):
            h = g.get("handler")
            if not callable(h):
                raise NameError("no function named 'handler': define def handler(event) or def handler(event, context)")
            import inspect
            try:
                n = len(inspect.signature(h).parameters)
            except (TypeError, ValueError):
                n = 1
            ctx = {"execution_id": meta.get("execution_id"), "language": "python",
                   "limits": meta.get("limits", {})}
            rv = h(meta.get("event")) if n < 2 else h(meta.get("event"), ctx)
            if inspect.isawaitable(rv):
                import asyncio
                async def _await(x):
                    return await x
                rv = asyncio.run(_await(rv))
            _sys.stdout.flush()
            report({"ok": True, "return_value": rv})
        else:
            _sys.stdout.flush()
            report({"ok": True})
    except SystemExit as e:
        _sys.stdout.flush()
        code = e.code if isinstance(e.code, int) else (0 if e.code is None else 1)
        if code == 0:
            report({"ok": True})
        raise
    except MemoryError as e:
        fail(e, memory=True)
        _os._exit(1)
    except BaseException as e:
        fail(e)
        _sys.stdout.flush()
        _os._exit(1)
_stockade_run()
"""#

    static let javascript = #"""
'use strict';
const fs = require('fs');
const readAll = (fd) => { const s = fs.readFileSync(fd, 'utf8'); fs.closeSync(fd); return s; };
// A spare (started ahead of its request) makes its stdout and stderr streams while it waits:
// Node builds them on first use, which costs milliseconds.
if (process.argv.includes('stockade-spare')) { void process.stdout; void process.stderr; }
const code = readAll(3);
const raw = readAll(4);
const meta = raw ? JSON.parse(raw) : {};
// A spare (started before its request) gets its environment here; a cold start got it at exec.
if (meta.env) { for (const k of Object.keys(process.env)) delete process.env[k]; Object.assign(process.env, meta.env); }
// The runner's report goes to fd 5 once, as the process ends, with the exit code in it: the
// process then SIGKILLs itself instead of tearing V8 down (milliseconds saved per request; output
// to pipes is already written, Node writes pipes synchronously on Linux). The worker reads the
// exit code from the report. A user's own beforeExit listener keeps Node's normal ending.
let pending = null;
let written = false;
const report = (obj) => { if (pending === null) pending = obj; };
const finish = (code) => {
  if (written) return true;
  let obj = pending || ((code === 0 && !meta.handler) ? { ok: true } : {});
  let text;
  try { text = JSON.stringify(Object.assign({}, obj, { exit_code: code }), (k, v) => (typeof v === 'bigint' ? v.toString() : v)); }
  catch (e) { text = JSON.stringify({ ok: false, exit_code: code, error: { type: 'TypeError', message: "the handler's return value is not JSON-serialisable: " + e.message, traceback: '' } }); }
  try { fs.writeSync(5, text); } catch (e) { return false; }
  written = true;
  return true;
};
const reallyExit = process.reallyExit;
process.reallyExit = (code) => {
  code = (code | 0) & 0xff;
  if (finish(code)) process.kill(process.pid, 'SIGKILL');
  reallyExit.call(process, code);
};
const fail = (e) => {
  const tb = (e && e.stack) ? String(e.stack) : String(e);
  const memory = /heap out of memory|Allocation failed|Array buffer allocation failed/i.test(tb);
  process.stderr.write(tb + '\n');
  report({ ok: false, memory, error: { type: (e && e.name) || 'Error', message: (e && e.message !== undefined) ? String(e.message) : String(e), traceback: tb } });
  process.exitCode = 1;
};
process.on('uncaughtException', fail);
process.on('unhandledRejection', fail);
process.on('beforeExit', () => { if (process.listenerCount('beforeExit') === 1) process.exit(); });
process.on('exit', (c) => { if (c === 0 && !meta.handler) report({ ok: true }); finish((c | 0) & 0xff); });
async function main() {
  let mod;
  const esm = /^\s*export\s/m.test(code) || /^\s*import\s[^(]/m.test(code);
  if (esm) {
    mod = await import('data:text/javascript;base64,' + Buffer.from(code).toString('base64'));
  } else {
    const Module = require('module');
    const m = new Module('/tmp/code.js', null);
    m.filename = '/tmp/code.js';
    m.paths = Module._nodeModulePaths('/tmp');
    m._compile(code, '/tmp/code.js');
    mod = m.exports;
  }
  if (meta.handler) {
    let h = mod && mod.handler;
    if (typeof h !== 'function' && mod && mod.default) h = typeof mod.default === 'function' ? mod.default : mod.default.handler;
    if (typeof h !== 'function') throw new Error('no handler exported: use module.exports.handler = (event, context) => ..., exports.handler, or export const handler');
    const context = { executionId: meta.execution_id, language: 'javascript', limits: meta.limits || {} };
    const rv = await h(meta.event, context);
    report({ ok: true, return_value: rv === undefined ? null : rv });
  }
}
main().catch(fail);
"""#
}
