import Glibc
import Testing
@testable import Stockade

@Suite("host-side user file operations")
struct UserFilesTests {
    /// A user directory inside a temp dir, plus an "outside" directory holding a canary.
    struct Fixture {
        let temp: TempDir
        var dir: String { temp.sub("user") }
        var outside: String { temp.sub("outside") }
        var canary: String { outside + "/passwd" }
        init(_ tag: String) {
            temp = TempDir(tag)
            precondition(mkdir(temp.sub("user"), 0o700) == 0 && mkdir(temp.sub("outside"), 0o755) == 0)
            UsersFS.write(temp.sub("outside") + "/passwd", "root:x:0:0:ORIGINAL\n")
        }
        var files: UserFiles { get throws { try UserFiles(directory: dir, owner: nil) } }
        var canaryIntact: Bool { UsersFS.read(canary) == "root:x:0:0:ORIGINAL\n" && !UsersFS.isSymlink(canary) }
        var tempFilesLeft: [String] { UsersFS.names(dir).filter { $0.hasPrefix(".stockade-tmp-") } }
    }

    @Test("write, read, list and delete round-trip")
    func roundTrip() throws {
        let f = Fixture("files"); defer { f.temp.remove() }
        let files = try f.files
        try files.write(name: "a.txt", text: "hello")
        try files.write(name: "b.bin", data: [0, 1, 2, 255])
        #expect(try files.read(name: "a.txt", maxBytes: 100) == Array("hello".utf8))
        #expect(try files.read(name: "b.bin", maxBytes: 4) == [0, 1, 2, 255])
        let listed = try files.list()
        #expect(listed.map(\.name) == ["a.txt", "b.bin"])
        #expect(listed.map(\.size) == [5, 4])
        #expect(listed.allSatisfy { abs($0.modified - UsersFS.now()) < 60 })
        try files.delete(name: "a.txt")
        #expect(try files.list().map(\.name) == ["b.bin"])
        #expect(throws: UserDataError.notFound(path: f.dir + "/a.txt")) { try files.read(name: "a.txt", maxBytes: 10) }
        #expect(throws: UserDataError.notFound(path: f.dir + "/a.txt")) { try files.delete(name: "a.txt") }
        #expect(f.tempFilesLeft.isEmpty)
    }

    @Test("an overwrite is atomic: a new inode renamed into place, no temporary file left")
    func atomicOverwrite() throws {
        let f = Fixture("files-atomic"); defer { f.temp.remove() }
        let files = try f.files
        try files.write(name: "r.txt", text: "one")
        let before = UsersFS.lstatOrNil(f.dir + "/r.txt")
        try files.write(name: "r.txt", text: "two two")
        let after = UsersFS.lstatOrNil(f.dir + "/r.txt")
        #expect(before?.st_ino != nil && before?.st_ino != after?.st_ino, "replaced by rename, not rewritten in place")
        #expect(UsersFS.read(f.dir + "/r.txt") == "two two")
        #expect(UsersFS.mode(f.dir + "/r.txt") == 0o600)
        #expect(UsersFS.names(f.dir) == ["r.txt"])
    }

    @Test("hostile names are refused and nothing is created anywhere",
          arguments: ["../escape.txt", "/tmp/stockade-abs.txt", "sub/x", "..", ".", ".hidden", "nul\u{0}x", "ctl\u{1b}[2J", String(repeating: "n", count: 256)])
    func hostileNames(_ name: String) throws {
        let f = Fixture("files-names"); defer { f.temp.remove() }
        let files = try f.files
        #expect(throws: UserDataError.self) { try files.write(name: name, text: "x") }
        #expect(throws: UserDataError.self) { _ = try files.read(name: name, maxBytes: 10) }
        #expect(throws: UserDataError.self) { try files.delete(name: name) }
        #expect(UsersFS.names(f.dir).isEmpty)
        #expect(UsersFS.names(f.temp.path) == ["outside", "user"])
        #expect(access("/tmp/stockade-abs.txt", F_OK) != 0)
    }

