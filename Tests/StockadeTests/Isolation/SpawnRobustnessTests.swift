import Glibc
import Synchronization
import Testing
@testable import Stockade

@Suite("spawn robustness", .enabled(if: Harness.isRoot, Harness.rootReason))
struct SpawnRobustnessTests {
    /// STOCKADE_ROBUSTNESS_SPAWNS overrides the count (default 5,000).
    static let spawns: Int = {
        if let v = getenv("STOCKADE_ROBUSTNESS_SPAWNS"), let n = Int(String(cString: v)) { return n }
        return 5000
    }()

    @Test("thousands of spawns from a busy multithreaded process: no hang, no fd or zombie leak")
    func manySpawns() async throws {
        // Process-lifetime resources are made on first use (the reactor, the spawn threads, the
        // pool of pre-made network namespaces): make them before counting.
        for _ in 0..<20 {
            var spec = SandboxSpec(arguments: ["/bin/true"])
            spec.stdout = .null
            _ = await (try await Sandbox.spawn(spec)).wait()
        }
        let fdsBefore = Harness.openFDCount()
        let zombiesBefore = Harness.zombieChildren().count
        let stop = Locked(false)
        // Other threads busy allocating, locking and printing while we clone.
        let noise = (0..<3).map { i in
            Task.detached {
                var sink = 0
                var chunks: [[UInt8]] = []
                while !stop.value {
                    chunks.append([UInt8](repeating: UInt8(i), count: 1000 + sink % 5000))
                    if chunks.count > 64 { chunks.removeAll(keepingCapacity: false) }
                    sink &+= chunks.count
                    if sink % 99_991 == 0 { print("noise \(i) \(sink)") }
                    await Task.yield()
                }
                return sink
            }
        }
        let failures = Locked<[String]>([])
        let perSpawner = Self.spawns / 4
        await withTaskGroup(of: Void.self) { group in
            for _ in 0..<4 {
                group.addTask {
                    for _ in 0..<perSpawner {
                        var spec = SandboxSpec(arguments: ["/bin/true"])
                        spec.stdout = .null
                        spec.stderr = .null
                        do {
                            let p = try await Sandbox.spawn(spec)
                            let outcome = await p.wait()
                            if outcome.termination != .exited(0) {
                                failures.withLock { $0.append("exit \(outcome.termination)") }
                            }
                        } catch {
                            failures.withLock { $0.append("\(error)") }
                        }
                    }
                }
            }
        }
        stop.withLock { $0 = true }
        for t in noise { _ = await t.value }
        let errors = failures.value
        #expect(errors.isEmpty, "\(errors.count) failures, first: \(errors.prefix(3))")
        // Processes were reaped as they exited; give the reactor a moment for the last ones.
        var zombies = Harness.zombieChildren().count
        for _ in 0..<50 where zombies > zombiesBefore {
            usleep(20_000)
            zombies = Harness.zombieChildren().count
        }
        #expect(zombies <= zombiesBefore)
        #expect(Harness.openFDCount() <= fdsBefore + 2, "fds before \(fdsBefore), after \(Harness.openFDCount())")
    }
}
