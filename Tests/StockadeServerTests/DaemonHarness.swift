import AsyncHTTPClient
import Glibc
import NIOCore
@testable import Stockade
import StockadeProtocol
import Synchronization
import Testing

/// Daemon tests run the real `stockade serve` binary as a subprocess and talk to it over HTTP on
/// loopback. They need root (the daemon maps each user to an unprivileged host uid).
///
/// Every test uses user ids no other test uses: daemons running in parallel on one host share a
/// cgroup per user id name (see LifecycleTests.twoDaemonsSameUser), and one daemon stopping its
/// worker would kill another daemon's worker of the same id.
let isRoot = geteuid() == 0
let needsRoot: Comment = "the daemon runs as root: run the daemon tests as root"

// MARK: - Errors

struct HarnessError: Error, CustomStringConvertible {
    var description: String
    init(_ description: String) { self.description = description }
}

// MARK: - Small system helpers

enum Sys {
    /// Monotonic seconds.
    static func now() -> Double {
        var ts = timespec()
        clock_gettime(CLOCK_MONOTONIC, &ts)
        return Double(ts.tv_sec) + Double(ts.tv_nsec) / 1e9
    }

    static func readFile(_ path: String, max: Int = 16 << 20) -> [UInt8]? {
        let fd = open(path, O_RDONLY | O_CLOEXEC)
        guard fd >= 0 else { return nil }
        defer { close(fd) }
        var out: [UInt8] = []
        var buf = [UInt8](repeating: 0, count: 65536)
        while out.count < max {
            let n = read(fd, &buf, buf.count)
            if n < 0 && errno == EINTR { continue }
            if n <= 0 { break }
            out += buf[0..<n]
        }
        return out
    }

    static func readText(_ path: String) -> String? {
        readFile(path).map { String(decoding: $0, as: UTF8.self) }
    }

    static func readlink(_ path: String) -> String? {
        var buf = [CChar](repeating: 0, count: 4096)
        let n = Glibc.readlink(path, &buf, 4095)
        guard n > 0 else { return nil }
        return String(decoding: buf[0..<n].map { UInt8(bitPattern: $0) }, as: UTF8.self)
    }

    /// The directory holding the test binary and the package's executables: /proc/self/exe's
    /// directory, walking up at most 3 levels until `stockade` is found (as WorkerImage does).
    static func stockadeBinary() throws -> String {
        guard var dir = readlink("/proc/self/exe") else { throw HarnessError("cannot read /proc/self/exe") }
        while let last = dir.last, last != "/" { dir.removeLast() }
        var looked: [String] = []
        var d = dir
        for _ in 0..<4 {
            let candidate = d + "stockade"
            looked.append(candidate)
            var st = stat()
            if stat(candidate, &st) == 0, (st.st_mode & S_IFMT) == S_IFREG, access(candidate, X_OK) == 0 { return candidate }
            if d.count > 1 { d.removeLast(); while let last = d.last, last != "/" { d.removeLast() } }
        }
        throw HarnessError("the stockade binary is not next to the test binary (looked at \(looked.joined(separator: ", "))): build with --build-tests")
    }

    /// `mkdtemp("/tmp/stockade-test-daemon-XXXXXX")`.
    static func makeTempDirectory() throws -> String {
        var template = Array("/tmp/stockade-test-daemon-XXXXXX".utf8CString)
        guard let p = template.withUnsafeMutableBufferPointer({ mkdtemp($0.baseAddress!) }) else {
            throw HarnessError("mkdtemp failed: errno \(errno)")
        }
        return String(cString: p)
    }

    /// Run a program to completion (argv[0] is an absolute path). Returns its exit status.
    @discardableResult
    static func run(_ argv: [String]) -> Int32 {
        guard let pid = try? spawn(argv, environment: ["PATH=/usr/bin:/bin"], output: "/dev/null") else { return -1 }
        var status: Int32 = 0
        while waitpid(pid, &status, 0) < 0 && errno == EINTR {}
        return status
    }

