import Glibc

/// A write to a worker that has just died must fail with EPIPE, not kill the host with SIGPIPE.
/// The first worker connection sets SIGPIPE to ignored for the whole process, as swift-nio does on
/// Linux, unless the program installed a handler of its own. Sandboxed processes are unaffected:
/// the spawn path resets every signal disposition to the default before exec.
enum BrokenPipe {
    static let ignored: Bool = {
        let previous = signal(SIGPIPE, SIG_IGN)
        if previous != nil && unsafeBitCast(previous, to: Int.self) != unsafeBitCast(SIG_IGN, to: Int.self) {
            _ = signal(SIGPIPE, previous)   // the program's own handler stays
            return false
        }
        return true
    }()
}
