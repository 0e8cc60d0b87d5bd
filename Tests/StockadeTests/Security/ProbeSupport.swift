import Glibc
import Testing
@testable import Stockade

/// The security probe (`stockade-probe`, Sources/StockadeProbe) and what a test needs to run it in
/// a sandbox: the binary as a sealed image, the host-side fixtures it attacks, and its report.
enum ProbeBinary {
    /// $STOCKADE_PROBE_PATH, else `stockade-probe` in the directory of `stockade-worker`.
    static let path: String? = {
        if let env = getenv("STOCKADE_PROBE_PATH") {
            let p = String(cString: env)
            return access(p, X_OK) == 0 ? p : nil
        }
        guard let worker = try? WorkerImage.locate() else { return nil }
        var dir = worker
        while let last = dir.last, last != "/" { dir.removeLast() }
        let candidate = dir + "stockade-probe"
        return access(candidate, X_OK) == 0 ? candidate : nil
    }()

    static var isAvailable: Bool { path != nil }
    static let missingReason: Comment = """
        stockade-probe not found next to stockade-worker: build it with `swift build --product stockade-probe` \
        (the StockadeProbe target) or point STOCKADE_PROBE_PATH at it
        """

    /// The probe copied once into a sealed memfd, executed by fd like the worker.
    static let image: ExecutableImage? = {
        guard let path else { return nil }
        return try? ExecutableImage(copying: path, name: "stockade-probe")
    }()
}

/// The probe's output, parsed: one line per check and the closing `N passed, N failed`.
struct ProbeReport: CustomStringConvertible {
    enum Status: String { case pass = "PASS", fail = "FAIL", skip = "SKIP" }
    struct Check {
        var status: Status
        var name: String
        var detail: String
    }

    var checks: [Check] = []
    var passed: Int?
    var failed: Int?
    var raw: String

    init(_ stdout: String) {
        raw = stdout
        for line in stdout.split(separator: "\n") {
            let text = String(line)
            if let space = text.firstIndex(of: " "), let status = Status(rawValue: String(text[..<space])) {
                let rest = text[text.index(after: space)...]
                guard let colon = rest.firstIndex(of: ":") else { continue }
                let name = String(rest[..<colon])
                let detail = String(rest[rest.index(after: colon)...]).trimmed
                checks.append(Check(status: status, name: name, detail: detail))
            } else if text.hasSuffix(" failed"), text.contains(" passed, ") {
                let parts = text.split(separator: " ")
                if parts.count == 4 {
                    passed = Int(parts[0])
                    failed = Int(parts[2])
                }
            }
        }
    }

    subscript(name: String) -> Check? { checks.first { $0.name == name } }
    func names(_ status: Status) -> Set<String> { Set(checks.filter { $0.status == status }.map(\.name)) }
    var failures: Set<String> { names(.fail) }
    var description: String { raw }
}

/// Host-side things the probe attacks: a TCP listener on the host's loopback, a listening abstract
/// unix socket, canary environment variables of this process, a secret file, another user's
/// directory, a writable directory to bind in, and an fd left open without CLOEXEC.
struct ProbeFixtures {
    static let canaryNames = ["STOCKADE_PROBE_CANARY_SECRET", "PROBE_CANARY_API_TOKEN"]

    let identity = Identity(hostUID: 1_234_321, hostGID: 1_234_321)
    let tcpListener: Int32
    let tcpPort: UInt16
    let abstractListener: Int32
    let abstractName: String
    let scratch: String
    let secretFile: String
    let otherUserDir: String
    let workDir: String
    let leakBait: Int32

    init() {
        (tcpListener, tcpPort) = NetworkIsolationTests.hostListener()
        abstractName = "stockade-probe-host-\(getpid())-\(UInt32.random(in: 0...UInt32.max))"
        abstractListener = Self.abstractListener(abstractName)
        // Set once per process; the values never reach a sandbox if its environment is built
        // from scratch as it should be.
        for name in Self.canaryNames where getenv(name) == nil { setenv(name, "canary-\(name)-\(getpid())", 1) }
        scratch = Harness.temporaryDirectory("probe")
        // Searchable (not listable) by the sandbox's host uid, so /work can be bound from it.
        chmod(scratch, 0o711)
        secretFile = scratch + "/host-secret.txt"
        let fd = open(secretFile, O_WRONLY | O_CREAT | O_CLOEXEC, 0o644)
        _ = write(fd, "TOP-SECRET", 10)
        close(fd)
        otherUserDir = scratch + "/other-user"
        mkdir(otherUserDir, 0o755)
        workDir = scratch + "/work"
        mkdir(workDir, 0o755)
        _ = chown(workDir, identity.hostUID, identity.hostGID)
        // Deliberately without O_CLOEXEC: the spawn path must still close it for the sandbox.
        leakBait = open(scratch, O_RDONLY | O_DIRECTORY)
    }

