import Glibc
import StockadeProtocol
import Testing
@testable import Stockade

enum WorkerHarness {
    static let warmOff: Bool = getenv("STOCKADE_TEST_WARM").map { String(cString: $0) == "0" } ?? false

    static func start(_ configure: (inout WorkerConfiguration) -> Void = { _ in }) async throws -> Worker {
        var config = WorkerConfiguration()
        config.startupTimeoutSeconds = 10
        // STOCKADE_TEST_WARM=0 runs the suites with the warm runtimes off (scripts/test does both).
        if warmOff {
            config.warmPython = false
            config.warmJavaScript = false
        }
        configure(&config)
        let worker = try await Worker.start(config)
        if !warmOff && config.image == nil { try await warmUp(worker) }
        return worker
    }

    /// Start the warm runtimes and wait until they are ready, so the tests' requests run warm.
    static func warmUp(_ worker: Worker) async throws {
        _ = try await worker.execute(ExecuteParams(language: .python, code: "pass"))
        _ = try await worker.execute(ExecuteParams(language: .javascript, code: "0"))
        for _ in 0..<500 {
            let warm = try await worker.stats()["warm"]
            if warm?["zygote_ready"]?.boolValue == true, (warm?["node_spares"]?.intValue ?? 0) >= 1 { return }
            try await Task.sleep(for: .milliseconds(20))
        }
        Issue.record("the warm runtimes did not become ready: \(try await worker.stats())")
    }

    /// Run `body` with a fresh worker, stopped after.
    static func with<T>(_ configure: (inout WorkerConfiguration) -> Void = { _ in },
                        _ body: (Worker) async throws -> T) async throws -> T {
        let worker = try await start(configure)
        do {
            let value = try await body(worker)
            await worker.stop(grace: 1)
            return value
        } catch {
            await worker.stop(grace: 0)
            throw error
        }
    }

    static func run(_ worker: Worker, _ language: Language, _ code: String,
                    _ configure: (inout ExecuteParams) -> Void = { _ in }) async throws -> ExecutionResult {
        var p = ExecuteParams(language: language, code: code)
        configure(&p)
        return try await worker.execute(p)
    }

    /// An image of the hostile test worker.
    static func fakeImage() throws -> ExecutableImage {
        let real = try WorkerImage.locate()
        var dir = real
        while let last = dir.last, last != "/" { dir.removeLast() }
        return try ExecutableImage(copying: dir + "stockade-fake-worker", name: "stockade-fake-worker")
    }
}
