import Glibc
import Testing
@testable import Stockade

/// End to end: two users with their own host identities and directories, real sandboxes.
@Suite("per-user isolation", .enabled(if: Harness.isRoot, Harness.rootReason))
struct UserIsolationTests {
    struct World {
        let temp: TempDir
        let dirs: UserDirectories
        let alice: UserID, bob: UserID
        let a: Identity, b: Identity
        var decoy: String { temp.sub("passwd") }

        init() throws {
            temp = TempDir("users-e2e")
            // The sandbox's host uid must be able to traverse down to its directories.
            precondition(chmod(temp.path, 0o711) == 0)
            dirs = try UserDirectories(dataDirectory: temp.sub("data"))
            let allocator = try IdentityAllocator(dataDirectory: dirs.dataDirectory)
            alice = try UserID("alice")
            bob = try UserID("bob")
            a = try allocator.identity(for: alice)
            b = try allocator.identity(for: bob)
            try dirs.ensure(user: alice, identity: a)
            try dirs.ensure(user: bob, identity: b)
            for kind in UserDirectoryKind.allCases {
                try dirs.files(kind, of: bob, identity: b).write(name: "secret.txt", text: "BOB-SECRET-\(kind.rawValue)")
            }
            try dirs.files(.uploads, of: alice, identity: a).write(name: "hello.txt", text: "ALICE-UPLOAD")
            UsersFS.write(decoy, "root:x:0:0:DECOY\n")
        }

        func sandbox(_ user: UserID, _ identity: Identity, _ script: String,
                     extra: [Mount] = [], env: [String: String]? = nil) async throws -> Harness.Output {
            try await Harness.sh(script) { spec in
                spec.identity = identity
                spec.mounts = dirs.mounts(for: user) + extra
                spec.workingDirectory = UserDirectories.workInside
                if let env { spec.environment = env }
            }
        }

        /// Bob's directories hold exactly what the setup put there.
        func bobIntact() -> Bool {
            UserDirectoryKind.allCases.allSatisfy { kind in
                let path = dirs.path(kind, of: bob)
                return UsersFS.names(path) == ["secret.txt"] && UsersFS.read(path + "/secret.txt") == "BOB-SECRET-\(kind.rawValue)"
            }
        }
    }

    @Test("user A's sandbox cannot list, read or write user B's directories by any path")
    func cannotReachOtherUser() async throws {
        let w = try World(); defer { w.temp.remove() }
        let bWork = w.dirs.work(of: w.bob), bRoot = w.dirs.root(of: w.bob), users = w.dirs.usersDirectory
        let env = try RestrictedEnvironment(allowList: "*").build(user: w.alice)
        let out = try await w.sandbox(w.alice, w.a, """
            id -u; pwd
            ls "\(bWork)" && echo LEAK-ls-absolute
            cat "\(bWork)/secret.txt" && echo LEAK-cat-absolute
            echo pwn > "\(bWork)/pwn" && echo LEAK-write-absolute
            ls "\(users)" "\(bRoot)" && echo LEAK-ls-users
            cat /home/user/../../..\(bWork)/secret.txt && echo LEAK-cat-dotdot
            cat ../../../../../../..\(bWork)/secret.txt && echo LEAK-cat-relative
            cat /outputs/../../..\(bRoot)/work/secret.txt && echo LEAK-cat-outputs-dotdot
            ls /home/user/.. /home/user/../.. && echo LISTED-PARENTS
            for p in /proc/[0-9]* /proc/self /proc/thread-self; do
              cat "$p/root\(bWork)/secret.txt" && echo LEAK-proc-root
              ls "$p/root\(users)" && echo LEAK-proc-ls
              cat "$p/root/../../..\(bWork)/secret.txt" && echo LEAK-proc-dotdot
              cat "$p/cwd/../..\(bWork)/secret.txt" && echo LEAK-proc-cwd
            done
            ln -s "\(bWork)" /home/user/linkB && echo PLANTED-link-abs
            ls /home/user/linkB/ && echo LEAK-link-ls
            cat /home/user/linkB/secret.txt && echo LEAK-link-cat
            echo pwn > /home/user/linkB/pwn-link && echo LEAK-link-write
            ln -s ../../../../../../../..\(bWork) /home/user/linkRel && echo PLANTED-link-rel
            cat /home/user/linkRel/secret.txt && echo LEAK-linkrel-cat
            echo pwn > /home/user/linkRel/pwn-rel && echo LEAK-linkrel-write
            ln -s "\(bWork)/secret.txt" /home/user/upload.txt && echo PLANTED-upload-work
            ln -s "\(w.decoy)" /outputs/report.txt && echo PLANTED-report-outputs
            ln -s /etc/passwd /uploads/upload.txt && echo LEAK-plant-uploads
            echo mine > /home/user/mine.txt && echo OWN-WORK-OK
            echo result > /outputs/result.txt && echo OWN-OUTPUTS-OK
            cat /uploads/hello.txt; echo
            echo ENV-START; env; tr '\\0' '\\n' < /proc/self/environ; tr '\\0' '\\n' < /proc/1/environ; echo ENV-END
            """, env: env)
        let stdout = out.stdout
        #expect(out.outcome.termination == .exited(0), "\(out.stderr)")
        #expect(stdout.hasPrefix("1000\n/home/user\n"), "runs as the ordinary inside uid in its work dir: \(stdout.prefix(40))")
        let leaks = stdout.split(separator: "\n").filter { $0.hasPrefix("LEAK") }
        #expect(leaks.isEmpty, "escapes: \(leaks)\nstderr: \(out.stderr)")
        #expect(!stdout.contains("BOB-SECRET"))
        for marker in ["PLANTED-link-abs", "PLANTED-link-rel", "PLANTED-upload-work", "PLANTED-report-outputs",
                       "OWN-WORK-OK", "OWN-OUTPUTS-OK", "ALICE-UPLOAD", "STOCKADE_USER_ID=alice", "ENV-END"] {
            #expect(stdout.contains(marker), "expected \(marker) (the test must be able to see success): \(out.stderr)")
        }
        for (name, value) in EnvironmentCanaries.secrets where getenv(name) != nil {
            #expect(!stdout.contains(value), "canary \(name) leaked into the sandbox")
        }
        #expect(w.bobIntact(), "bob's files unchanged and nothing added")

        // Files created inside belong to A on the host; A's directories keep everyone else out.
        for path in [w.dirs.work(of: w.alice) + "/mine.txt", w.dirs.outputs(of: w.alice) + "/result.txt"] {
            let st = UsersFS.lstatOrNil(path)
            #expect(st?.st_uid == w.a.hostUID && st?.st_gid == w.a.hostGID, "\(path) owned by alice's host uid")
        }
        for kind in UserDirectoryKind.allCases {
            let st = UsersFS.lstatOrNil(w.dirs.path(kind, of: w.alice))
            #expect(st?.st_uid == w.a.hostUID)
            #expect(st.map { $0.st_mode & 0o077 } == 0, "no group or other bits on alice's \(kind.rawValue)")
        }
    }

