import Synchronization

/// A counter shared by concurrent tasks: 1, 2, 3, ...
final class Counter: Sendable {
    private let value = Mutex<Int>(0)
    func next() -> Int { value.withLock { $0 += 1; return $0 } }
}