    @Test("a planted symlink is refused for write and read; the target is untouched")
    func plantedSymlink() throws {
        let f = Fixture("files-symlink"); defer { f.temp.remove() }
        let files = try f.files
        #expect(symlink(f.canary, f.dir + "/upload.txt") == 0)
        #expect(symlink("../outside/passwd", f.dir + "/relative.txt") == 0)
        #expect(symlink(f.outside, f.dir + "/docs") == 0)
        for name in ["upload.txt", "relative.txt", "docs"] {
            let error = #expect(throws: UserDataError.self) { try files.write(name: name, text: "PWNED") }
            #expect(error == .refusedFileType(path: f.dir + "/" + name, kind: "symbolic link"))
            #expect(throws: UserDataError.self) { _ = try files.read(name: name, maxBytes: 1 << 20) }
            #expect(UsersFS.isSymlink(f.dir + "/" + name), "the link itself stays as it was")
        }
        #expect(f.canaryIntact)
        #expect(UsersFS.names(f.outside) == ["passwd"])
        #expect(try files.list().isEmpty, "symlinks are not listed")
        #expect(f.tempFilesLeft.isEmpty)
        // Deleting removes the link, never its target.
        try files.delete(name: "upload.txt")
        #expect(!UsersFS.isSymlink(f.dir + "/upload.txt"))
        #expect(f.canaryIntact)
    }

    @Test("a directory that is itself a symlink is refused")
    func symlinkedDirectory() throws {
        let f = Fixture("files-dirlink"); defer { f.temp.remove() }
        #expect(symlink(f.outside, f.temp.sub("linked")) == 0)
        let files = try UserFiles(directory: f.temp.sub("linked"), owner: nil)
        #expect(throws: UserDataError.self) { try files.write(name: "passwd", text: "PWNED") }
        #expect(throws: UserDataError.self) { _ = try files.read(name: "passwd", maxBytes: 100) }
        #expect(throws: UserDataError.self) { _ = try files.list() }
        #expect(f.canaryIntact)
    }

    @Test("a hard link to a file outside is refused; the outside file is untouched")
    func hardLink() throws {
        let f = Fixture("files-hardlink"); defer { f.temp.remove() }
        let files = try f.files
        #expect(link(f.canary, f.dir + "/linked.txt") == 0)
        let error = #expect(throws: UserDataError.self) { _ = try files.read(name: "linked.txt", maxBytes: 1 << 20) }
        #expect(error == .refusedHardLink(path: f.dir + "/linked.txt", links: 2))
        #expect(throws: UserDataError.self) { try files.write(name: "linked.txt", text: "PWNED") }
        #expect(try files.list().isEmpty)
        #expect(f.canaryIntact)
    }

    @Test("FIFOs and sockets are refused without blocking")
    func fifo() throws {
        let f = Fixture("files-fifo"); defer { f.temp.remove() }
        let files = try f.files
        #expect(mkfifo(f.dir + "/pipe", 0o666) == 0)
        let error = #expect(throws: UserDataError.self) { _ = try files.read(name: "pipe", maxBytes: 10) }
        #expect(error == .refusedFileType(path: f.dir + "/pipe", kind: "FIFO"))
        #expect(throws: UserDataError.self) { try files.write(name: "pipe", text: "x") }
        #expect(try files.list().isEmpty)
    }

    @Test("device files are refused", .enabled(if: Harness.isRoot, Harness.rootReason))
    func deviceFile() throws {
        let f = Fixture("files-dev"); defer { f.temp.remove() }
        let files = try f.files
        // The same device as the host's /dev/null.
        var null = stat()
        #expect(stat("/dev/null", &null) == 0)
        #expect(mknod(f.dir + "/null", S_IFCHR | 0o666, null.st_rdev) == 0)
        let error = #expect(throws: UserDataError.self) { _ = try files.read(name: "null", maxBytes: 10) }
        #expect(error == .refusedFileType(path: f.dir + "/null", kind: "character device"))
        #expect(throws: UserDataError.self) { try files.write(name: "null", text: "x") }
        #expect(try files.list().isEmpty)
        #expect((UsersFS.lstatOrNil(f.dir + "/null")?.st_mode ?? 0) & S_IFMT == S_IFCHR, "the node was not replaced")
    }

