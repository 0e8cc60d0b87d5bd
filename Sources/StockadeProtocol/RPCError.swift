/// A JSON-RPC 2.0 error object; also usable as a Swift error.
public struct RPCError: Error, Sendable, Hashable, CustomStringConvertible {
    public var code: Int
    public var message: String
    public var data: JSONValue?

    public init(code: Int, message: String, data: JSONValue? = nil) {
        self.code = code
        self.message = message
        self.data = data
    }

    public var description: String {
        if let data { return "RPC error \(code): \(message) \(data)" }
        return "RPC error \(code): \(message)"
    }

    /// Error codes: the JSON-RPC 2.0 reserved ones and Stockade's own
    /// (-32001 ... -32099, the implementation-defined server range).
    public enum Code: Sendable {
        public static let parseError = -32700
        public static let invalidRequest = -32600
        public static let methodNotFound = -32601
        public static let invalidParams = -32602
        public static let internalError = -32603

        public static let executionNotFound = -32001
        public static let overloaded = -32002
        public static let shuttingDown = -32003
        public static let messageTooLarge = -32004
        public static let executionFailed = -32010
    }
}

// Constants with the standard message, and factories taking a specific one.
extension RPCError {
    public static let parseError = RPCError(code: Code.parseError, message: "Parse error")
    public static let invalidRequest = RPCError(code: Code.invalidRequest, message: "Invalid Request")
    public static let methodNotFound = RPCError(code: Code.methodNotFound, message: "Method not found")
    public static let invalidParams = RPCError(code: Code.invalidParams, message: "Invalid params")
    public static let internalError = RPCError(code: Code.internalError, message: "Internal error")
    public static let executionNotFound = RPCError(code: Code.executionNotFound, message: "Execution not found")
    public static let overloaded = RPCError(code: Code.overloaded, message: "Overloaded")
    public static let shuttingDown = RPCError(code: Code.shuttingDown, message: "Shutting down")
    public static let messageTooLarge = RPCError(code: Code.messageTooLarge, message: "Message too large")
    public static let executionFailed = RPCError(code: Code.executionFailed, message: "Execution failed")

    public static func parseError(_ message: String, data: JSONValue? = nil) -> RPCError {
        RPCError(code: Code.parseError, message: message, data: data)
    }
    public static func invalidRequest(_ message: String, data: JSONValue? = nil) -> RPCError {
        RPCError(code: Code.invalidRequest, message: message, data: data)
    }
    public static func methodNotFound(_ message: String, data: JSONValue? = nil) -> RPCError {
        RPCError(code: Code.methodNotFound, message: message, data: data)
    }
    public static func invalidParams(_ message: String, data: JSONValue? = nil) -> RPCError {
        RPCError(code: Code.invalidParams, message: message, data: data)
    }
    public static func internalError(_ message: String, data: JSONValue? = nil) -> RPCError {
        RPCError(code: Code.internalError, message: message, data: data)
    }
    public static func executionNotFound(_ message: String, data: JSONValue? = nil) -> RPCError {
        RPCError(code: Code.executionNotFound, message: message, data: data)
    }
    public static func overloaded(_ message: String, data: JSONValue? = nil) -> RPCError {
        RPCError(code: Code.overloaded, message: message, data: data)
    }
    public static func shuttingDown(_ message: String, data: JSONValue? = nil) -> RPCError {
        RPCError(code: Code.shuttingDown, message: message, data: data)
    }
    public static func messageTooLarge(_ message: String, data: JSONValue? = nil) -> RPCError {
        RPCError(code: Code.messageTooLarge, message: message, data: data)
    }
    public static func executionFailed(_ message: String, data: JSONValue? = nil) -> RPCError {
        RPCError(code: Code.executionFailed, message: message, data: data)
    }
}

extension RPCError {
    /// The JSON-RPC error object `{"code":…,"message":…[,"data":…]}`.
    public var jsonValue: JSONValue {
        var object = JSONObject()
        object["code"] = .int(Int64(code))
        object["message"] = .string(message)
        if let data { object["data"] = data }
        return .object(object)
    }

    /// Reads an error object; `nil` unless `code` is an integer and
    /// `message` a string.
    public init?(_ json: JSONValue) {
        guard case .object(let object) = json,
              case .int(let code)? = object["code"],
              case .string(let message)? = object["message"],
              let code = Int(exactly: code)
        else { return nil }
        self.init(code: code, message: message, data: object["data"])
    }

    public func write(into buffer: inout [UInt8]) {
        JSONWriter.appendLiteral("{\"code\":", into: &buffer)
        JSONWriter.writeInt(Int64(code), into: &buffer)
        JSONWriter.appendLiteral(",\"message\":", into: &buffer)
        JSONWriter.writeString(message, into: &buffer)
        if let data {
            JSONWriter.appendLiteral(",\"data\":", into: &buffer)
            JSONWriter.write(data, into: &buffer)
        }
        buffer.append(ASCII.closeBrace)
    }
}