    /// posix_spawn with default signal dispositions and an empty signal mask, stdin from /dev/null and
    /// stdout/stderr appended to `output`.
    static func spawn(_ argv: [String], environment: [String], output: String) throws -> pid_t {
        var actions = posix_spawn_file_actions_t()
        posix_spawn_file_actions_init(&actions)
        defer { posix_spawn_file_actions_destroy(&actions) }
        posix_spawn_file_actions_addopen(&actions, 0, "/dev/null", O_RDONLY, 0)
        posix_spawn_file_actions_addopen(&actions, 1, output, O_WRONLY | O_CREAT | O_APPEND, 0o600)
        posix_spawn_file_actions_adddup2(&actions, 1, 2)
        var attr = posix_spawnattr_t()
        posix_spawnattr_init(&attr)
        defer { posix_spawnattr_destroy(&attr) }
        var empty = sigset_t()
        sigemptyset(&empty)
        posix_spawnattr_setsigmask(&attr, &empty)
        var all = sigset_t()
        sigemptyset(&all)
        for s in 1..<32 where s != SIGKILL && s != SIGSTOP { sigaddset(&all, Int32(s)) }
        posix_spawnattr_setsigdefault(&attr, &all)
        posix_spawnattr_setflags(&attr, Int16(POSIX_SPAWN_SETSIGMASK | POSIX_SPAWN_SETSIGDEF))
        var cArgs: [UnsafeMutablePointer<CChar>?] = argv.map { strdup($0) } + [nil]
        var cEnv: [UnsafeMutablePointer<CChar>?] = environment.map { strdup($0) } + [nil]
        defer {
            for p in cArgs { free(p) }
            for p in cEnv { free(p) }
        }
        var pid: pid_t = 0
        let rc = posix_spawn(&pid, argv[0], &actions, &attr, &cArgs, &cEnv)
        guard rc == 0 else { throw HarnessError("posix_spawn \(argv[0]) failed: \(String(cString: strerror(rc)))") }
        return pid
    }

    /// Remove a tree made by the tests (only under /tmp/stockade-test-daemon-).
    static func removeTree(_ path: String) {
        guard path.hasPrefix("/tmp/stockade-test-daemon-"), !path.contains("/../") else { return }
        run(["/bin/rm", "-rf", "--one-file-system", path])
    }

    // MARK: processes

    struct ProcInfo: Sendable, Hashable {
        var pid: pid_t
        var ppid: pid_t
        var state: Character
        var startTime: UInt64
        var exe: String?
    }

    static func procInfo(_ pid: pid_t) -> ProcInfo? {
        guard let stat = readText("/proc/\(pid)/stat"), let close = stat.lastIndex(of: ")") else { return nil }
        let fields = stat[stat.index(after: close)...].split(separator: " ")
        // fields[0] = state (3rd field), fields[1] = ppid, fields[19] = starttime (22nd field)
        guard fields.count > 19, let ppid = pid_t(fields[1]), let start = UInt64(fields[19]) else { return nil }
        return ProcInfo(pid: pid, ppid: ppid, state: fields[0].first ?? "?", startTime: start, exe: readlink("/proc/\(pid)/exe"))
    }

    static func allProcesses() -> [ProcInfo] {
        guard let dir = opendir("/proc") else { return [] }
        defer { closedir(dir) }
        var out: [ProcInfo] = []
        while let entry = readdir(dir) {
            let name = withUnsafeBytes(of: entry.pointee.d_name) { raw in
                String(decoding: raw.prefix { $0 != 0 }, as: UTF8.self)
            }
            guard let pid = pid_t(name), let info = procInfo(pid) else { continue }
            out.append(info)
        }
        return out
    }

    /// Every live descendant of `root`.
    static func descendants(of root: pid_t) -> [ProcInfo] {
        let all = allProcesses()
        var children: [pid_t: [ProcInfo]] = [:]
        for p in all { children[p.ppid, default: []].append(p) }
        var out: [ProcInfo] = []
        var stack = [root]
        while let p = stack.popLast() {
            for c in children[p] ?? [] where c.state != "Z" {
                out.append(c)
                stack.append(c.pid)
            }
        }
        return out
    }

    /// Whether the process that was `info` still runs (same pid and start time, not a zombie).
    static func isAlive(_ info: ProcInfo) -> Bool {
        guard let now = procInfo(info.pid) else { return false }
        return now.startTime == info.startTime && now.state != "Z" && now.state != "X"
    }

    static func isWorker(_ info: ProcInfo) -> Bool { info.exe?.contains("memfd:stockade-worker") ?? false }
}

// MARK: - HTTP

struct HTTPResult: Sendable {
    var status: Int
    var headers: [(String, String)]
    var body: [UInt8]

    var text: String { String(decoding: body, as: UTF8.self) }
    var json: JSONValue? { try? JSONParser.parse(body) }
    func header(_ name: String) -> String? { headers.first { $0.0.lowercased() == name.lowercased() }?.1 }
    /// `error.code` of a `{"error": {"code", "message"}}` body.
    var errorCode: String? { json?["error"]?["code"]?.stringValue }
    var errorMessage: String? { json?["error"]?["message"]?.stringValue }
    /// Whether the body is exactly the error shape with a non-empty code and message.
    var isErrorShape: Bool {
        guard let e = json?["error"]?.objectValue else { return false }
        return !(e["code"]?.stringValue ?? "").isEmpty && !(e["message"]?.stringValue ?? "").isEmpty
    }
}

