import Stockade
import StockadeProtocol

/// `stockade bench worker`: a worker's cold start (spawn to first ping answer), the ping round
/// trip (beside its floor, a byte echoed by `cat` over pipes), and warm executions (shell `true`,
/// Python `print(1)`) against a fresh bwrap sandbox per
/// request and the command run directly on the host, interleaved.
public enum WorkerBench {
    public static func run(_ settings: BenchSettings) async -> BenchReport {
        Sandbox.prime()
        var report = BenchReport(host: [:])
        let bwrap = BwrapPeer()

        // Cold start: measured from spawn to the first pong; the stop after it is not timed.
        let cold = Contender.timed("stockade-api") {
            let w = try await Worker.start(WorkerConfiguration())
            let ms = w.startupSeconds * 1000
            await w.stop(grace: 0)
            return ms
        }
        report.merge(await settings.runner(warmup: 5, iterations: 100).run("worker-cold-start", [cold]))

        let worker: Worker
        do {
            worker = try await Worker.start(WorkerConfiguration())
        } catch {
            report.notes.append("worker benchmarks skipped: the worker did not start: \(error)")
            return report
        }
        // Memory of an idle worker (its sandbox's processes), then with the warm runtimes started.
        try? await Task.sleep(for: .milliseconds(200))
        report.memory.append(.init(name: "worker-idle", workers: 1, rss_bytes: Memory.pss(ofTreeAt: worker.pid)))
        _ = try? await worker.execute(ExecuteParams(language: .python, code: "pass"))
        _ = try? await worker.execute(ExecuteParams(language: .javascript, code: "0"))
        try? await Task.sleep(for: .milliseconds(1500))
        report.memory.append(.init(name: "worker-idle-warm-runtimes", workers: 1, rss_bytes: Memory.pss(ofTreeAt: worker.pid)))
        let ping = Contender(tool: "stockade-api") { _ = try await worker.ping() }
        var pings = [ping]
        let echo = PipeEcho()
        if let echo { pings.append(Contender(tool: "pipe-echo") { try echo.roundTrip() }) }
        report.merge(await settings.runner(warmup: 200, iterations: 2000).run("ping", pings))

        func warm(_ language: Language, _ code: String) -> Contender {
            Contender(tool: "stockade-api") {
                let r = try await worker.execute(ExecuteParams(language: language, code: code))
                guard r.status == .ok else { throw ExternalCommand.Failure(description: "\(language) \(code): \(r.status) \(r.stderr)") }
            }
        }
        func peers(_ argv: [String]) -> [Contender] {
            var out: [Contender] = []
            if let bwrap {
                out.append(Contender(tool: "bwrap") { try bwrap.command(argv).run() })
            } else {
                out.append(.skipped("bwrap", BwrapPeer.skipReason))
            }
            out.append(Contender(tool: "host") { try ExternalCommand(argv[0], Array(argv.dropFirst())).run() })
            return out
        }
        report.merge(await settings.runner(warmup: 20, iterations: 300).run(
            "warm-shell", [warm(.shell, "true")] + peers(["/bin/sh", "-c", "true"])))
        report.merge(await settings.runner(warmup: 5, iterations: 100).run(
            "warm-python", [warm(.python, "print(1)")] + peers(["/usr/bin/python3", "-c", "print(1)"])))
        await worker.stop(grace: 1)
        return report
    }
}
