import Glibc
import StockadeProtocol
import Testing
@testable import Stockade

enum WorkerHarness {
    static func start(_ configure: (inout WorkerConfiguration) -> Void = { _ in }) async throws -> Worker {
        var config = WorkerConfiguration()
        config.startupTimeoutSeconds = 10
        configure(&config)
        return try await Worker.start(config)
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
