/// How an execution ended (isolate's status codes, named).
public enum ExecutionStatus: String, Sendable, Hashable, CaseIterable {
    case ok
    case runtimeError = "runtime_error"
    case signaled
    case timeout
    case memoryLimit = "memory_limit"
    case outputLimit = "output_limit"
    case cancelled
    case internalError = "internal_error"
}

/// An error raised by the user's code (handler mode or an uncaught exception).
public struct ExecutionError: Sendable, Hashable {
    public var type: String
    public var message: String
    public var traceback: String?

    public init(type: String, message: String, traceback: String? = nil) {
        self.type = type
        self.message = message
        self.traceback = traceback
    }

    public var jsonValue: JSONValue {
        var o: JSONObject = ["type": .string(type), "message": .string(message)]
        if let traceback { o["traceback"] = .string(traceback) }
        return .object(o)
    }

    public init?(json: JSONValue?) {
        guard let o = json?.objectValue else { return nil }
        type = o["type"]?.stringValue ?? "Error"
        message = o["message"]?.stringValue ?? ""
        traceback = o["traceback"]?.stringValue
    }
}

/// A file an execution left in the outputs directory.
public struct OutputFile: Sendable, Hashable {
    public var path: String
    public var size: Int64
    public init(path: String, size: Int64) {
        self.path = path
        self.size = size
    }
}

/// The result contract of one execution (DESIGN.md, "Results of an execution").
public struct ExecutionResult: Sendable, Hashable {
    public var executionID: String
    public var status: ExecutionStatus
    public var exitCode: Int32?
    public var signal: Int32?
    public var wallMs: Double
    public var cpuMs: Double
    public var peakMemoryBytes: Int64
    public var stdout: String
    public var stderr: String
    public var stdoutTruncated: Bool
    public var stderrTruncated: Bool
    /// The handler's return value (handler mode, status ok).
    public var returnValue: JSONValue?
    public var error: ExecutionError?
    public var files: [OutputFile]
    /// Why the status is what it is, when that is not obvious ("killed at the 2000 ms wall limit").
    public var message: String?

    public init(executionID: String, status: ExecutionStatus, exitCode: Int32? = nil, signal: Int32? = nil,
                wallMs: Double = 0, cpuMs: Double = 0, peakMemoryBytes: Int64 = 0, stdout: String = "", stderr: String = "",
                stdoutTruncated: Bool = false, stderrTruncated: Bool = false, returnValue: JSONValue? = nil,
                error: ExecutionError? = nil, files: [OutputFile] = [], message: String? = nil) {
        self.executionID = executionID
        self.status = status
        self.exitCode = exitCode
        self.signal = signal
        self.wallMs = wallMs
        self.cpuMs = cpuMs
        self.peakMemoryBytes = peakMemoryBytes
        self.stdout = stdout
        self.stderr = stderr
        self.stdoutTruncated = stdoutTruncated
        self.stderrTruncated = stderrTruncated
        self.returnValue = returnValue
        self.error = error
        self.files = files
        self.message = message
    }

    public var jsonValue: JSONValue {
        var o = JSONObject()
        o["execution_id"] = .string(executionID)
        o["status"] = .string(status.rawValue)
        o["exit_code"] = exitCode.map { .int(Int64($0)) } ?? .null
        o["signal"] = signal.map { .int(Int64($0)) } ?? .null
        o["wall_ms"] = .double(Self.round3(wallMs))
        o["cpu_ms"] = .double(Self.round3(cpuMs))
        o["peak_memory_bytes"] = .int(peakMemoryBytes)
        o["stdout"] = .string(stdout)
        o["stderr"] = .string(stderr)
        o["stdout_truncated"] = .bool(stdoutTruncated)
        o["stderr_truncated"] = .bool(stderrTruncated)
        if let returnValue { o["return_value"] = returnValue }
        if let error { o["error"] = error.jsonValue }
        o["files"] = .array(files.map { .object(["path": .string($0.path), "size": .int($0.size)]) })
        if let message { o["message"] = .string(message) }
        return .object(o)
    }

    /// Decode a result a worker sent. Nil when a required field is missing or of the wrong type.
    public init?(json: JSONValue?) {
        guard let o = json?.objectValue,
              let id = o["execution_id"]?.stringValue,
              let s = o["status"]?.stringValue, let status = ExecutionStatus(rawValue: s) else { return nil }
        executionID = id
        self.status = status
        exitCode = o["exit_code"]?.intValue.map { Int32(truncatingIfNeeded: $0) }
        signal = o["signal"]?.intValue.map { Int32(truncatingIfNeeded: $0) }
        wallMs = o["wall_ms"]?.doubleValue ?? 0
        cpuMs = o["cpu_ms"]?.doubleValue ?? 0
        peakMemoryBytes = o["peak_memory_bytes"]?.intValue ?? 0
        stdout = o["stdout"]?.stringValue ?? ""
        stderr = o["stderr"]?.stringValue ?? ""
        stdoutTruncated = o["stdout_truncated"]?.boolValue ?? false
        stderrTruncated = o["stderr_truncated"]?.boolValue ?? false
        returnValue = o["return_value"]
        error = ExecutionError(json: o["error"])
        files = (o["files"]?.arrayValue ?? []).compactMap { f in
            guard let p = f["path"]?.stringValue, let size = f["size"]?.intValue else { return nil }
            return OutputFile(path: p, size: size)
        }
        message = o["message"]?.stringValue
    }

    static func round3(_ v: Double) -> Double { (v * 1000).rounded() / 1000 }
}

/// A chunk of output sent while an execution streams: the `event` notification's params.
public struct OutputEvent: Sendable, Hashable {
    public enum Stream: String, Sendable { case stdout, stderr }
    public var requestID: RPCID
    public var executionID: String
    public var stream: Stream
    public var data: String

    public init(requestID: RPCID, executionID: String, stream: Stream, data: String) {
        self.requestID = requestID
        self.executionID = executionID
        self.stream = stream
        self.data = data
    }

    public static let method = "event"

    public var jsonValue: JSONValue {
        .object(["request_id": requestID.jsonValue, "execution_id": .string(executionID),
                 "type": .string(stream.rawValue), "data": .string(data)])
    }

    public init?(json: JSONValue?) {
        guard let o = json?.objectValue, let rid = o["request_id"].flatMap(RPCID.init),
              let eid = o["execution_id"]?.stringValue, let t = o["type"]?.stringValue,
              let stream = Stream(rawValue: t), let data = o["data"]?.stringValue else { return nil }
        self.init(requestID: rid, executionID: eid, stream: stream, data: data)
    }
}

/// The method names the worker serves.
public enum WorkerMethod {
    public static let execute = "execute"
    public static let cancel = "cancel"
    public static let ping = "ping"
    public static let stats = "stats"
    public static let shutdown = "shutdown"
}
