import Glibc

/// The worker's settings, from its command line (the host builds it).
struct WorkerConfig {
    /// Where executions may leave files the host collects (inside the sandbox).
    var outputsDirectory: String?
    /// Working directory of each request's process.
    var workDirectory = "/tmp"
    /// Default and maximum wall-clock limit per request.
    var defaultWallMs: Int64 = 30_000
    var maxWallMs: Int64 = 3_600_000
    var defaultOutputBytes: Int64 = 1 << 20
    var maxOutputBytes: Int64 = 64 << 20
    var maxConcurrent = 32
    /// Bound on one request line from the host.
    var maxRequestBytes = 16 << 20
    /// The environment every request's process starts from (the worker's own, which the host
    /// built from an allow-list).
    var baseEnvironment: [(String, String)] = []
    /// Warm runtimes (a forking Python zygote, spare Node processes), on by default.
    var warmPython = true
    var warmJavaScript = true
    var nodeSpares = 1

    static func parse(_ args: [String]) -> WorkerConfig {
        var c = WorkerConfig()
        var i = 1
        func next() -> String? {
            i += 1
            return i < args.count ? args[i] : nil
        }
        while i < args.count {
            switch args[i] {
            case "--outputs": c.outputsDirectory = next()
            case "--work": if let v = next() { c.workDirectory = v }
            case "--default-wall-ms": if let v = next().flatMap({ Int64($0) }) { c.defaultWallMs = v }
            case "--max-wall-ms": if let v = next().flatMap({ Int64($0) }) { c.maxWallMs = v }
            case "--default-output-bytes": if let v = next().flatMap({ Int64($0) }) { c.defaultOutputBytes = v }
            case "--max-concurrent": if let v = next().flatMap({ Int($0) }) { c.maxConcurrent = v }
            case "--no-warm-python": c.warmPython = false
            case "--no-warm-javascript": c.warmJavaScript = false
            case "--node-spares": if let v = next().flatMap({ Int($0) }) { c.nodeSpares = max(0, min(v, 8)) }
            default: WorkerLog.info("ignoring unknown argument \(args[i])")
            }
            i += 1
        }
        var env = environ
        while let entry = env.pointee {
            let text = String(cString: entry)
            if let eq = text.firstIndex(of: "=") {
                c.baseEnvironment.append((String(text[..<eq]), String(text[text.index(after: eq)...])))
            }
            env += 1
        }
        return c
    }
}
