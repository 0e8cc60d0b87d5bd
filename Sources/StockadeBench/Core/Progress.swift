import Glibc
import Synchronization

/// A progress bar on stderr while a benchmark runs (only on a terminal).
public final class Progress: Sendable {
    private let enabled: Bool
    private let state = Mutex<(label: String, done: Int, total: Int, lastDraw: Double)>(("", 0, 1, 0))

    public init(enabled: Bool = isatty(2) == 1) { self.enabled = enabled }

    public func start(_ label: String, total: Int) {
        state.withLock { $0 = (label, 0, max(total, 1), 0) }
        draw(force: true)
    }

    public func step() {
        state.withLock { $0.done += 1 }
        draw(force: false)
    }

    public func finish() {
        guard enabled else { return }
        let blank = "\r" + String(repeating: " ", count: 78) + "\r"
        blank.withCString { _ = write(2, $0, strlen($0)) }
    }

    private func draw(force: Bool) {
        guard enabled else { return }
        let now = BenchClock.nowMs()
        let line: String? = state.withLock { s in
            guard force || now - s.lastDraw > 50 || s.done == s.total else { return nil }
            s.lastDraw = now
            let width = 30
            let filled = min(width, s.done * width / s.total)
            let bar = String(repeating: "█", count: filled) + String(repeating: "·", count: width - filled)
            let label = s.label.count > 36 ? String(s.label.prefix(36)) : s.label
            return "\r[\(bar)] \(s.done)/\(s.total) \(label)"
        }
        line?.withCString { _ = write(2, $0, strlen($0)) }
    }
}