extension JSONValue {
    /// Compact JSON bytes.
    var bytes: [UInt8] { JSONWriter.encode(self) }
}

/// One Server-Sent Event as received, with its arrival time (monotonic seconds).
struct SSEEvent: Sendable {
    var event: String
    var data: String
    var at: Double
    var json: JSONValue? { try? JSONParser.parse(data) }
}

// MARK: - The daemon process

/// A `stockade serve` process this test started. Stopped by pid only.
final class Daemon: Sendable {
    let pid: pid_t
    let port: Int
    let dataDir: String
    let logPath: String
    let token: String?
    private let exitStatus = Mutex<Int32?>(nil)

    var base: String { "http://127.0.0.1:\(port)" }

    private init(pid: pid_t, port: Int, dataDir: String, logPath: String, token: String?) {
        self.pid = pid
        self.port = port
        self.dataDir = dataDir
        self.logPath = logPath
        self.token = token
    }

    /// Start `stockade serve --port 0 --data-dir DIR ARGS` and wait for its "listening on" line.
    static func start(dataDir: String, arguments: [String] = [], environment: [String: String] = [:],
                      logName: String = "daemon.log") async throws -> Daemon {
        let binary = try Sys.stockadeBinary()
        let logPath = dataDir + "/" + logName
        let before = Sys.readFile(logPath)?.count ?? 0
        var env: [String] = []
        var p = environ
        while let entry = p.pointee {
            let s = String(cString: entry)
            if !s.hasPrefix("STOCKADE_") { env.append(s) }
            p += 1
        }
        for (k, v) in environment { env.append("\(k)=\(v)") }
        let argv = [binary, "serve", "--host", "127.0.0.1", "--port", "0", "--data-dir", dataDir] + arguments
        let pid = try Sys.spawn(argv, environment: env, output: logPath)
        let deadline = Sys.now() + 60
        while Sys.now() < deadline {
            let log = Sys.readFile(logPath).map { Array($0.dropFirst(before)) } ?? []
            let text = String(decoding: log, as: UTF8.self)
            if let r = text.range(of: "listening on http://127.0.0.1:") {
                let digits = text[r.upperBound...].prefix { $0.isNumber }
                if let port = Int(digits), port > 0 {
                    return Daemon(pid: pid, port: port, dataDir: dataDir, logPath: logPath, token: environment["STOCKADE_API_TOKEN"])
                }
            }
            var status: Int32 = 0
            if waitpid(pid, &status, WNOHANG) == pid {
                throw HarnessError("stockade serve exited (status \(status)) before listening:\n\(text)")
            }
            try? await Task.sleep(for: .milliseconds(20))
        }
        kill(pid, SIGKILL)
        var status: Int32 = 0
        waitpid(pid, &status, 0)
        throw HarnessError("stockade serve did not report listening within 60 s")
    }

    /// The daemon's log since it started (for failure messages).
    var log: String { Sys.readText(logPath) ?? "" }

    var hasExited: Bool { exitStatus.withLock { $0 } != nil || pollExit() != nil }

    /// Reap it if it has exited; returns the wait status.
    @discardableResult
    func pollExit() -> Int32? {
        exitStatus.withLock { saved in
            if let saved { return saved }
            var status: Int32 = 0
            let r = waitpid(pid, &status, WNOHANG)
            if r == pid {
                saved = status
                return status
            }
            return nil
        }
    }

    /// Wait up to `seconds` for it to exit; the wait status, or nil if it still runs.
    func waitExit(seconds: Double) async -> Int32? {
        let deadline = Sys.now() + seconds
        while true {
            if let s = pollExit() { return s }
            if Sys.now() >= deadline { return nil }
            try? await Task.sleep(for: .milliseconds(20))
        }
    }

    /// SIGTERM, then SIGKILL after `grace` seconds. Returns the wait status.
    @discardableResult
    func stop(grace: Double = 10) async -> Int32 {
        if let s = pollExit() { return s }
        kill(pid, SIGTERM)
        if let s = await waitExit(seconds: grace) { return s }
        kill(pid, SIGKILL)
        return await waitExit(seconds: 30) ?? -1
    }

