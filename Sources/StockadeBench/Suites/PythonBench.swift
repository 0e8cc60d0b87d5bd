import Stockade
import StockadeProtocol

/// `stockade bench python`: Python and JavaScript requests in a warm worker with the warm
/// runtimes on (zygote fork, spare Node process) and off (a cold interpreter per request), a fresh
/// bwrap sandbox per request, and the interpreter run directly on the host, interleaved.
public enum PythonBench {
    public static func run(_ settings: BenchSettings) async -> BenchReport {
        Sandbox.prime()
        var report = BenchReport(host: [:])
        let warm: Worker
        let cold: Worker
        do {
            warm = try await Worker.start(WorkerConfiguration())
            var c = WorkerConfiguration()
            c.warmPython = false
            c.warmJavaScript = false
            cold = try await Worker.start(c)
        } catch {
            report.notes.append("python benchmarks skipped: a worker did not start: \(error)")
            return report
        }
        // Warm up the zygote and the spare.
        _ = try? await warm.execute(ExecuteParams(language: .python, code: "pass"))
        _ = try? await warm.execute(ExecuteParams(language: .javascript, code: "0"))
        for _ in 0..<250 {
            if let w = try? await warm.stats()["warm"], w["zygote_ready"]?.boolValue == true, (w["node_spares"]?.intValue ?? 0) > 0 { break }
            try? await Task.sleep(for: .milliseconds(20))
        }
        let bwrap = BwrapPeer()
        struct Case { var name: String; var language: Language; var code: String; var handler: Bool; var event: JSONValue?; var host: [String] }
        let cases = [
            Case(name: "python-handler", language: .python, code: "def handler(event):\n    return event", handler: true,
                 event: ["n": 1], host: ["/usr/bin/python3", "-c", "import json\ndef handler(event):\n    return event\nprint(json.dumps(handler({'n': 1})))"]),
            Case(name: "python-print", language: .python, code: "print(1)", handler: false, event: nil,
                 host: ["/usr/bin/python3", "-c", "print(1)"]),
            Case(name: "js-handler", language: .javascript, code: "exports.handler = (event) => event", handler: true,
                 event: ["n": 1], host: ["/usr/bin/node", "-e", "const handler = (event) => event; console.log(JSON.stringify(handler({n: 1})))"]),
            Case(name: "js-print", language: .javascript, code: "console.log(1)", handler: false, event: nil,
                 host: ["/usr/bin/node", "-e", "console.log(1)"]),
        ]
        for c in cases {
            let params = ExecuteParams(language: c.language, code: c.code, handler: c.handler, event: c.event)
            @Sendable func run(_ w: Worker) async throws {
                let r = try await w.execute(params)
                guard r.status == .ok else { throw ExternalCommand.Failure(description: "\(c.name): \(r.status) \(r.stderr)") }
            }
            var contenders = [Contender(tool: "stockade-warm") { try await run(warm) },
                              Contender(tool: "stockade-cold") { try await run(cold) }]
            if let bwrap {
                contenders.append(Contender(tool: "bwrap") { try bwrap.command(c.host).run() })
            } else {
                contenders.append(.skipped("bwrap", BwrapPeer.skipReason))
            }
            contenders.append(Contender(tool: "host") { try ExternalCommand(c.host[0], Array(c.host.dropFirst())).run() })
            report.merge(await settings.runner(warmup: 5, iterations: 60).run(c.name, contenders))
        }
        if let stats = try? await warm.stats()["warm"] { report.notes.append("warm runtime counters: \(stats)") }
        await warm.stop(grace: 1)
        await cold.stop(grace: 1)
        return report
    }
}
