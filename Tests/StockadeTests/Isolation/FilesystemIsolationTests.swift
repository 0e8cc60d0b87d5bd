import Glibc
import Testing
@testable import Stockade

@Suite("filesystem isolation", .enabled(if: Harness.isRoot, Harness.rootReason))
struct FilesystemIsolationTests {
    @Test("cannot read /etc/shadow or any host file outside the binds")
    func hostFilesInvisible() async throws {
        // A canary the sandbox would see if any host path leaked in.
        let dir = Harness.temporaryDirectory("canary")
        defer { Harness.removeTree(dir) }
        let canary = dir + "/secret.txt"
        let fd = open(canary, O_WRONLY | O_CREAT, 0o644)
        #expect(fd >= 0)
        _ = write(fd, "TOP-SECRET", 10)
        close(fd)
        #expect(access("/etc/shadow", R_OK) == 0, "the host has /etc/shadow, so the test means something")
        let out = try await Harness.sh("""
            cat /etc/shadow && echo READ-SHADOW
            cat \(canary) && echo READ-CANARY
            cat /proc/1/root/etc/shadow && echo READ-VIA-PROC
            ls /root /home /var /opt 2>/dev/null && echo SAW-HOST-DIRS
            ls /
            """)
        #expect(!out.stdout.contains("READ-SHADOW"))
        #expect(!out.stdout.contains("READ-CANARY"))
        #expect(!out.stdout.contains("TOP-SECRET"))
        #expect(!out.stdout.contains("READ-VIA-PROC"))
        #expect(!out.stdout.contains("SAW-HOST-DIRS"))
        let top = Set(out.stdout.split(separator: "\n").map(String.init))
        #expect(top.isSubset(of: ["bin", "dev", "etc", "lib", "lib64", "lib32", "libx32", "proc", "sbin", "tmp", "usr"]),
                "unexpected top-level entries: \(top.sorted())")
    }

    @Test("the sandbox's /etc holds only what it was given")
    func minimalEtc() async throws {
        let out = try await Harness.sh("ls /etc; cat /etc/passwd")
        let names = Set(out.stdout.split(separator: "\n").prefix { !$0.contains(":") }.map(String.init))
        #expect(!names.contains("shadow"))
        #expect(!names.contains("resolv.conf"))
        #expect(!names.contains("ssh"))
        #expect(out.stdout.contains("user:x:1000:1000"))
    }

    @Test("cannot write /usr, the root or /etc")
    func readOnlySystem() async throws {
        let out = try await Harness.sh("""
            touch /usr/stockade-canary && echo WROTE-USR
            touch /stockade-canary && echo WROTE-ROOT
            echo x >> /etc/passwd && echo WROTE-ETC
            touch /tmp/ok && echo WROTE-TMP
            """)
        #expect(!out.stdout.contains("WROTE-USR"))
        #expect(!out.stdout.contains("WROTE-ROOT"))
        #expect(!out.stdout.contains("WROTE-ETC"))
        #expect(out.stdout.contains("WROTE-TMP"), "/tmp stays writable: \(out.stderr)")
        #expect(access("/usr/stockade-canary", F_OK) != 0)
    }

    @Test("a file written in a --bind directory belongs to the mapped unprivileged uid on the host")
    func bindOwnership() async throws {
        let dir = Harness.temporaryDirectory("bind")
        defer { Harness.removeTree(dir) }
        let identity = Identity(hostUID: 1_234_567, hostGID: 1_234_567)
        #expect(chown(dir, identity.hostUID, identity.hostGID) == 0)
        let out = try await Harness.sh("echo hello > /work/out.txt && id -u") { spec in
            spec.identity = identity
            spec.mounts = [.bind(source: dir, destination: "/work", readOnly: false)]
        }
        #expect(out.outcome.termination == .exited(0), "\(out.stderr)")
        #expect(out.stdout.trimmingTrailingNewline == "1000")
        var st = stat()
        #expect(stat(dir + "/out.txt", &st) == 0)
        #expect(st.st_uid == identity.hostUID)
        #expect(st.st_gid == identity.hostGID)
        #expect(st.st_uid != 0)
    }

    @Test("a read-only bind stays read-only")
    func readOnlyBind() async throws {
        let dir = Harness.temporaryDirectory("robind")
        defer { Harness.removeTree(dir) }
        let out = try await Harness.sh("ls /data && touch /data/x && echo WROTE") { spec in
            spec.mounts = [.bind(source: dir, destination: "/data", readOnly: true)]
        }
        #expect(!out.stdout.contains("WROTE"))
        #expect(access(dir + "/x", F_OK) != 0)
    }
}