    /// kill -9 and reap.
    /// SIGKILL the daemon. Its sandboxes die with it; the empty cgroups it could not remove are
    /// swept here (a daemon sweeps only groups older than a minute), so the test leaves none.
    func kill9() async {
        if pollExit() != nil { return }
        kill(pid, SIGKILL)
        _ = await waitExit(seconds: 30)
        let deadline = Sys.now() + 10
        while Sys.now() < deadline {
            StaleCgroupSweeper.sweep(minimumAge: 0)
            if !Self.cgroupsExist(madeBy: pid) { break }
            try? await Task.sleep(for: .milliseconds(100))
        }
    }

    /// Whether any Stockade cgroup named for `pid` is left (`<prefix>-<pid>-<n>`).
    static func cgroupsExist(madeBy pid: Int32) -> Bool {
        let system = CgroupSystem.host
        let parents = system.mode == .v2 ? system.bases.values.map { $0 + "/stockade" } : Array(system.bases.values)
        return parents.contains { parent in
            StaleCgroupSweeper.subdirectories(of: parent).contains { StaleCgroupSweeper.creatorPID($0) == pid }
        }
    }

    // MARK: requests

    func request(_ method: HTTPMethodName, _ path: String, body: [UInt8]? = nil, headers: [(String, String)] = [],
                 auth: Bool = true, timeout: Int64 = 60) async throws -> HTTPResult {
        var request = HTTPClientRequest(url: base + path)
        switch method {
        case .GET: request.method = .GET
        case .POST: request.method = .POST
        case .DELETE: request.method = .DELETE
        case .PUT: request.method = .PUT
        }
        if auth, let token { request.headers.add(name: "Authorization", value: "Bearer \(token)") }
        for (k, v) in headers { request.headers.replaceOrAdd(name: k, value: v) }
        if let body {
            if !headers.contains(where: { $0.0.lowercased() == "content-type" }) {
                request.headers.add(name: "Content-Type", value: "application/json")
            }
            request.body = .bytes(ByteBuffer(bytes: body))
        }
        let response = try await HTTPClient.shared.execute(request, timeout: .seconds(timeout))
        let collected = try await response.body.collect(upTo: 64 << 20)
        return HTTPResult(status: Int(response.status.code), headers: response.headers.map { ($0.name, $0.value) },
                          body: Array(collected.readableBytesView))
    }

    func get(_ path: String, headers: [(String, String)] = [], auth: Bool = true) async throws -> HTTPResult {
        try await request(.GET, path, headers: headers, auth: auth)
    }

    func delete(_ path: String) async throws -> HTTPResult {
        try await request(.DELETE, path)
    }

    func post(_ path: String, _ json: JSONValue, headers: [(String, String)] = [], timeout: Int64 = 60) async throws -> HTTPResult {
        try await request(.POST, path, body: json.bytes, headers: headers, timeout: timeout)
    }

    /// POST /v1/execute and the result JSON (requires 200).
    func execute(_ body: JSONValue, sourceLocation: SourceLocation = #_sourceLocation) async throws -> JSONValue {
        let r = try await post("/v1/execute", body)
        try #require(r.status == 200, "POST /v1/execute answered \(r.status): \(r.text)", sourceLocation: sourceLocation)
        return try #require(r.json, "not JSON: \(r.text)", sourceLocation: sourceLocation)
    }

    /// POST /v1/executions and the execution id (requires 202).
    func submit(_ body: JSONValue, sourceLocation: SourceLocation = #_sourceLocation) async throws -> String {
        let r = try await post("/v1/executions", body)
        try #require(r.status == 202, "POST /v1/executions answered \(r.status): \(r.text)", sourceLocation: sourceLocation)
        return try #require(r.json?["execution_id"]?.stringValue, "no execution_id in \(r.text)", sourceLocation: sourceLocation)
    }

    /// GET /v1/executions/{id} → its record.
    func record(_ id: String) async throws -> JSONValue? {
        let r = try await get("/v1/executions/\(id)")
        return r.status == 200 ? r.json : nil
    }

    /// Poll until the record's state is one of `states`; returns the record, or nil on timeout.
    func waitForState(_ id: String, _ states: Set<String>, seconds: Double = 20) async throws -> JSONValue? {
        let deadline = Sys.now() + seconds
        while Sys.now() < deadline {
            if let rec = try await record(id), let s = rec["state"]?.stringValue, states.contains(s) { return rec }
            try await Task.sleep(for: .milliseconds(40))
        }
        return nil
    }

