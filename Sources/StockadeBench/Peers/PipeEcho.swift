import Glibc

/// The floor under a worker's ping: one byte to `/bin/cat` over a pipe and back, with blocking
/// reads and no JSON. It costs two process wake-ups, as a ping does (plus the host's thread hop),
/// so ping / pipe-echo shows what Stockade adds to what the machine costs.
public final class PipeEcho: @unchecked Sendable {
    // @unchecked: used by one benchmark task at a time (the runner is sequential).
    private let toCat: Int32
    private let fromCat: Int32
    private let pid: pid_t

    public init?() {
        var input: [Int32] = [-1, -1]
        var output: [Int32] = [-1, -1]
        guard pipe(&input) == 0 else { return nil }
        guard pipe(&output) == 0 else {
            close(input[0]); close(input[1])
            return nil
        }
        for fd in input + output { _ = fcntl(fd, F_SETFD, FD_CLOEXEC) }
        var actions = posix_spawn_file_actions_t()
        posix_spawn_file_actions_init(&actions)
        defer { posix_spawn_file_actions_destroy(&actions) }
        posix_spawn_file_actions_adddup2(&actions, input[0], 0)
        posix_spawn_file_actions_adddup2(&actions, output[1], 1)
        var argv: [UnsafeMutablePointer<CChar>?] = [strdup("/bin/cat"), strdup("-u"), nil]
        defer { argv.forEach { free($0) } }
        var envp: [UnsafeMutablePointer<CChar>?] = [nil]
        var child: pid_t = 0
        let rc = posix_spawn(&child, "/bin/cat", &actions, nil, &argv, &envp)
        close(input[0])
        close(output[1])
        guard rc == 0 else {
            close(input[1]); close(output[0])
            return nil
        }
        toCat = input[1]
        fromCat = output[0]
        pid = child
    }

    /// One round trip.
    public func roundTrip() throws {
        var byte: UInt8 = 0x2e
        guard write(toCat, &byte, 1) == 1, read(fromCat, &byte, 1) == 1 else {
            throw ExternalCommand.Failure(description: "cat echo failed: errno \(errno)")
        }
    }

    deinit {
        close(toCat)
        close(fromCat)
        var status: Int32 = 0
        while waitpid(pid, &status, 0) < 0 && errno == EINTR {}
    }
}