    @Test("B's host uid is kept out of A's files by the mode bits")
    func modeBitsKeepOthersOut() async throws {
        let w = try World(); defer { w.temp.remove() }
        try w.dirs.files(.work, of: w.alice, identity: w.a).write(name: "mine.txt", text: "ALICE-PRIVATE")
        // Bob's sandbox sees the whole users directory, read-only: only permissions stand between.
        let out = try await w.sandbox(w.bob, w.b, """
            ls /users/alice && echo LEAK-ls-alice-root
            ls /users/alice/work && echo LEAK-ls-alice-work
            cat /users/alice/work/mine.txt && echo LEAK-cat-alice
            ls /users/bob/work && echo OWN-B-OK
            """, extra: [.bind(source: w.dirs.usersDirectory, destination: "/users", readOnly: true)])
        #expect(!out.stdout.contains("LEAK"), "\(out.stdout)")
        #expect(!out.stdout.contains("ALICE-PRIVATE"))
        #expect(out.stdout.contains("secret.txt") && out.stdout.contains("OWN-B-OK"),
                "bob can reach his own files the same way, so the denials are about permissions: \(out.stdout) \(out.stderr)")
    }

    @Test("an upload-style host write through a symlink planted by the sandbox stays inside the user's directory")
    func uploadThroughPlantedSymlink() async throws {
        let w = try World(); defer { w.temp.remove() }
        let bSecret = w.dirs.work(of: w.bob) + "/secret.txt"
        let out = try await w.sandbox(w.alice, w.a, """
            ln -s "\(bSecret)" /home/user/upload.txt && echo PLANTED-work
            ln -s "\(w.decoy)" /outputs/upload.txt && echo PLANTED-outputs
            ln -s "\(bSecret)" /uploads/upload.txt && echo LEAK-planted-uploads
            """)
        #expect(out.stdout.contains("PLANTED-work") && out.stdout.contains("PLANTED-outputs"), "\(out.stderr)")
        #expect(!out.stdout.contains("LEAK"))
        // Policy: refuse. The write fails, nothing moves, the link stays as the sandbox left it.
        for kind in [UserDirectoryKind.work, .outputs] {
            let files = try w.dirs.files(kind, of: w.alice, identity: w.a)
            let error = #expect(throws: UserDataError.self) { try files.write(name: "upload.txt", text: "UPLOADED") }
            #expect(error == .refusedFileType(path: w.dirs.path(kind, of: w.alice) + "/upload.txt", kind: "symbolic link"))
            #expect(UsersFS.isSymlink(w.dirs.path(kind, of: w.alice) + "/upload.txt"))
        }
        // Uploads is read-only inside, so the plant failed there and the upload lands inside.
        try w.dirs.files(.uploads, of: w.alice, identity: w.a).write(name: "upload.txt", text: "UPLOADED")
        let landed = w.dirs.uploads(of: w.alice) + "/upload.txt"
        #expect(!UsersFS.isSymlink(landed))
        #expect(UsersFS.read(landed) == "UPLOADED")
        #expect(UsersFS.lstatOrNil(landed)?.st_uid == w.a.hostUID)
        #expect(w.bobIntact())
        #expect(UsersFS.read(w.decoy) == "root:x:0:0:DECOY\n")
        // And the sandbox reads its upload at /uploads.
        let check = try await w.sandbox(w.alice, w.a, "cat /uploads/upload.txt")
        #expect(check.stdout == "UPLOADED")
    }
}
