import Glibc
import Testing
@testable import Stockade

@Suite("process isolation", .enabled(if: Harness.isRoot, Harness.rootReason))
struct ProcessIsolationTests {
    @Test("sees only its own pids and is PID 1")
    func ownPids() async throws {
        let out = try await Harness.sh("echo $$; ls /proc | grep -E '^[0-9]+$' | tr '\\n' ' '")
        let lines = out.stdout.split(separator: "\n")
        #expect(lines.first == "1")
        let pids = (lines.count > 1 ? lines[1] : "").split(separator: " ").compactMap { Int($0) }
        #expect(!pids.isEmpty)
        #expect(pids.allSatisfy { $0 < 10 }, "host pids visible: \(pids)")
        #expect(!pids.contains(Int(getpid())) || getpid() < 10)
    }

    @Test("different hostname")
    func hostname() async throws {
        let out = try await Harness.sh("hostname") { $0.hostname = "isolated-box" }
        #expect(out.stdout.trimmingTrailingNewline == "isolated-box")
        var buf = [CChar](repeating: 0, count: 256)
        gethostname(&buf, 255)
        #expect(String(decoding: buf.prefix { $0 != 0 }.map { UInt8(bitPattern: $0) }, as: UTF8.self) != "isolated-box")
    }

    @Test("empty capability sets, NoNewPrivs 1, Seccomp 2")
    func privileges() async throws {
        let out = try await Harness.sh("grep -E '^(Cap(Inh|Prm|Eff|Bnd|Amb)|NoNewPrivs|Seccomp):' /proc/self/status")
        var fields: [String: String] = [:]
        for line in out.stdout.split(separator: "\n") {
            let parts = line.split(separator: ":", maxSplits: 1)
            if parts.count == 2 { fields[String(parts[0])] = parts[1].trimmed }
        }
        for cap in ["CapInh", "CapPrm", "CapEff", "CapBnd", "CapAmb"] {
            #expect(fields[cap] == "0000000000000000", "\(cap) = \(fields[cap] ?? "missing")")
        }
        #expect(fields["NoNewPrivs"] == "1")
        #expect(fields["Seccomp"] == "2")
    }

    @Test("no environment variable of the host reaches it")
    func environment() async throws {
        setenv("STOCKADE_TEST_CANARY_SECRET", "canary-9f1c", 1)
        setenv("DB_PASSWORD", "hunter2-canary", 1)
        let out = try await Harness.sh("env; cat /proc/1/environ | tr '\\0' '\\n'")
        #expect(!out.stdout.contains("canary-9f1c"))
        #expect(!out.stdout.contains("hunter2-canary"))
        #expect(!out.stdout.contains("STOCKADE_TEST_CANARY"))
        let names = Set(out.stdout.split(separator: "\n").compactMap { $0.split(separator: "=").first.map(String.init) })
        #expect(names.isSubset(of: ["PATH", "HOME", "LANG", "PWD", "SHLVL", "_", "OLDPWD"]), "\(names.sorted())")
    }

    @Test("no fd beyond 0, 1, 2, even when the parent has fds without O_CLOEXEC")
    func fdHygiene() async throws {
        // Deliberately leaky fds in the parent.
        let leaky = open("/etc/hostname", O_RDONLY)
        var p: [Int32] = [0, 0]
        #expect(pipe(&p) == 0)
        defer { close(leaky); close(p[0]); close(p[1]) }
        // PID 1 execs ls directly (no pipeline whose fds the shell would hold while listing).
        let out = try await Harness.sh("exec ls /proc/1/fd")
        #expect(out.stdout.split(separator: "\n").map(String.init).sorted() == ["0", "1", "2", "3"], "\(out.stdout)")
    }

    @Test("the sandbox user is an ordinary uid with no supplementary root group")
    func identity() async throws {
        let out = try await Harness.sh("id -u; id -g; id -G; grep -E '^(Uid|Gid|Groups):' /proc/self/status")
        let lines = out.stdout.split(separator: "\n").map(String.init)
        #expect(lines.count >= 3)
        #expect(lines[0] == "1000")
        #expect(lines[1] == "1000")
        #expect(!lines[2].split(separator: " ").contains("0"), "groups: \(lines[2])")
    }
}
