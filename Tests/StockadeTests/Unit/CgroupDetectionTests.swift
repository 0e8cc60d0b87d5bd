import Glibc
import Testing
@testable import Stockade

@Suite("cgroup detection and the v2 logic on a fake tree")
struct CgroupDetectionTests {
    static func write(_ path: String, _ text: String) {
        let fd = open(path, O_WRONLY | O_CREAT | O_TRUNC, 0o644)
        _ = text.withCString { Glibc.write(fd, $0, strlen($0)) }
        close(fd)
    }

    @Test("v1 hierarchies win on a hybrid host and bases follow our own cgroup")
    func hybrid() {
        let dir = Harness.temporaryDirectory("cgdetect")
        defer { Harness.removeTree(dir) }
        Self.write(dir + "/mountinfo", """
            30 25 0:26 / /sys/fs/cgroup rw - tmpfs tmpfs rw
            31 30 0:27 / /sys/fs/cgroup/memory rw,relatime - cgroup cgroup rw,memory
            32 30 0:28 / /sys/fs/cgroup/pids rw,relatime - cgroup cgroup rw,pids
            33 30 0:29 / /sys/fs/cgroup/cpu,cpuacct rw,relatime - cgroup cgroup rw,cpu,cpuacct
            34 30 0:30 / /sys/fs/cgroup/unified rw,relatime - cgroup2 cgroup2 rw
            """)
        Self.write(dir + "/cgroup", "4:memory:/svc/a\n3:pids:/\n2:cpu,cpuacct:/x\n0::/\n")
        let cg = CgroupSystem.detect(mountinfoPath: dir + "/mountinfo", cgroupPath: dir + "/cgroup")
        #expect(cg.mode == .v1)
        #expect(cg.controllers == ["memory", "pids", "cpu"])
        #expect(cg.bases["memory"] == "/sys/fs/cgroup/memory/svc/a/stockade")
        #expect(cg.bases["pids"] == "/sys/fs/cgroup/pids/stockade")
        #expect(cg.bases["cpu"] == "/sys/fs/cgroup/cpu,cpuacct/x/stockade")
    }

    @Test("pure v2 uses the controllers delegated to our cgroup")
    func pureV2() {
        let dir = Harness.temporaryDirectory("cgv2")
        defer { Harness.removeTree(dir) }
        #expect(mkdir(dir + "/fs", 0o755) == 0)
        #expect(mkdir(dir + "/fs/svc", 0o755) == 0)
        Self.write(dir + "/fs/svc/cgroup.controllers", "cpuset cpu io memory pids\n")
        Self.write(dir + "/mountinfo", "30 25 0:26 / \(dir)/fs rw - cgroup2 cgroup2 rw\n")
        Self.write(dir + "/cgroup", "0::/svc\n")
        let cg = CgroupSystem.detect(mountinfoPath: dir + "/mountinfo", cgroupPath: dir + "/cgroup")
        #expect(cg.mode == .v2)
        #expect(cg.controllers == ["memory", "pids", "cpu"])
        #expect(cg.bases[""] == dir + "/fs/svc")
    }

    @Test("v2 without delegated controllers is reported as unusable, and limits are refused")
    func v2WithoutControllers() {
        let dir = Harness.temporaryDirectory("cgnone")
        defer { Harness.removeTree(dir) }
        Self.write(dir + "/cgroup.controllers", "\n")
        Self.write(dir + "/mountinfo", "30 25 0:26 / \(dir) rw - cgroup2 cgroup2 rw\n")
        Self.write(dir + "/cgroup", "0::/\n")
        let cg = CgroupSystem.detect(mountinfoPath: dir + "/mountinfo", cgroupPath: dir + "/cgroup")
        #expect(cg.mode == .none)
        #expect(!cg.notes.isEmpty)
        #expect(throws: SandboxError.self) { _ = try Cgroup.create(name: "x", limits: CgroupLimits(memoryBytes: 1 << 20), system: cg) }
    }

