import Glibc
import StockadeProtocol
import Synchronization

/// Runs `body` on a new detached OS thread (blocking socket calls must stay off Swift's
/// cooperative pool, which has only as many threads as cores).
func startThread(_ body: @escaping @Sendable () -> Void) {
    final class Box: Sendable {
        let body: @Sendable () -> Void
        init(_ body: @escaping @Sendable () -> Void) { self.body = body }
    }
    let box = Unmanaged.passRetained(Box(body)).toOpaque()
    var tid = pthread_t()
    let rc = pthread_create(&tid, nil, { arg in
        let b = Unmanaged<Box>.fromOpaque(arg!).takeRetainedValue()
        b.body()
        return nil
    }, box)
    precondition(rc == 0, "pthread_create failed: \(rc)")
    pthread_detach(tid)
}

/// A tiny HTTP/1.1 receiver on 127.0.0.1 standing in for the control plane: accepts, reads the
/// request head and its Content-Length body, records path, Idempotency-Key and body, answers with
/// the configured status and `Connection: close`.
final class ControlPlaneReceiver: Sendable {
    struct Delivery: Sendable {
        var method: String
        var path: String
        var idempotencyKey: String?
        var contentType: String?
        var body: [UInt8]
        /// The status this receiver answered it with.
        var answered: Int
        var at: Double
        var json: JSONValue? { try? JSONParser.parse(body) }
    }

    private struct State {
        var deliveries: [Delivery] = []
        var answer = 200
        var stopping = false
        var stopped = false
    }

    let port: Int
    private let fd: Int32
    private let state = Mutex(State())

    private init(fd: Int32, port: Int, answer: Int) {
        self.fd = fd
        self.port = port
        state.withLock { $0.answer = answer }
    }

    var url: String { "http://127.0.0.1:\(port)" }

