import CStockade
import Glibc
import StockadeProtocol
import Synchronization

/// What a streaming execution yields: output chunks in order, then the result.
public enum WorkerEvent: Sendable {
    case output(OutputEvent)
    case result(ExecutionResult)
}

/// The host's end of a worker's JSON-RPC pipes. Everything that comes from the worker is treated
/// as hostile: a line over the bound, invalid JSON, an unknown id or an unexpected message ends the
/// worker with a clear error, and never crashes or blocks the host.
final class WorkerConnection: Sendable {
    enum Waiter {
        case call(CheckedContinuation<JSONValue, any Error>)
        case stream(AsyncThrowingStream<WorkerEvent, any Error>.Continuation)
    }

    private struct State {
        var nextID: Int64 = 1
        var pending: [Int64: Waiter] = [:]
        var input: LineBuffer
        var output: [UInt8] = []
        var outputOffset = 0
        var writeWatched = false
        var released = false
        /// Once set, the connection is over and every call fails with it.
        var closed: WorkerError?
    }

    let stdinFD: Int32
    let stdoutFD: Int32
    private let state: Mutex<State>
    private let stdoutToken: Reactor.Token
    private let stdinToken: Reactor.Token
    /// Called (once) when the worker breaks the protocol, to kill it.
    private let onViolation: @Sendable (String) -> Void

    init(stdin: Int32, stdout: Int32, maxLineBytes: Int, onViolation: @escaping @Sendable (String) -> Void) throws {
        stdinFD = stdin
        stdoutFD = stdout
        state = Mutex(State(input: LineBuffer(maxLineBytes: maxLineBytes)))
        self.onViolation = onViolation
        _ = BrokenPipe.ignored
        _ = stk_set_nonblock(stdin, 1)
        _ = stk_set_nonblock(stdout, 1)
        // Both pipes belong to the reactor from here on: only its thread closes them.
        // stdin waits for no event until a write would block. The handlers reach this object
        // through `relay`, set once it is fully made.
        let relay = Relay()
        stdinToken = try Reactor.shared.register(fd: stdin, events: 0) { _ in
            relay.connection?.writable()
            return .keep
        }
        do {
            stdoutToken = try Reactor.shared.register(fd: stdout) { _ in
                guard let connection = relay.connection else { return .keep }
                return connection.readAvailable() ? .keep : .close
            }
        } catch {
            Reactor.shared.closeSoon(stdinToken)
            throw error
        }
        relay.set(self)
    }

    /// A weak, settable reference for the reactor's handlers.
    private final class Relay: Sendable {
        private let ref = Mutex<WeakConnection>(WeakConnection())
        var connection: WorkerConnection? { ref.withLock { $0.value } }
        func set(_ c: WorkerConnection) { ref.withLock { $0.value = c } }
    }

    private struct WeakConnection: @unchecked Sendable {
        // @unchecked: only read and written under Relay's mutex.
        weak var value: WorkerConnection?
    }

    /// The worker's input pipe has room again: write what is queued.
    private func writable() {
        let broken = state.withLock { s -> WorkerError? in
            let error = flushLocked(&s)
            if let error, s.closed == nil { s.closed = error }
            if s.outputOffset >= s.output.count || s.closed != nil {
                s.writeWatched = false
                Reactor.shared.modify(stdinToken, events: 0)
            }
            return error
        }
        if let broken, case .crashed = broken { onViolation("\(broken)") }
    }

    deinit {
        Reactor.shared.closeSoon(stdoutToken)
        Reactor.shared.closeSoon(stdinToken)
    }

    /// Close both pipes now (on the reactor thread) and wait until they are closed. Calls that
    /// come after fail with the error the connection was closed with.
    func release() async {
        let first = state.withLock { s -> Bool in
            if s.closed == nil { s.closed = .stopped }
            defer { s.released = true }
            return !s.released
        }
        guard first else { return }
        await Reactor.shared.close(stdoutToken)
        await Reactor.shared.close(stdinToken)
    }