    @Test("v2 group creation: daemon moved to a leaf, controllers enabled, limits written")
    func v2Create() throws {
        let base = Harness.temporaryDirectory("cgtree")
        defer { Harness.removeTree(base) }
        Self.write(base + "/cgroup.controllers", "cpu memory pids")
        Self.write(base + "/cgroup.procs", "4242\n")
        Self.write(base + "/cgroup.subtree_control", "")
        let system = CgroupSystem(mode: .v2, controllers: ["memory", "pids", "cpu"], bases: ["": base])
        let group = try Cgroup.create(name: "w1", limits: CgroupLimits(memoryBytes: 256 << 20, pids: 64, cpus: 1.5), system: system)
        #expect(group.directories == [base + "/stockade/w1"])
        #expect(KernelFile.readIfPresent(base + "/daemon/cgroup.procs") == "4242")
        #expect(KernelFile.readIfPresent(base + "/cgroup.subtree_control") == "+cpu +memory +pids")
        #expect(KernelFile.readIfPresent(base + "/stockade/cgroup.subtree_control") == "+cpu +memory +pids")
        #expect(KernelFile.readIfPresent(base + "/stockade/w1/memory.max") == "\(256 << 20)")
        #expect(KernelFile.readIfPresent(base + "/stockade/w1/pids.max") == "64")
        #expect(KernelFile.readIfPresent(base + "/stockade/w1/cpu.max") == "150000 100000")
        Self.write(base + "/stockade/w1/memory.events", "low 0\nhigh 0\nmax 3\noom 1\noom_kill 2\n")
        #expect(group.oomKills() == 2)
    }

    @Test("a limit whose controller is missing is an error, never silently dropped")
    func missingController() {
        let system = CgroupSystem(mode: .v1, controllers: ["memory"], bases: ["memory": "/nonexistent"])
        #expect(throws: SandboxError.self) { _ = try Cgroup.create(name: "x", limits: CgroupLimits(pids: 10), system: system) }
    }
}

@Suite("real cgroup on this host", .enabled(if: Harness.isRoot && CgroupSystem.host.mode != .none, "needs root and a usable cgroup hierarchy"))
struct HostCgroupTests {
    @Test("limits are written and the group is gone after destroy")
    func createDestroy() throws {
        let group = try Cgroup.create(name: "test-\(getpid())-cd", limits: CgroupLimits(memoryBytes: 128 << 20, pids: 32))
        for dir in group.directories { #expect(KernelFile.isDirectory(dir)) }
        group.destroy()
        for dir in group.directories { #expect(!KernelFile.exists(dir)) }
    }

    @Test("empty groups of a Stockade process that is gone are swept; those of live processes and young ones stay")
    func sweepStale() throws {
        // A pid that existed and is gone: a reaped child's.
        var pid: pid_t = 0
        let argv: [UnsafeMutablePointer<CChar>?] = [strdup("/bin/true"), nil]
        defer { argv.forEach { free($0) } }
        #expect(posix_spawn(&pid, "/bin/true", nil, nil, argv, environ) == 0)
        var status: Int32 = 0
        _ = waitpid(pid, &status, 0)
        let stale = try Cgroup.create(name: "sweeptest-\(pid)-1", limits: CgroupLimits(pids: 8))
        let live = try Cgroup.create(name: "sweeptest-1-\(getpid())", limits: CgroupLimits(pids: 8))   // made by pid 1
        let mine = try Cgroup.create(name: "sweeptest-\(getpid())-2", limits: CgroupLimits(pids: 8))
        defer { stale.destroy(); live.destroy(); mine.destroy() }
        #expect(StaleCgroupSweeper.creatorPID("user-alice-\(pid)-7") == pid)
        #expect(StaleCgroupSweeper.creatorPID("user-alice") == nil)
        // Younger than a minute: kept.
        StaleCgroupSweeper.sweep()
        for dir in stale.directories { #expect(KernelFile.isDirectory(dir), "\(dir) removed while young") }
        StaleCgroupSweeper.sweep(minimumAge: 0)
        for dir in stale.directories { #expect(!KernelFile.exists(dir), "\(dir) left") }
        for dir in live.directories + mine.directories { #expect(KernelFile.isDirectory(dir), "\(dir) of a live process removed") }
    }
}
