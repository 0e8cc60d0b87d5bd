import Glibc
import StockadeProtocol
import Testing

extension Daemon {
    /// POST /v1/execute with `Accept: text/event-stream` over a raw TCP connection, read until the
    /// first event has arrived, then close the socket (as `curl -m` or a browser tab does).
    func streamThenDisconnect(_ body: JSONValue) async throws -> String {
        let port = self.port
        let token = self.token
        let payload = body.bytes
        return try await withCheckedThrowingContinuation { (continuation: CheckedContinuation<String, any Error>) in
            startThread {
                continuation.resume(with: Result { try Self.rawStream(port: port, token: token, payload: payload) })
            }
        }
    }

    private static func rawStream(port: Int, token: String?, payload: [UInt8]) throws -> String {
        let fd = socket(AF_INET, Int32(SOCK_STREAM.rawValue) | Int32(SOCK_CLOEXEC.rawValue), 0)
        guard fd >= 0 else { throw HarnessError("socket: errno \(errno)") }
        defer { close(fd) }
        var tv = timeval(tv_sec: 20, tv_usec: 0)
        setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, socklen_t(MemoryLayout<timeval>.size))
        var addr = sockaddr_in()
        addr.sin_family = sa_family_t(AF_INET)
        addr.sin_port = in_port_t(UInt16(port)).bigEndian
        addr.sin_addr.s_addr = inet_addr("127.0.0.1")
        let rc = withUnsafePointer(to: &addr) {
            $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { connect(fd, $0, socklen_t(MemoryLayout<sockaddr_in>.size)) }
        }
        guard rc == 0 else { throw HarnessError("connect: errno \(errno)") }
        var head = "POST /v1/execute HTTP/1.1\r\nHost: 127.0.0.1:\(port)\r\nAccept: text/event-stream\r\n"
        head += "Content-Type: application/json\r\nContent-Length: \(payload.count)\r\n"
        if let token { head += "Authorization: Bearer \(token)\r\n" }
        head += "\r\n"
        let request = Array(head.utf8) + payload
        var sent = 0
        while sent < request.count {
            let n = request[sent...].withUnsafeBytes { write(fd, $0.baseAddress, $0.count) }
            guard n > 0 else { throw HarnessError("write: errno \(errno)") }
            sent += n
        }
        var received: [UInt8] = []
        var buf = [UInt8](repeating: 0, count: 4096)
        while true {
            let n = read(fd, &buf, buf.count)
            if n < 0 && errno == EINTR { continue }
            guard n > 0 else { break }
            received += buf[0..<n]
            let text = String(decoding: received, as: UTF8.self)
            // The head, then a first complete event (keep-alive comments do not count).
            if let bodyStart = text.range(of: "\r\n\r\n"),
               let ev = text[bodyStart.upperBound...].range(of: "event:"), text[ev.upperBound...].contains("\n\n") { return text }
        }
        return String(decoding: received, as: UTF8.self)
    }

    /// The value of an unlabelled Prometheus sample `name`.
    func metric(_ name: String) async throws -> Double? {
        let text = try await get("/metrics").text
        for line in text.split(separator: "\n") where line.hasPrefix(name + " ") {
            return Double(line.split(separator: " ").last ?? "")
        }
        return nil
    }
}

@Suite("Daemon client disconnects", .enabled(if: isRoot, needsRoot))
struct DisconnectTests {
    /// A synchronous run whose client gave up is cancelled with DELETE /v1/executions/{id}, like
    /// an asynchronous one (the daemon cannot see a closed connection until it answers).
    @Test("a synchronous run can be cancelled with DELETE")
    func syncDisconnectCancels() async throws {
        try await withDaemon { d in
            _ = try await d.sh("dc", "true") // warm the worker
            let id = "disconnect-sync"
            // The client gives up after 1 s: AsyncHTTPClient closes the connection.
            let r = try? await d.request(.POST, "/v1/execute", body: (["user_id": "dc", "language": "shell",
                                                                        "code": "sleep 5; echo finished",
                                                                        "execution_id": .string(id)] as JSONValue).bytes,
                                         timeout: 1)
            #expect(r == nil, "the request should have timed out on the client")
            let delete = try await d.delete("/v1/executions/\(id)")
            #expect(delete.status == 202, "\(delete.text)")
            try await Task.sleep(for: .milliseconds(1500))
            let rec = try #require(try await d.record(id))
            #expect(rec["state"] != "running", "1.5 s after DELETE the run is still running: \(rec)")
            let final = try #require(try await d.waitForState(id, ["completed", "cancelled", "failed", "interrupted"], seconds: 10))
            #expect(final["state"] == "cancelled", "a run whose client left should be cancelled: \(final)")
            #expect(final["result"]?["stdout"]?.stringValue?.contains("finished") != true, "it ran to the end: \(final)")
        }
    }

    @Test("closing an event stream: the run is cancelled, its record is consistent, the in-flight gauge stays at 0")
    func streamDisconnect() async throws {
        try await withDaemon { d in
            _ = try await d.sh("ds", "true")
            let id = "disconnect-stream"
            let first = try await d.streamThenDisconnect(["user_id": "ds", "language": "shell",
                                                          "code": "echo started; sleep 3; echo finished; sleep 0.3",
                                                          "execution_id": .string(id)])
            #expect(first.contains("started"), "first chunk: \(first)")
            try await Task.sleep(for: .milliseconds(2000))
            let rec = try #require(try await d.record(id))
            #expect(rec["state"] != "running", "2 s after the client closed the stream the run is still running: \(rec)")

            let final = try #require(try await d.waitForState(id, ["completed", "cancelled", "failed", "interrupted"], seconds: 10))
            // A record is either completed with its result, or failed/cancelled with an error: not both.
            if final["state"] == "completed" {
                #expect(final["error"] == nil, "a completed record carries an error too: \(final)")
            }
            #expect(final["result"]?["stdout"]?.stringValue?.contains("finished") != true, "it ran to the end: \(final)")

            // Every request has ended: nothing is in flight.
            _ = try await d.sh("ds", "true")
            let inFlight = try await d.metric("stockade_http_executions_in_flight")
            #expect(inFlight == 0, "stockade_http_executions_in_flight = \(String(describing: inFlight)) with nothing running")
        }
    }
}