    /// A listening abstract unix stream socket "@name" (non-blocking, so accept can be polled).
    static func abstractListener(_ name: String) -> Int32 {
        let fd = socket(AF_UNIX, Int32(SOCK_STREAM.rawValue) | Int32(SOCK_CLOEXEC.rawValue) | Int32(SOCK_NONBLOCK.rawValue), 0)
        var addr = sockaddr_un()
        addr.sun_family = sa_family_t(AF_UNIX)
        let bytes = Array(name.utf8)
        withUnsafeMutableBytes(of: &addr.sun_path) { raw in
            raw[0] = 0
            for (i, b) in bytes.enumerated() where i + 1 < raw.count { raw[i + 1] = b }
        }
        let len = socklen_t(MemoryLayout<sa_family_t>.size + 1 + bytes.count)
        let rc = withUnsafePointer(to: &addr) { $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { bind(fd, $0, len) } }
        precondition(rc == 0, "bind of the abstract socket failed: errno \(errno)")
        listen(fd, 16)
        return fd
    }

    /// Whether a listener has a pending connection (the probe got through).
    static func wasConnected(_ listener: Int32) -> Bool {
        let c = accept(listener, nil, nil)
        if c >= 0 { close(c); return true }
        return false
    }

    /// The arguments that point the probe at these fixtures.
    var probeArguments: [String] {
        var args = ["--host-port", String(tcpPort), "--host-abstract", abstractName, "--host-pid", String(getpid()),
                    "--host-file", secretFile, "--host-file", scratch, "--other-user-dir", otherUserDir,
                    "--writable", "/work", "--expect-user-uid", String(identity.hostUID)]
        for name in Self.canaryNames { args += ["--canary-env", name] }
        return args
    }

    /// A default sandbox (what `stockade run` gives) with the probe as its program, the work
    /// directory bound writable, and every limit set low enough for the resource checks to hit.
    func spec(_ extra: [String] = []) -> SandboxSpec? {
        guard let image = ProbeBinary.image else { return nil }
        var spec = SandboxSpec(arguments: ["stockade-probe"] + probeArguments + resourceArguments + extra)
        spec.executable = .image(image)
        spec.landlock = .automatic
        spec.identity = identity
        spec.mounts = [.bind(source: workDir, destination: "/work", readOnly: false)]
        spec.root.tmpSizeBytes = 4 << 20
        spec.limits.pids = 48
        spec.limits.memoryBytes = 96 << 20
        // Not lower: the spawn path sets RLIMIT_NOFILE before it builds the Landlock ruleset, and
        // the child still holds every fd of this (busy, parallel) test process at that point, so
        // a limit below that count fails the spawn with EMFILE at step 'landlock'.
        spec.limits.openFiles = 4096
        spec.limits.cpuSeconds = 20
        spec.limits.fileSizeBytes = 16 << 20
        spec.limits.wallSeconds = 60
        return spec
    }

    /// Caps above the limits `spec` sets, so that each limit is what stops the probe.
    let resourceArguments = ["--fork-limit", "200", "--mem-mb", "192", "--disk-mb", "24", "--nofile-limit", "8192"]

    func cleanup() {
        close(tcpListener)
        close(abstractListener)
        close(leakBait)
        Harness.removeTree(scratch)
    }

    /// Entries left in the work directory (the probe must remove its canaries).
    var workDirEntries: [String] {
        guard let d = opendir(workDir) else { return [] }
        defer { closedir(d) }
        var out: [String] = []
        while let e = readdir(d) {
            let n = withUnsafeBytes(of: e.pointee.d_name) { String(decoding: $0.prefix { $0 != 0 }, as: UTF8.self) }
            if n != "." && n != ".." { out.append(n) }
        }
        return out
    }
}

enum ProbeRun {
    /// Run the probe in `spec` and parse what it printed. With STOCKADE_PROBE_PRINT set, the
    /// report is printed too (to see every check's line in a passing run).
    static func run(_ spec: SandboxSpec, label: String = #function) async throws -> (Harness.Output, ProbeReport) {
        let out = try await Harness.run(spec)
        if getenv("STOCKADE_PROBE_PRINT") != nil {
            print("--- stockade-probe in \(label): \(out.outcome.termination)\n\(out.stdout)\(out.stderr)---")
        }
        return (out, ProbeReport(out.stdout))
    }
}