    /// Listen on 127.0.0.1:`port` (0: any free port) and serve on a thread of its own.
    static func start(port: Int = 0, answer: Int = 200) throws -> ControlPlaneReceiver {
        let fd = socket(AF_INET, Int32(SOCK_STREAM.rawValue) | Int32(SOCK_CLOEXEC.rawValue), 0)
        guard fd >= 0 else { throw HarnessError("socket: errno \(errno)") }
        var one: Int32 = 1
        setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, socklen_t(MemoryLayout<Int32>.size))
        var addr = sockaddr_in()
        addr.sin_family = sa_family_t(AF_INET)
        addr.sin_port = in_port_t(UInt16(port)).bigEndian
        addr.sin_addr.s_addr = inet_addr("127.0.0.1")
        let bound = withUnsafePointer(to: &addr) {
            $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { bind(fd, $0, socklen_t(MemoryLayout<sockaddr_in>.size)) }
        }
        guard bound == 0 else {
            let e = errno
            close(fd)
            throw HarnessError("bind 127.0.0.1:\(port): \(String(cString: strerror(e)))")
        }
        guard listen(fd, 64) == 0 else {
            close(fd)
            throw HarnessError("listen: errno \(errno)")
        }
        var actual = sockaddr_in()
        var len = socklen_t(MemoryLayout<sockaddr_in>.size)
        _ = withUnsafeMutablePointer(to: &actual) {
            $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { getsockname(fd, $0, &len) }
        }
        let receiver = ControlPlaneReceiver(fd: fd, port: Int(UInt16(bigEndian: actual.sin_port)), answer: answer)
        startThread { receiver.serve() }
        return receiver
    }

    /// The status answered from now on (200 or 503).
    func answer(_ status: Int) { state.withLock { $0.answer = status } }

    var deliveries: [Delivery] { state.withLock { $0.deliveries } }

    func deliveries(path: String) -> [Delivery] { deliveries.filter { $0.path == path } }

    /// Stop listening (the port is refused afterwards) and wait for the thread to end.
    func stop() async {
        state.withLock { $0.stopping = true }
        let deadline = Sys.now() + 10
        while !state.withLock({ $0.stopped }) && Sys.now() < deadline {
            try? await Task.sleep(for: .milliseconds(10))
        }
    }

    /// Wait until `condition` holds for the deliveries; returns whether it did within `seconds`.
    func wait(seconds: Double, until condition: ([Delivery]) -> Bool) async -> Bool {
        let deadline = Sys.now() + seconds
        while Sys.now() < deadline {
            if condition(deliveries) { return true }
            try? await Task.sleep(for: .milliseconds(20))
        }
        return condition(deliveries)
    }

    private func serve() {
        while !state.withLock({ $0.stopping }) {
            var p = pollfd(fd: fd, events: Int16(POLLIN), revents: 0)
            let n = poll(&p, 1, 50)
            guard n > 0 else { continue }
            let conn = accept(fd, nil, nil)
            guard conn >= 0 else { continue }
            _ = fcntl(conn, F_SETFD, FD_CLOEXEC)
            handle(conn)
            close(conn)
        }
        close(fd)
        state.withLock { $0.stopped = true }
    }

    private func handle(_ conn: Int32) {
        var tv = timeval(tv_sec: 5, tv_usec: 0)
        setsockopt(conn, SOL_SOCKET, SO_RCVTIMEO, &tv, socklen_t(MemoryLayout<timeval>.size))
        var data: [UInt8] = []
        var buf = [UInt8](repeating: 0, count: 65536)
        var headEnd: Int?
        while headEnd == nil {
            let n = read(conn, &buf, buf.count)
            if n < 0 && errno == EINTR { continue }
            if n <= 0 { return }
            data += buf[0..<n]
            headEnd = Self.find([0x0d, 0x0a, 0x0d, 0x0a], in: data)
            if data.count > 1 << 20 { return }
        }
        let head = String(decoding: data[0..<headEnd!], as: UTF8.self)
        let lines = head.split(separator: "\r\n", omittingEmptySubsequences: false)
        let requestLine = lines.first?.split(separator: " ") ?? []
        guard requestLine.count >= 2 else { return }
        var headers: [(String, String)] = []
        for line in lines.dropFirst() {
            guard let colon = line.firstIndex(of: ":") else { continue }
            let name = line[..<colon].lowercased()
            var value = line[line.index(after: colon)...]
            while value.first == " " { value = value.dropFirst() }
            headers.append((name, String(value)))
        }
        let length = headers.first { $0.0 == "content-length" }.flatMap { Int($0.1) } ?? 0
        var body = Array(data[(headEnd! + 4)...])
        while body.count < length {
            let n = read(conn, &buf, buf.count)
            if n < 0 && errno == EINTR { continue }
            if n <= 0 { break }
            body += buf[0..<n]
        }
        let status = state.withLock { s -> Int in
            s.deliveries.append(Delivery(method: String(requestLine[0]), path: String(requestLine[1]),
                                         idempotencyKey: headers.first { $0.0 == "idempotency-key" }?.1,
                                         contentType: headers.first { $0.0 == "content-type" }?.1,
                                         body: body, answered: s.answer, at: Sys.now()))
            return s.answer
        }
        let reason = status == 200 ? "OK" : "Service Unavailable"
        let response = Array("HTTP/1.1 \(status) \(reason)\r\nContent-Type: application/json\r\nContent-Length: 2\r\nConnection: close\r\n\r\n{}".utf8)
        var sent = 0
        while sent < response.count {
            let n = response[sent...].withUnsafeBytes { write(conn, $0.baseAddress, $0.count) }
            if n < 0 && errno == EINTR { continue }
            if n <= 0 { break }
            sent += n
        }
    }

    private static func find(_ needle: [UInt8], in hay: [UInt8]) -> Int? {
        guard hay.count >= needle.count else { return nil }
        for i in 0...(hay.count - needle.count) where hay[i] == needle[0] && Array(hay[i..<(i + needle.count)]) == needle {
            return i
        }
        return nil
    }
}
