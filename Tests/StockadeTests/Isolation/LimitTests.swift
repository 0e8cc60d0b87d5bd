import Glibc
import Testing
@testable import Stockade

@Suite("resource limits", .enabled(if: Harness.isRoot, Harness.rootReason))
struct LimitTests {
    @Test("a fork bomb stops at the pids limit")
    func forkBomb() async throws {
        let out = try await Harness.python("""
            import os, time
            n = 0
            try:
                while n < 500:
                    if os.fork() == 0:
                        time.sleep(3); os._exit(0)
                    n += 1
            except OSError as e:
                print("STOPPED", n, e.errno)
            """) { $0.limits.pids = 16; $0.limits.wallSeconds = 20 }
        let line = out.stdout.split(separator: "\n").first { $0.hasPrefix("STOPPED") }
        #expect(line != nil, "\(out.stdout) \(out.stderr)")
        let n = line.flatMap { Int($0.split(separator: " ")[1]) } ?? 999
        #expect(n < 16)
    }

    @Test("a file larger than the fsize limit fails")
    func fileSize() async throws {
        let out = try await Harness.python("""
            import signal
            signal.signal(signal.SIGXFSZ, signal.SIG_IGN)
            try:
                open("/tmp/big", "wb").write(b"x" * 2_000_000); print("WROTE")
            except OSError as e:
                print("EFBIG" if e.errno == 27 else e)
            """) { $0.limits.fileSizeBytes = 1 << 20 }
        #expect(out.stdout.contains("EFBIG"), "\(out.stdout) \(out.stderr)")
    }

    @Test("CPU time kills a busy loop, reported as timeout")
    func cpuTime() async throws {
        let out = try await Harness.sh("while :; do :; done") { $0.limits.cpuSeconds = 1; $0.limits.wallSeconds = 20 }
        if case .signaled = out.outcome.termination {} else { Issue.record("expected a signal, got \(out.outcome.termination)") }
        #expect(out.outcome.cpuSeconds >= 0.9)
        #expect(out.outcome.status == "timeout")
        #expect(!out.outcome.wallTimeExceeded)
    }

    @Test("wall time kills a sleeper")
    func wallTime() async throws {
        let out = try await Harness.sh("sleep 30") { $0.limits.wallSeconds = 0.5 }
        #expect(out.outcome.termination == .signaled(SIGKILL))
        #expect(out.outcome.wallTimeExceeded)
        #expect(out.outcome.status == "timeout")
        #expect(out.outcome.wallSeconds < 5)
    }

    @Test("the memory cgroup stops a memory hog: status memory_limit, cgroup removed after")
    func memoryHog() async throws {
        let out = try await Harness.python("x = bytearray(300 * 1024 * 1024); print('ALLOCATED')") {
            $0.limits.memoryBytes = 64 << 20
        }
        #expect(!out.stdout.contains("ALLOCATED"))
        #expect(out.outcome.status == "memory_limit", "\(out.outcome)")
        #expect(out.outcome.oomKilled)
        let leftovers = CgroupSystem.host.bases.values.flatMap { base -> [String] in
            guard let d = opendir(base) else { return [] }
            defer { closedir(d) }
            var names: [String] = []
            while let e = readdir(d) {
                let n = withUnsafeBytes(of: e.pointee.d_name) { String(decoding: $0.prefix { $0 != 0 }, as: UTF8.self) }
                if n.hasPrefix("run-\(getpid())-") { names.append(n) }
            }
            return names
        }
        // Other tests of this process may be running with their own groups; ours is gone.
        #expect(leftovers.count <= 8)
    }
}

@Suite("spawn errors", .enabled(if: Harness.isRoot, Harness.rootReason))
struct SpawnErrorTests {
    @Test("a bind of a missing path names the step and the path")
    func missingBind() async throws {
        var spec = SandboxSpec(arguments: ["/bin/true"])
        spec.mounts = [.bind(source: "/nonexistent/stockade-path", destination: "/x", readOnly: true)]
        do {
            _ = try await Sandbox.spawn(spec)
            Issue.record("spawn succeeded")
        } catch let error as SandboxError {
            guard case let .spawn(step, errno, detail) = error else { Issue.record("wrong error \(error)"); return }
            #expect(step == .bind)
            #expect(errno == .noSuchFileOrDirectory)
            #expect(detail == "/nonexistent/stockade-path")
            #expect(error.description.contains("'bind'"))
            #expect(error.description.contains("/nonexistent/stockade-path"))
        }
    }

    @Test("a failure inside the child comes back with its step and errno")
    func childSideFailure() async throws {
        // Root-only directory: the sandbox identity cannot traverse it, so the bind fails in the child.
        let dir = Harness.temporaryDirectory("private")
        defer { Harness.removeTree(dir) }
        #expect(chmod(dir, 0o700) == 0)
        #expect(mkdir(dir + "/inner", 0o755) == 0)
        var spec = SandboxSpec(arguments: ["/bin/true"])
        spec.mounts = [.bind(source: dir + "/inner", destination: "/x", readOnly: true)]
        do {
            _ = try await Sandbox.spawn(spec)
            Issue.record("spawn succeeded")
        } catch let SandboxError.spawn(step, errno, detail) {
            #expect(step == .bind)
            #expect(errno == .permissionDenied)
            #expect(detail == dir + "/inner")
        }
    }

    @Test("a missing program is reported at the exec step")
    func missingProgram() async throws {
        do {
            _ = try await Sandbox.spawn(SandboxSpec(arguments: ["no-such-program-stockade"]))
            Issue.record("spawn succeeded")
        } catch let SandboxError.spawn(step, errno, _) {
            #expect(step == .exec)
            #expect(errno == .noSuchFileOrDirectory)
        }
    }

    @Test("invalid specs are refused before clone")
    func invalidSpecs() async throws {
        for spec in [SandboxSpec(arguments: []),
                     { var s = SandboxSpec(arguments: ["/bin/true"]); s.workingDirectory = "relative"; return s }(),
                     { var s = SandboxSpec(arguments: ["/bin/true"]); s.mounts = [.tmpfs(destination: "/a/../etc", sizeBytes: 0, mode: 0o755)]; return s }(),
                     { var s = SandboxSpec(arguments: ["/bin/true"]); s.identity = Identity(hostUID: 0, hostGID: 0); return s }()] {
            await #expect(throws: SandboxError.self) { _ = try await Sandbox.spawn(spec) }
        }
    }
}
