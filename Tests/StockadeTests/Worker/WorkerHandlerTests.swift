import Glibc
import StockadeProtocol
import Testing
@testable import Stockade

@Suite("worker: handlers, stdin, env", .enabled(if: Harness.isRoot, Harness.rootReason))
struct WorkerHandlerTests {
    @Test("Python handler, with and without context, sync and async, prints captured")
    func pythonHandler() async throws {
        try await WorkerHarness.with { w in
            let r = try await WorkerHarness.run(w, .python, "def handler(event):\n    print('seen', event['n'])\n    return {'double': event['n'] * 2, 'list': [1, None, 'x']}") {
                $0.handler = true
                $0.event = ["n": 21]
            }
            #expect(r.status == .ok, "\(r.stderr)")
            #expect(r.returnValue == ["double": 42, "list": [1, nil, "x"]])
            #expect(r.stdout == "seen 21\n")
            let ctx = try await WorkerHarness.run(w, .python, "def handler(event, context):\n    return context['execution_id']") {
                $0.handler = true
                $0.executionID = "exec-ctx-1"
            }
            #expect(ctx.returnValue == "exec-ctx-1")
            let asyncR = try await WorkerHarness.run(w, .python, "import asyncio\nasync def handler(event):\n    await asyncio.sleep(0.01)\n    return 'later'") { $0.handler = true }
            #expect(asyncR.returnValue == "later")
        }
    }

    @Test("Python handler errors come back with type, message and traceback")
    func pythonHandlerError() async throws {
        let r = try await WorkerHarness.with {
            try await WorkerHarness.run($0, .python, "def handler(event):\n    return {}['missing']") { $0.handler = true }
        }
        #expect(r.status == .runtimeError)
        #expect(r.error?.type == "KeyError")
        #expect(r.error?.traceback?.contains("handler") == true)
        #expect(r.returnValue == nil)
    }

    @Test("a missing handler and an unserialisable return value are clear errors")
    func handlerMistakes() async throws {
        try await WorkerHarness.with { w in
            let missing = try await WorkerHarness.run(w, .python, "x = 1") { $0.handler = true }
            #expect(missing.status == .runtimeError)
            #expect(missing.error?.message.contains("handler") == true)
            let bad = try await WorkerHarness.run(w, .python, "def handler(e):\n    return object()") { $0.handler = true }
            #expect(bad.status == .runtimeError)
            #expect(bad.error?.message.contains("JSON") == true)
        }
    }

    @Test("JavaScript handlers: module.exports, exports, export const; sync and async; throw")
    func javascriptHandlers() async throws {
        try await WorkerHarness.with { w in
            let cjs = try await WorkerHarness.run(w, .javascript, "module.exports.handler = (event, context) => ({sum: event.a + event.b, id: context.executionId})") {
                $0.handler = true
                $0.event = ["a": 2, "b": 3]
                $0.executionID = "js-1"
            }
            #expect(cjs.status == .ok, "\(cjs.stderr)")
            #expect(cjs.returnValue == ["sum": 5, "id": "js-1"])
            let exp = try await WorkerHarness.run(w, .javascript, "exports.handler = async (e) => { console.log('hi'); return [e, 1]; }") {
                $0.handler = true
                $0.event = "ev"
            }
            #expect(exp.returnValue == ["ev", 1])
            #expect(exp.stdout == "hi\n")
            let esm = try await WorkerHarness.run(w, .javascript, "export const handler = async (event) => event.x * 10;") {
                $0.handler = true
                $0.event = ["x": 4]
            }
            #expect(esm.status == .ok, "\(esm.stderr)")
            #expect(esm.returnValue == 40)
            let thrown = try await WorkerHarness.run(w, .javascript, "exports.handler = async () => { throw new RangeError('too far'); }") { $0.handler = true }
            #expect(thrown.status == .runtimeError)
            #expect(thrown.error?.type == "RangeError")
            #expect(thrown.error?.message == "too far")
        }
    }

    @Test("shell scripts big and small run with only stdio open, exit codes kept")
    func shellScripts() async throws {
        try await WorkerHarness.with { w in
            let small = try await WorkerHarness.run(w, .shell, "ls /proc/self/fd | tr '\\n' ' '; exit 4")
            #expect(small.stdout == "0 1 2 3 ", "ls's own directory fd is 3: \(small.stdout)")
            #expect(small.exitCode == 4)
            // Over the 128 KiB argument limit: read whole, then run with fds 3-5 closed.
            let padding = String(repeating: "# padding line to make the script large\n", count: 4000)
            let big = try await WorkerHarness.run(w, .shell, padding + "ls /proc/self/fd | tr '\\n' ' '\necho \"$1-done\"; exit 5")
            #expect(big.stdout == "0 1 2 3 -done\n", "\(big.stdout) \(big.stderr)")
            #expect(big.exitCode == 5)
        }
    }

    @Test("stdin reaches the program")
    func stdin() async throws {
        try await WorkerHarness.with { w in
            let sh = try await WorkerHarness.run(w, .shell, "tr a-z A-Z") { $0.stdin = "hello\n" }
            #expect(sh.stdout == "HELLO\n")
            let py = try await WorkerHarness.run(w, .python, "import sys; print(sum(int(x) for x in sys.stdin))") { $0.stdin = "1\n2\n3\n" }
            #expect(py.stdout == "6\n")
        }
    }

    @Test("env: valid names are added, bad or reserved names are invalid params")
    func env() async throws {
        try await WorkerHarness.with { w in
            let ok = try await WorkerHarness.run(w, .shell, "echo $GREETING") { $0.env = ["GREETING": "hi there"] }
            #expect(ok.stdout == "hi there\n")
            for bad in ["1BAD", "BAD-NAME", "PATH", "LD_PRELOAD", ""] {
                let params = JSONValue.object(["language": "shell", "code": "true", "env": .object(JSONObject([(bad, .string("x"))]))])
                #expect(throws: RPCError.self) { _ = try ExecuteParams(json: params) }
            }
            // Through the wire: a raw request with a bad name is a JSON-RPC invalid-params error.
            do {
                _ = try await w.execute(ExecuteParams(language: .shell, code: "true", env: ["BAD NAME": "x"]))
                Issue.record("a bad env name was accepted")
            } catch let WorkerError.rpc(error) {
                #expect(error.code == RPCError.Code.invalidParams)
                #expect(error.message.contains("BAD NAME"))
            }
        }
    }
}
