/// A JSON-RPC 2.0 request, or a notification when `id` is `nil`.
public struct RPCRequest: Sendable, Hashable {
    public var method: String
    /// Structured parameters: an `.array` or `.object` (or absent). Other
    /// kinds are encoded as given but rejected by `RPCMessage.decode`.
    public var params: JSONValue?
    /// `nil` makes this a notification (no response expected).
    public var id: RPCID?

    public init(method: String, params: JSONValue? = nil, id: RPCID?) {
        self.method = method
        self.params = params
        self.id = id
    }

    public static func notification(method: String, params: JSONValue? = nil) -> RPCRequest {
        RPCRequest(method: method, params: params, id: nil)
    }

    public var isNotification: Bool { id == nil }

    /// Appends `{"jsonrpc":"2.0","id":…,"method":…,"params":…}` and `\n`.
    /// `id` is omitted for notifications, `params` when absent.
    public func encodeLine(into buffer: inout [UInt8]) {
        JSONWriter.appendLiteral("{\"jsonrpc\":\"2.0\"", into: &buffer)
        if let id {
            JSONWriter.appendLiteral(",\"id\":", into: &buffer)
            id.write(into: &buffer)
        }
        JSONWriter.appendLiteral(",\"method\":", into: &buffer)
        JSONWriter.writeString(method, into: &buffer)
        if let params {
            JSONWriter.appendLiteral(",\"params\":", into: &buffer)
            JSONWriter.write(params, into: &buffer)
        }
        JSONWriter.appendLiteral("}\n", into: &buffer)
    }

    public func encodedLine() -> [UInt8] {
        var buffer: [UInt8] = []
        buffer.reserveCapacity(128)
        encodeLine(into: &buffer)
        return buffer
    }
}
