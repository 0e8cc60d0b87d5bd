/// The outcome of classifying one incoming line.
public enum RPCDecodeResult: Sendable, Hashable {
    /// A well-formed request, notification or response.
    case message(RPCMessage)
    /// Not a valid message. `error` is what to answer with (-32700 for
    /// invalid JSON, -32600 for valid JSON that is not a JSON-RPC 2.0
    /// message); `id` is the request id when it could be recovered, else
    /// `nil` (answer with `"id":null`).
    ///
    /// JSON-RPC says never to answer a response; a caller that cares can
    /// check whether the line had a `method` before replying.
    case invalid(RPCError, id: RPCID?)

    /// The response to send back for `.invalid`; `nil` for `.message`.
    public var errorResponse: RPCResponse? {
        if case .invalid(let error, let id) = self { return RPCResponse(id: id, error: error) }
        return nil
    }
}

extension RPCMessage {
    /// Parses and classifies one line (surrounding whitespace, including a
    /// trailing `\r\n`, is allowed). Never throws.
    ///
    /// Decisions beyond the letter of JSON-RPC 2.0:
    /// - Batches (top-level arrays) are refused: -32600.
    /// - A request with `"id":null` is refused (-32600): `RPCRequest` uses a
    ///   nil id to mean "notification", so it cannot be represented.
    /// - A success response must have a non-null id.
    /// - An object with `method` and also `result`/`error` is refused.
    /// - Unknown extra members are ignored.
    public static func decode(_ line: UnsafeRawBufferPointer, limits: JSONLimits = .default) -> RPCDecodeResult {
        let value: JSONValue
        do {
            value = try JSONParser.parse(line, limits: limits)
        } catch {
            return .invalid(.parseError("Parse error: \(error)"), id: nil)
        }
        return classify(value)
    }

    public static func decode(_ line: [UInt8], limits: JSONLimits = .default) -> RPCDecodeResult {
        line.withUnsafeBytes { decode($0, limits: limits) }
    }

    public static func decode(_ line: ArraySlice<UInt8>, limits: JSONLimits = .default) -> RPCDecodeResult {
        line.withUnsafeBytes { decode($0, limits: limits) }
    }

    public static func decode(_ line: String, limits: JSONLimits = .default) -> RPCDecodeResult {
        var line = line
        return line.withUTF8 { decode(UnsafeRawBufferPointer($0), limits: limits) }
    }

    /// Classifies an already-parsed JSON value.
    public static func classify(_ value: JSONValue) -> RPCDecodeResult {
        let object: JSONObject
        switch value {
        case .object(let o):
            object = o
        case .array:
            return .invalid(.invalidRequest("batch requests are not supported"), id: nil)
        default:
            return .invalid(.invalidRequest("message must be a JSON object"), id: nil)
        }

        // Recover the id first so later errors can carry it.
        let idMember = object["id"]
        var id: RPCID?
        switch idMember {
        case nil, .null?:
            id = nil
        case .string(let s)?:
            id = .string(s)
        case .int(let i)?:
            id = .int(i)
        default:
            return .invalid(.invalidRequest("\"id\" must be a string, an integer or null"), id: nil)
        }

        guard case .string("2.0")? = object["jsonrpc"] else {
            return .invalid(.invalidRequest("\"jsonrpc\" must be \"2.0\""), id: id)
        }

        let result = object["result"]
        let error = object["error"]

        if let method = object["method"] {
            guard case .string(let name) = method else {
                return .invalid(.invalidRequest("\"method\" must be a string"), id: id)
            }
            if result != nil || error != nil {
                return .invalid(.invalidRequest("a request must not contain \"result\" or \"error\""), id: id)
            }
            if case .null? = idMember {
                return .invalid(.invalidRequest("request \"id\" must not be null"), id: nil)
            }
            let params = object["params"]
            switch params {
            case nil, .array?, .object?:
                break
            default:
                return .invalid(.invalidRequest("\"params\" must be an object or an array"), id: id)
            }
            return .message(.request(RPCRequest(method: name, params: params, id: id)))
        }

        // No method: must be a response.
        guard idMember != nil else {
            if result == nil && error == nil {
                return .invalid(.invalidRequest("message has neither \"method\" nor \"result\"/\"error\""), id: nil)
            }
            return .invalid(.invalidRequest("response must have an \"id\""), id: nil)
        }
        switch (result, error) {
        case (let value?, nil):
            guard id != nil else {
                return .invalid(.invalidRequest("success response must have a non-null \"id\""), id: nil)
            }
            return .message(.response(RPCResponse(id: id, result: value)))
        case (nil, let errorValue?):
            guard let rpcError = RPCError(errorValue) else {
                return .invalid(
                    .invalidRequest("\"error\" must be an object with integer \"code\" and string \"message\""),
                    id: id)
            }
            return .message(.response(RPCResponse(id: id, error: rpcError)))
        case (nil, nil):
            return .invalid(.invalidRequest("message has neither \"method\" nor \"result\"/\"error\""), id: id)
        case (.some, .some):
            return .invalid(.invalidRequest("response must not contain both \"result\" and \"error\""), id: id)
        }
    }
}
