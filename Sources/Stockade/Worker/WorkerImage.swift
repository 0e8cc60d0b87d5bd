import Glibc
import Synchronization

/// The `stockade-worker` executable, loaded once per process into a sealed memfd.
public enum WorkerImage {
    private static let cached = Mutex<ExecutableImage?>(nil)

    /// Where the binary is: $STOCKADE_WORKER_PATH, else next to this process's executable.
    public static func locate() throws -> String {
        if let env = getenv("STOCKADE_WORKER_PATH") {
            let path = String(cString: env)
            guard access(path, R_OK) == 0 else { throw WorkerError.startFailed("STOCKADE_WORKER_PATH=\(path) is not readable") }
            return path
        }
        var buf = [CChar](repeating: 0, count: 4096)
        let n = readlink("/proc/self/exe", &buf, 4095)
        guard n > 0 else { throw WorkerError.startFailed("cannot read /proc/self/exe to find stockade-worker") }
        var dir = String(decoding: buf[0..<n].map { UInt8(bitPattern: $0) }, as: UTF8.self)
        while let last = dir.last, last != "/" { dir.removeLast() }
        // Test bundles live one level deeper (X.xctest/...): look up a few directories.
        var candidates: [String] = []
        var d = dir
        for _ in 0..<3 {
            candidates.append(d + "stockade-worker")
            if d.count > 1 { d.removeLast(); while let last = d.last, last != "/" { d.removeLast() } }
        }
        for c in candidates where access(c, R_OK) == 0 { return c }
        throw WorkerError.startFailed("stockade-worker not found next to \(dir) (looked in \(candidates.joined(separator: ", "))): build it with `swift build --product stockade-worker` or set STOCKADE_WORKER_PATH")
    }

    /// The sealed image, made on first use.
    public static func shared() throws -> ExecutableImage {
        try cached.withLock { image in
            if let image { return image }
            let path = try locate()
            let made = try ExecutableImage(copying: path, name: "stockade-worker")
            image = made
            return made
        }
    }
}