    @Test("reading more than maxBytes is refused")
    func readLimit() throws {
        let f = Fixture("files-big"); defer { f.temp.remove() }
        let files = try f.files
        try files.write(name: "big", data: [UInt8](repeating: 7, count: 100))
        #expect(throws: UserDataError.fileTooLarge(path: f.dir + "/big", size: 100, limit: 10)) {
            _ = try files.read(name: "big", maxBytes: 10)
        }
        #expect(try files.read(name: "big", maxBytes: 100).count == 100)
    }

    @Test("directories are neither read, written over nor deleted")
    func directories() throws {
        let f = Fixture("files-subdir"); defer { f.temp.remove() }
        let files = try f.files
        #expect(mkdir(f.dir + "/sub", 0o700) == 0)
        #expect(throws: UserDataError.refusedFileType(path: f.dir + "/sub", kind: "directory")) { try files.write(name: "sub", text: "x") }
        #expect(throws: UserDataError.self) { _ = try files.read(name: "sub", maxBytes: 10) }
        #expect(throws: UserDataError.refusedFileType(path: f.dir + "/sub", kind: "directory")) { try files.delete(name: "sub") }
        #expect(f.tempFilesLeft.isEmpty)
    }

    @Test("written files belong to the user's host uid with mode 0600", .enabled(if: Harness.isRoot, Harness.rootReason))
    func ownership() throws {
        let f = Fixture("files-owner"); defer { f.temp.remove() }
        let owner = Identity(hostUID: 1_234_601, hostGID: 1_234_601)
        #expect(chown(f.dir, owner.hostUID, owner.hostGID) == 0)
        let files = try UserFiles(directory: f.dir, owner: owner)
        try files.write(name: "up.txt", text: "data")
        let st = UsersFS.lstatOrNil(f.dir + "/up.txt")
        #expect(st?.st_uid == owner.hostUID)
        #expect(st?.st_gid == owner.hostGID)
        #expect(UsersFS.mode(f.dir + "/up.txt") == 0o600)
    }

    @Test("a directory owned by someone other than the owner is refused")
    func wrongOwner() throws {
        let f = Fixture("files-wrong"); defer { f.temp.remove() }
        let files = try UserFiles(directory: f.dir, owner: Identity(hostUID: geteuid() &+ 4242, hostGID: 4242))
        let error = #expect(throws: UserDataError.self) { try files.write(name: "x", text: "x") }
        guard case .unexpectedOwner? = error else {
            Issue.record("expected unexpectedOwner, got \(String(describing: error))")
            return
        }
        #expect(UsersFS.names(f.dir).isEmpty)
    }

    @Test("a failed write (disk full) leaves no temporary file and keeps the old contents",
          .enabled(if: Harness.isRoot, Harness.rootReason))
    func failedWriteCleansUp() throws {
        let f = Fixture("files-full"); defer { f.temp.remove() }
        let small = f.temp.sub("small")
        #expect(mkdir(small, 0o700) == 0)
        #expect(mount("tmpfs", small, "tmpfs", 0, "size=64k,mode=0700") == 0, "mount tmpfs: \(Errno.current)")
        defer { umount2(small, Int32(MNT_DETACH)) }
        let files = try UserFiles(directory: small, owner: nil)
        try files.write(name: "keep.txt", text: "OLD")
        let error = #expect(throws: UserDataError.self) {
            try files.write(name: "keep.txt", data: [UInt8](repeating: 1, count: 1 << 20))
        }
        guard case let .system(_, _, errno)? = error else {
            Issue.record("expected a system error, got \(String(describing: error))")
            return
        }
        #expect(errno == .noSpace)
        #expect(UsersFS.names(small) == ["keep.txt"], "no temporary file left behind")
        #expect(UsersFS.read(small + "/keep.txt") == "OLD")
    }

    @Test("a failed write (chown refused) leaves no temporary file", .enabled(if: !Harness.isRoot))
    func failedChownCleansUp() throws {
        let f = Fixture("files-chown"); defer { f.temp.remove() }
        // Not root: chown of the temp file to the directory owner's other gid fails.
        let files = try UserFiles(directory: f.dir, owner: Identity(hostUID: geteuid(), hostGID: 4242))
        #expect(throws: UserDataError.self) { try files.write(name: "x.txt", text: "x") }
        #expect(UsersFS.names(f.dir).isEmpty)
    }
}