    // MARK: Calls

    /// Send a request and wait for its result.
    func call(_ method: String, _ params: JSONValue?) async throws(WorkerError) -> JSONValue {
        do {
            return try await withCheckedThrowingContinuation { (continuation: CheckedContinuation<JSONValue, any Error>) in
                if let error = send(method, params, .call(continuation)).error {
                    continuation.resume(throwing: error)
                }
            }
        } catch let error as WorkerError {
            throw error
        } catch {
            throw .protocolViolation("\(error)")
        }
    }

    /// Send a request whose output streams; returns its id (for the backstop) and the stream.
    func stream(_ method: String, _ params: JSONValue?) -> (Int64?, AsyncThrowingStream<WorkerEvent, any Error>) {
        let (stream, continuation) = AsyncThrowingStream<WorkerEvent, any Error>.makeStream()
        let sent = send(method, params, .stream(continuation))
        if let error = sent.error { continuation.finish(throwing: error) }
        return (sent.id, stream)
    }

    /// Whether request `id` is still waiting for its answer.
    func isPending(_ id: Int64) -> Bool { state.withLock { $0.pending[id] != nil } }

    /// On failure the waiter is not kept: the caller fails it, once. A write that meets a closed
    /// pipe (the worker stopped reading) ends the connection and the worker with it.
    private func send(_ method: String, _ params: JSONValue?, _ waiter: Waiter) -> (id: Int64?, error: WorkerError?) {
        let sent = state.withLock { s -> (Int64?, WorkerError?) in
            if let closed = s.closed { return (nil, closed) }
            let id = s.nextID
            s.nextID += 1
            s.pending[id] = waiter
            RPCRequest(method: method, params: params, id: .int(id)).encodeLine(into: &s.output)
            if let error = flushLocked(&s) {
                s.pending[id] = nil
                if s.closed == nil { s.closed = error }
                return (id, error)
            }
            return (id, nil)
        }
        if let error = sent.1, case .crashed = error { onViolation("\(error)") }
        return sent
    }

    /// Write what is queued; on EAGAIN wait for the pipe to drain (never block a thread on it).
    private func flushLocked(_ s: inout State) -> WorkerError? {
        if s.released { return s.closed ?? .stopped }
        while s.outputOffset < s.output.count {
            let n = s.output.withUnsafeBytes { buf in
                write(stdinFD, buf.baseAddress.map { $0 + s.outputOffset }, buf.count - s.outputOffset)
            }
            if n > 0 {
                s.outputOffset += n
                continue
            }
            if n < 0 && errno == EINTR { continue }
            if n < 0 && errno == EAGAIN {
                if !s.writeWatched {
                    s.writeWatched = true
                    Reactor.shared.modify(stdinToken, events: Reactor.writable)
                }
                return nil
            }
            return .crashed(exit: "its input pipe is closed (errno \(errno))")
        }
        s.output.removeAll(keepingCapacity: s.output.count < (1 << 20))
        s.outputOffset = 0
        return nil
    }

    // MARK: Reading

    /// What to hand to whom, decided under the lock and done after it.
    private enum Delivery {
        case value(CheckedContinuation<JSONValue, any Error>, JSONValue)
        case event(AsyncThrowingStream<WorkerEvent, any Error>.Continuation, WorkerEvent, final: Bool)
        case failure(Waiter, WorkerError)
    }

    /// Most lines decoded and delivered per turn of the reactor; the rest wait for the next turn
    /// (a flooding worker must not hold up other sandboxes' timers and exits).
    static let linesPerTurn = 64

