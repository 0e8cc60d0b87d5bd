/// Any JSON-RPC 2.0 message on the wire. Notifications are requests whose
/// `id` is `nil`.
public enum RPCMessage: Sendable, Hashable {
    case request(RPCRequest)
    case response(RPCResponse)

    /// Appends the message as one compact JSON object and `\n`.
    public func encodeLine(into buffer: inout [UInt8]) {
        switch self {
        case .request(let request): request.encodeLine(into: &buffer)
        case .response(let response): response.encodeLine(into: &buffer)
        }
    }

    public func encodedLine() -> [UInt8] {
        var buffer: [UInt8] = []
        buffer.reserveCapacity(128)
        encodeLine(into: &buffer)
        return buffer
    }
}
