import Glibc
import Testing
@testable import Stockade

@Suite("denied system calls", .enabled(if: Harness.isRoot, Harness.rootReason))
struct SyscallDenialTests {
    /// Calls each syscall through ctypes and prints "name errno".
    static let probe = """
        import ctypes, os, socket
        libc = ctypes.CDLL(None, use_errno=True)
        def call(name, nr, *args):
            ctypes.set_errno(0)
            rc = libc.syscall(nr, *[ctypes.c_long(a) for a in args])
            print(name, rc, ctypes.get_errno())
        call("mount", 165, 0, 0, 0, 0, 0)
        call("unshare_user", 272, 0x10000000)
        call("keyctl", 250, 0, 0, 0, 0, 0)
        call("bpf", 321, 0, 0, 0)
        call("ptrace", 101, 16, 1, 0, 0)
        fd = os.open("/dev/null", os.O_RDONLY)
        call("tiocsti", 16, fd, 0x5412, 0)
        call("tiocsti_highbits", 16, fd, 0x100005412, 0)
        call("setns", 308, 0, 0)
        call("vsock", 41, 40, 1, 0)
        call("netlink", 41, 16, 3, 0)
        call("personality_noaslr", 135, 0x0040000)
        call("personality_query", 135, 0xffffffff)
        """

    @Test("mount, unshare(CLONE_NEWUSER), keyctl, bpf, ptrace, TIOCSTI, setns, vsock fail")
    func deniedSyscalls() async throws {
        let out = try await Harness.python(Self.probe)
        var results: [String: (rc: Int, errno: Int)] = [:]
        for line in out.stdout.split(separator: "\n") {
            let f = line.split(separator: " ")
            if f.count == 3, let rc = Int(f[1]), let e = Int(f[2]) { results[String(f[0])] = (rc, e) }
        }
        #expect(results.count == 12, "probe output: \(out.stdout) \(out.stderr)")
        for name in ["mount", "unshare_user", "keyctl", "bpf", "ptrace", "tiocsti", "tiocsti_highbits", "setns", "personality_noaslr"] {
            #expect(results[name]?.rc == -1 && results[name]?.errno == 1, "\(name): \(String(describing: results[name]))")
        }
        for name in ["vsock", "netlink"] {
            #expect(results[name]?.rc == -1 && results[name]?.errno == 97, "\(name): \(String(describing: results[name]))")
        }
        #expect(results["personality_query"]?.rc ?? -1 >= 0, "querying the personality stays allowed")
    }

    @Test("without seccomp the same probe gets further (the seccomp check can fail)")
    func withoutSeccomp() async throws {
        let out = try await Harness.python(Self.probe) { $0.seccomp = nil }
        // keyctl with a bad command returns EOPNOTSUPP/EINVAL, not EPERM, when nothing filters it.
        let keyctl = out.stdout.split(separator: "\n").first { $0.hasPrefix("keyctl ") }
        #expect(keyctl != nil)
        #expect(keyctl?.hasSuffix(" 1") == false, "keyctl: \(String(describing: keyctl))")
    }
}