    /// POST /v1/execute with `Accept: text/event-stream`; the events with their arrival times.
    func executeStreaming(_ body: JSONValue, timeout: Int64 = 60) async throws -> (status: Int, contentType: String?, events: [SSEEvent], start: Double, end: Double) {
        var request = HTTPClientRequest(url: base + "/v1/execute")
        request.method = .POST
        if let token { request.headers.add(name: "Authorization", value: "Bearer \(token)") }
        request.headers.add(name: "Content-Type", value: "application/json")
        request.headers.add(name: "Accept", value: "text/event-stream")
        request.body = .bytes(ByteBuffer(bytes: body.bytes))
        let start = Sys.now()
        let response = try await HTTPClient.shared.execute(request, timeout: .seconds(timeout))
        var pending: [UInt8] = []
        var events: [SSEEvent] = []
        for try await chunk in response.body {
            let at = Sys.now()
            pending += chunk.readableBytesView
            // Events end with a blank line.
            while let end = Self.blankLine(in: pending) {
                let block = String(decoding: pending[0..<end.start], as: UTF8.self)
                pending.removeFirst(end.end)
                var name = "message"
                var data: [String] = []
                for line in block.split(separator: "\n", omittingEmptySubsequences: false) {
                    if line.hasPrefix("event:") { name = line.dropFirst(6).trimmingCharacters() }
                    else if line.hasPrefix("data:") { data.append(String(line.dropFirst(5)).trimmingLeadingSpace()) }
                }
                if !block.isEmpty { events.append(SSEEvent(event: name, data: data.joined(separator: "\n"), at: at)) }
            }
        }
        return (Int(response.status.code), response.headers.first(name: "content-type"), events, start, Sys.now())
    }

    private static func blankLine(in bytes: [UInt8]) -> (start: Int, end: Int)? {
        guard bytes.count >= 2 else { return nil }
        for i in 0..<(bytes.count - 1) where bytes[i] == 0x0a && bytes[i + 1] == 0x0a { return (i, i + 2) }
        return nil
    }
}

enum HTTPMethodName {
    case GET, POST, DELETE, PUT
}

extension Substring {
    func trimmingCharacters() -> String {
        var s = self
        while s.first == " " { s.removeFirst() }
        while s.last == " " || s.last == "\r" { s.removeLast() }
        return String(s)
    }
}

extension String {
    func trimmingLeadingSpace() -> String {
        hasPrefix(" ") ? String(dropFirst()) : self
    }
}

// MARK: - Scope: a data directory and the daemons started on it

/// Owns one temp data directory and every daemon started on it; on exit (also on failure) stops
/// those still running (SIGTERM, then SIGKILL after 10 s) and removes the directory.
final class DaemonScope: Sendable {
    let dataDir: String
    private let daemons = Mutex<[Daemon]>([])

    private init(dataDir: String) { self.dataDir = dataDir }

    static func run<T>(_ body: (DaemonScope) async throws -> T) async throws -> T {
        let dir = try Sys.makeTempDirectory()
        let scope = DaemonScope(dataDir: dir)
        do {
            let value = try await body(scope)
            await scope.cleanup()
            return value
        } catch {
            await scope.cleanup()
            throw error
        }
    }

    /// Start a daemon on this scope's data directory.
    func start(_ arguments: [String] = [], environment: [String: String] = [:]) async throws -> Daemon {
        let n = daemons.withLock { $0.count }
        let d = try await Daemon.start(dataDir: dataDir, arguments: arguments, environment: environment, logName: "daemon-\(n).log")
        daemons.withLock { $0.append(d) }
        return d
    }

    private func cleanup() async {
        for d in daemons.withLock({ $0 }) { await d.stop(grace: 10) }
        if getenv("STOCKADE_TEST_KEEP_DATA") != nil {
            print("kept \(dataDir)")
            return
        }
        Sys.removeTree(dataDir)
    }
}

/// One daemon on a fresh data directory for the body.
func withDaemon<T>(_ arguments: [String] = [], environment: [String: String] = [:],
                   _ body: (Daemon) async throws -> T) async throws -> T {
    try await DaemonScope.run { scope in
        let d = try await scope.start(arguments, environment: environment)
        return try await body(d)
    }
}

// MARK: - Result contract checks

/// `YYYY-MM-DDTHH:MM:SS.mmmZ`.
func isISOTimestamp(_ v: JSONValue?) -> Bool {
    guard let s = v?.stringValue else { return false }
    let b = Array(s.utf8)
    guard b.count == 24 else { return false }
    let digitsAt = [0, 1, 2, 3, 5, 6, 8, 9, 11, 12, 14, 15, 17, 18, 20, 21, 22]
    for i in digitsAt where !(b[i] >= 0x30 && b[i] <= 0x39) { return false }
    return b[4] == 0x2d && b[7] == 0x2d && b[10] == 0x54 && b[13] == 0x3a && b[16] == 0x3a && b[19] == 0x2e && b[23] == 0x5a
}
