import Glibc
import Testing
@testable import Stockade

@Suite("network isolation", .enabled(if: Harness.isRoot, Harness.rootReason))
struct NetworkIsolationTests {
    /// A TCP listener on the host's loopback; returns (fd, port).
    static func hostListener() -> (Int32, UInt16) {
        let fd = socket(AF_INET, Int32(SOCK_STREAM.rawValue) | Int32(SOCK_CLOEXEC.rawValue) | Int32(SOCK_NONBLOCK.rawValue), 0)
        var addr = sockaddr_in()
        addr.sin_family = sa_family_t(AF_INET)
        addr.sin_addr.s_addr = inet_addr("127.0.0.1")
        addr.sin_port = 0
        _ = withUnsafePointer(to: &addr) { $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { bind(fd, $0, socklen_t(MemoryLayout<sockaddr_in>.size)) } }
        listen(fd, 16)
        var len = socklen_t(MemoryLayout<sockaddr_in>.size)
        _ = withUnsafeMutablePointer(to: &addr) { $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { getsockname(fd, $0, &len) } }
        return (fd, UInt16(bigEndian: addr.sin_port))
    }

    @Test("only lo exists, and it is up")
    func onlyLoopback() async throws {
        let out = try await Harness.sh("tail -n +3 /proc/net/dev | cut -d: -f1 | tr -d ' '; cat /sys/class/net/lo/operstate 2>/dev/null; python3 -c 'import socket; s=socket.socket(); s.bind((\"127.0.0.1\", 0)); s.listen(); c=socket.create_connection(s.getsockname()); print(\"LOOPBACK-WORKS\")'")
        let interfaces = out.stdout.split(separator: "\n").map(String.init).filter { !$0.isEmpty && $0 != "LOOPBACK-WORKS" }
        #expect(interfaces == ["lo"], "\(out.stdout) \(out.stderr)")
        #expect(out.stdout.contains("LOOPBACK-WORKS"), "its own loopback is usable: \(out.stderr)")
    }

    @Test("a TCP connect to a listener on the host's loopback fails")
    func hostLoopbackUnreachable() async throws {
        let (listener, port) = Self.hostListener()
        defer { close(listener) }
        let out = try await Harness.python("""
            import socket
            try:
                socket.create_connection(("127.0.0.1", \(port)), timeout=2)
                print("CONNECTED")
            except OSError as e:
                print("FAILED", e.errno)
            """)
        #expect(out.stdout.hasPrefix("FAILED"), "\(out.stdout) \(out.stderr)")
        // And the host's listener saw nothing.
        let accepted = accept(listener, nil, nil)
        #expect(accepted < 0 && errno == EAGAIN)
        if accepted >= 0 { close(accepted) }
    }

    @Test("with --share-net the same connect succeeds (the check above can fail)")
    func sharedNetworkReachesHost() async throws {
        let (listener, port) = Self.hostListener()
        defer { close(listener) }
        let out = try await Harness.python("""
            import socket
            socket.create_connection(("127.0.0.1", \(port)), timeout=2); print("CONNECTED")
            """) { $0.namespaces.remove(.network) }
        #expect(out.stdout.contains("CONNECTED"), "\(out.stderr)")
    }
}