    /// Read what the worker wrote (one chunk per turn). Returns false when the pipe is done.
    private func readAvailable() -> Bool {
        let buffer = Self.readBuffer
        let n = read(stdoutFD, buffer.baseAddress, buffer.count)
        if n < 0 && (errno == EAGAIN || errno == EINTR) { return true }
        if n <= 0 {
            processLines()
            return false
        }
        state.withLock { s in s.input.append(UnsafeRawBufferPointer(rebasing: buffer[0..<n])) }
        return processLines()
    }

    /// The reactor thread's read buffer, shared by every connection: reads happen on that thread
    /// only, one at a time, and the bytes are copied out before the next.
    private nonisolated(unsafe) static let readBuffer = UnsafeMutableRawBufferPointer.allocate(byteCount: 65536, alignment: 16)

    /// Decode and deliver up to `linesPerTurn` buffered lines; if more remain, continue on a later
    /// turn. Runs on the reactor thread. Returns false after a protocol violation.
    @discardableResult
    private func processLines() -> Bool {
        var deliveries: [Delivery] = []
        var violation: String?
        let more = state.withLock { s -> Bool in
            var count = 0
            while violation == nil, count < Self.linesPerTurn, let event = s.input.nextLine() {
                count += 1
                switch event {
                case let .oversize(size):
                    violation = "a line of more than \(s.input.maxLineBytes) bytes (\(size) so far)"
                case let .line(bytes):
                    if bytes.isEmpty { continue }
                    violation = route(bytes, &s, &deliveries)
                }
            }
            return violation == nil && count == Self.linesPerTurn
        }
        for d in deliveries { deliver(d) }
        if let violation {
            onViolation(violation)
            return false
        }
        if more { Reactor.shared.later { [weak self] in self?.processLines() } }
        return true
    }

    /// Match one line to its waiter. Returns a description of a protocol violation, if any.
    private func route(_ line: [UInt8], _ s: inout State, _ out: inout [Delivery]) -> String? {
        switch RPCMessage.decode(line) {
        case let .invalid(error, _):
            return "an invalid message (\(error.message)): \(Self.excerpt(line))"
        case let .message(.response(response)):
            guard case let .int(id)? = response.id, let waiter = s.pending.removeValue(forKey: id) else {
                return "a response with an unknown id \(response.id.map { "\($0)" } ?? "null")"
            }
            switch (waiter, response.outcome) {
            case let (.call(c), .success(value)):
                out.append(.value(c, value))
            case let (.stream(c), .success(value)):
                guard let result = ExecutionResult(json: value) else { return "a result without the result contract's fields" }
                out.append(.event(c, .result(result), final: true))
            case let (_, .failure(error)):
                out.append(.failure(waiter, .rpc(error)))
            }
            return nil
        case let .message(.request(request)):
            guard request.id == nil, request.method == OutputEvent.method, let event = OutputEvent(json: request.params) else {
                return "an unexpected request '\(request.method)' from the worker"
            }
            guard case let .int(id) = event.requestID, case let .stream(c)? = s.pending[id] else {
                return "output for an unknown request \(event.requestID)"
            }
            out.append(.event(c, .output(event), final: false))
            return nil
        }
    }

    private func deliver(_ d: Delivery) {
        switch d {
        case let .value(c, value): c.resume(returning: value)
        case let .event(c, event, final):
            c.yield(event)
            if final { c.finish() }
        case let .failure(.call(c), error): c.resume(throwing: error)
        case let .failure(.stream(c), error): c.finish(throwing: error)
        }
    }

    /// End the connection: every waiting request fails with `error`, later ones too.
    func close(with error: WorkerError) {
        let waiters = state.withLock { s -> [Waiter] in
            if s.closed == nil { s.closed = error }
            let w = Array(s.pending.values)
            s.pending.removeAll()
            return w
        }
        for w in waiters { deliver(.failure(w, error)) }
    }

    static func excerpt(_ line: [UInt8]) -> String {
        let text = String(decoding: line.prefix(120), as: UTF8.self)
        return line.count > 120 ? text + "..." : text
    }
}
