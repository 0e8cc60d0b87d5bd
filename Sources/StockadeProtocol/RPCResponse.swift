/// A JSON-RPC 2.0 response: a result or an error for request `id`.
///
/// `id` is `nil` only for error responses to requests whose id could not be
/// determined (encoded as `"id":null`).
public struct RPCResponse: Sendable, Hashable {
    public var id: RPCID?
    public var outcome: Result<JSONValue, RPCError>

    public init(id: RPCID?, outcome: Result<JSONValue, RPCError>) {
        self.id = id
        self.outcome = outcome
    }

    public init(id: RPCID?, result: JSONValue) {
        self.init(id: id, outcome: .success(result))
    }

    public init(id: RPCID?, error: RPCError) {
        self.init(id: id, outcome: .failure(error))
    }

    public var result: JSONValue? {
        if case .success(let value) = outcome { return value }
        return nil
    }

    public var error: RPCError? {
        if case .failure(let error) = outcome { return error }
        return nil
    }

    /// Appends `{"jsonrpc":"2.0","id":…,"result"|"error":…}` and `\n`.
    public func encodeLine(into buffer: inout [UInt8]) {
        JSONWriter.appendLiteral("{\"jsonrpc\":\"2.0\",\"id\":", into: &buffer)
        if let id {
            id.write(into: &buffer)
        } else {
            JSONWriter.appendLiteral("null", into: &buffer)
        }
        switch outcome {
        case .success(let value):
            JSONWriter.appendLiteral(",\"result\":", into: &buffer)
            JSONWriter.write(value, into: &buffer)
        case .failure(let error):
            JSONWriter.appendLiteral(",\"error\":", into: &buffer)
            error.write(into: &buffer)
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
