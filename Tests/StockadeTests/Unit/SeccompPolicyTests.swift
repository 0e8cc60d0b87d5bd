import FoundationEssentials
import Testing
@testable import Stockade

@Suite("seccomp policies as data")
struct SeccompPolicyTests {
    @Test("the default policy compiles and covers the attack surface the design names")
    func defaultPolicy() throws {
        let program = try SeccompCompiler.program(for: .default)
        #expect(program.instructionCount > 50)
        #expect(program.instructionCount < 4096)
        let names = Set(SeccompPolicy.default.rules.flatMap(\.syscalls))
        for s in ["keyctl", "add_key", "bpf", "perf_event_open", "userfaultfd", "init_module", "kexec_load", "reboot",
                  "swapon", "acct", "settimeofday", "mount", "pivot_root", "chroot", "syslog", "iopl", "quotactl",
                  "name_to_handle_at", "open_by_handle_at", "io_uring_setup", "ptrace", "process_vm_readv", "kcmp",
                  "pidfd_getfd", "modify_ldt", "personality", "setns", "unshare", "clone", "clone3", "ioctl", "socket"] {
            #expect(names.contains(s), "\(s) is not covered")
        }
    }

    @Test("policies round-trip through JSON and actions parse")
    func json() throws {
        let data = try JSONEncoder().encode(SeccompPolicy.default)
        let back = try JSONDecoder().decode(SeccompPolicy.self, from: data)
        #expect(back == SeccompPolicy.default)
        let text = #"{"default_action":"allow","rules":[{"syscalls":["uname"],"action":"errno:EPERM","args":[{"index":0,"op":"ne","value":0}]}]}"#
        let p = try JSONDecoder().decode(SeccompPolicy.self, from: Data(text.utf8))
        #expect(p.rules[0].action == .errno(1))
        #expect(p.badArchAction == .killProcess)
        _ = try SeccompCompiler.program(for: p)
        #expect(SeccompAction(parsing: "errno:38") == .errno(38))
        #expect(SeccompAction(parsing: "bogus") == nil)
    }

    @Test("bad policies fail with a message that says what is wrong")
    func badPolicies() {
        let twice = SeccompPolicy(defaultAction: .allow, rules: [SeccompRule(["personality"], .errno(1), args: [
            SeccompArgument(index: 0, op: .gt, value: 1), SeccompArgument(index: 0, op: .lt, value: 9)])])
        #expect { try SeccompCompiler.program(for: twice) } throws: { "\($0)".contains("compared twice") }
        let badIndex = SeccompPolicy(defaultAction: .allow, rules: [SeccompRule(["read"], .errno(1), args: [SeccompArgument(index: 7, op: .eq, value: 1)])])
        #expect { try SeccompCompiler.program(for: badIndex) } throws: { "\($0)".contains("0-5") }
        let unknown = SeccompPolicy(defaultAction: .allow, rules: [SeccompRule(["no_such_syscall_xyz"], .errno(1))])
        #expect((try? SeccompCompiler.program(for: unknown))?.unknownSyscalls == ["no_such_syscall_xyz"])
    }
}

@Suite("paths")
struct PathCheckTests {
    @Test("inside paths are normalized, traversal refused")
    func inside() throws {
        #expect(try PathCheck.inside("/a//b/", what: "x") == "/a/b")
        #expect(throws: SandboxError.self) { try PathCheck.inside("a/b", what: "x") }
        #expect(throws: SandboxError.self) { try PathCheck.inside("/a/../b", what: "x") }
        #expect(throws: SandboxError.self) { try PathCheck.inside("/a/./b", what: "x") }
        #expect(PathCheck.ancestors("/a/b/c") == ["/a", "/a/b"])
    }
}
