import Glibc
import Testing
@testable import Stockade

@Suite("user directories")
struct UserDirectoriesTests {
    /// An identity this process can hand directories to: an unprivileged one as root, else the
    /// calling user itself (so the layout can be built without root).
    static var selfIdentity: Identity {
        Harness.isRoot ? Identity(hostUID: 1_234_801, hostGID: 1_234_801) : Identity(hostUID: geteuid(), hostGID: getegid())
    }

    @Test("root cannot own a user's directories")
    func rootIdentityRefused() throws {
        let temp = TempDir("dirs-root"); defer { temp.remove() }
        let dirs = try UserDirectories(dataDirectory: temp.sub("data"))
        let error = #expect(throws: UserDataError.self) { try dirs.ensure(user: UserID("alice"), identity: Identity(hostUID: 0, hostGID: 0)) }
        guard case .invalidIdentity? = error else {
            Issue.record("expected invalidIdentity, got \(String(describing: error))")
            return
        }
        #expect(UsersFS.lstatOrNil(temp.sub("data")) == nil, "nothing created")
    }

    @Test("paths and the three sandbox mounts")
    func layoutAndMounts() throws {
        let dirs = try UserDirectories(dataDirectory: "/srv/stockade//data/")
        let alice = try UserID("alice")
        #expect(dirs.dataDirectory == "/srv/stockade/data")
        #expect(dirs.work(of: alice) == "/srv/stockade/data/users/alice/work")
        #expect(dirs.uploads(of: alice) == "/srv/stockade/data/users/alice/uploads")
        #expect(dirs.outputs(of: alice) == "/srv/stockade/data/users/alice/outputs")
        #expect(dirs.tempDirectory == "/srv/stockade/data/temp")
        #expect(dirs.mounts(for: alice) == [
            .bind(source: "/srv/stockade/data/users/alice/work", destination: "/home/user", readOnly: false),
            .bind(source: "/srv/stockade/data/users/alice/outputs", destination: "/outputs", readOnly: false),
            .bind(source: "/srv/stockade/data/users/alice/uploads", destination: "/uploads", readOnly: true),
        ])
    }

    @Test("unusable data directories are refused", arguments: ["", "relative/data", "/srv/../etc", "/", "/srv/./x", "/a\u{0}b"])
    func badDataDirectory(_ path: String) {
        #expect(throws: UserDataError.self) { try UserDirectories(dataDirectory: path) }
    }

    @Test("modes and owners as specified", .enabled(if: Harness.isRoot, Harness.rootReason))
    func modesAndOwners() throws {
        let temp = TempDir("dirs"); defer { temp.remove() }
        let dirs = try UserDirectories(dataDirectory: temp.sub("data"))
        let user = try UserID("alice")
        let identity = Identity(hostUID: 1_234_701, hostGID: 1_234_702)
        try dirs.ensure(user: user, identity: identity)
        func check(_ path: String, _ mode: mode_t, _ uid: UInt32, _ gid: UInt32) {
            let st = UsersFS.lstatOrNil(path)
            #expect(st.map { ($0.st_mode & S_IFMT) == S_IFDIR } == true, "\(path) is a directory")
            #expect(st.map { $0.st_mode & 0o7777 } == mode, "\(path) mode")
            #expect(st?.st_uid == uid, "\(path) owner")
            #expect(st?.st_gid == gid, "\(path) group")
        }
        check(dirs.dataDirectory, 0o711, 0, 0)
        check(dirs.usersDirectory, 0o711, 0, 0)
        check(dirs.tempDirectory, 0o700, 0, 0)
        check(dirs.root(of: user), 0o710, 0, identity.hostGID)
        for kind in UserDirectoryKind.allCases {
            check(dirs.path(kind, of: user), 0o700, identity.hostUID, identity.hostGID)
        }
        // Repairs drift, and is idempotent.
        #expect(chmod(dirs.work(of: user), 0o777) == 0)
        #expect(chown(dirs.outputs(of: user), 0, 0) == 0)
        try dirs.ensure(user: user, identity: identity)
        check(dirs.work(of: user), 0o700, identity.hostUID, identity.hostGID)
        check(dirs.outputs(of: user), 0o700, identity.hostUID, identity.hostGID)
    }

    @Test("a symlink planted where a user directory belongs is refused, not followed")
    func plantedDirectoryLink() throws {
        let temp = TempDir("dirs-link"); defer { temp.remove() }
        let dirs = try UserDirectories(dataDirectory: temp.sub("data"))
        let user = try UserID("alice")
        try dirs.ensure(user: user, identity: Self.selfIdentity)
        #expect(mkdir(temp.sub("elsewhere"), 0o755) == 0)
        #expect(rmdir(dirs.work(of: user)) == 0)
        #expect(symlink(temp.sub("elsewhere"), dirs.work(of: user)) == 0)
        let error = #expect(throws: UserDataError.self) { try dirs.ensure(user: user, identity: Self.selfIdentity) }
        #expect(error == .unexpectedOwner(path: dirs.work(of: user), found: "a symbolic link", expected: "a directory"))
        #expect(UsersFS.mode(temp.sub("elsewhere")) == 0o755, "the link target's mode was not changed")
    }

    @Test("cleanup removes expired files in temp and outputs only, and never follows symlinks")
    func cleanup() throws {
        let temp = TempDir("dirs-clean"); defer { temp.remove() }
        let dirs = try UserDirectories(dataDirectory: temp.sub("data"))
        let user = try UserID("alice")
        try dirs.ensure(user: user, identity: Self.selfIdentity)
        let now = UsersFS.now()
        let old = now - 7200
        let outputs = dirs.outputs(of: user)
        UsersFS.write(temp.sub("outside.txt"), "KEEP")
        UsersFS.setMtime(temp.sub("outside.txt"), old)
        let oldFiles = [dirs.tempDirectory + "/stage-old", outputs + "/old.txt", outputs + "/sub/old.txt"]
        let newFiles = [dirs.tempDirectory + "/stage-new", outputs + "/new.txt", outputs + "/keep/new.txt",
                        dirs.work(of: user) + "/old-but-work.txt", dirs.uploads(of: user) + "/old-upload.txt"]
        #expect(mkdir(outputs + "/sub", 0o755) == 0 && mkdir(outputs + "/keep", 0o755) == 0)
        for path in oldFiles + newFiles { UsersFS.write(path, String(repeating: "x", count: 10)) }
        for path in oldFiles + [dirs.work(of: user) + "/old-but-work.txt", dirs.uploads(of: user) + "/old-upload.txt"] {
            UsersFS.setMtime(path, old)
        }
        #expect(symlink(temp.sub("outside.txt"), outputs + "/link") == 0)
        #expect(symlink(temp.path, outputs + "/dirlink") == 0)
        UsersFS.setMtime(outputs + "/link", old)
        UsersFS.setMtime(outputs + "/dirlink", old)
        UsersFS.setMtime(outputs + "/sub", old)
        UsersFS.setMtime(outputs + "/keep", old)

        let report = try dirs.cleanup(olderThan: 3600, now: now)
        for path in oldFiles { #expect(UsersFS.lstatOrNil(path) == nil, "\(path) expired") }
        for path in newFiles { #expect(UsersFS.lstatOrNil(path) != nil, "\(path) kept") }
        #expect(UsersFS.lstatOrNil(outputs + "/link") == nil && UsersFS.lstatOrNil(outputs + "/dirlink") == nil)
        #expect(UsersFS.read(temp.sub("outside.txt")) == "KEEP", "a link's target is never removed")
        #expect(UsersFS.names(temp.path).contains("outside.txt"))
        #expect(UsersFS.lstatOrNil(outputs + "/sub") == nil, "an expired directory left empty is removed")
        #expect(UsersFS.lstatOrNil(outputs + "/keep") != nil, "a directory with fresh content stays")
        #expect(report.filesRemoved == 5)
        #expect(report.directoriesRemoved == 1)
        #expect(report.bytesFreed == 30)
        #expect(report.failures.isEmpty, "\(report.failures)")
        #expect(UsersFS.lstatOrNil(outputs) != nil && UsersFS.lstatOrNil(dirs.tempDirectory) != nil)
    }

    @Test("remove deletes one user's tree without following links; others stay")
    func removeUser() throws {
        let temp = TempDir("dirs-remove"); defer { temp.remove() }
        let dirs = try UserDirectories(dataDirectory: temp.sub("data"))
        let alice = try UserID("alice"), bob = try UserID("bob")
        try dirs.ensure(user: alice, identity: Self.selfIdentity)
        try dirs.ensure(user: bob, identity: Self.selfIdentity)
        UsersFS.write(temp.sub("outside.txt"), "KEEP")
        UsersFS.write(dirs.work(of: alice) + "/a.txt", "a")
        #expect(mkdir(dirs.work(of: alice) + "/deep", 0o700) == 0)
        #expect(symlink(temp.path, dirs.work(of: alice) + "/deep/up") == 0)
        #expect(symlink(temp.sub("outside.txt"), dirs.outputs(of: alice) + "/f") == 0)
        UsersFS.write(dirs.work(of: bob) + "/b.txt", "b")
        try dirs.remove(user: alice)
        #expect(UsersFS.lstatOrNil(dirs.root(of: alice)) == nil)
        #expect(UsersFS.read(temp.sub("outside.txt")) == "KEEP")
        #expect(UsersFS.read(dirs.work(of: bob) + "/b.txt") == "b")
        try dirs.remove(user: alice) // already gone: fine
    }
}
