import Testing
@testable import StockadeProtocol

@Suite struct RPCDecodeTests {
    func decode(_ s: String) -> RPCDecodeResult { RPCMessage.decode(s) }

    func expectInvalid(
        _ line: String, code: Int, id: RPCID?, fragment: String = "",
        sourceLocation: SourceLocation = #_sourceLocation
    ) {
        guard case .invalid(let error, let gotID) = decode(line) else {
            Issue.record("expected invalid for \(line)", sourceLocation: sourceLocation)
            return
        }
        #expect(error.code == code, "\(error)", sourceLocation: sourceLocation)
        #expect(gotID == id, sourceLocation: sourceLocation)
        #expect(error.message.contains(fragment), "\(error.message)", sourceLocation: sourceLocation)
    }

    @Test func requests() {
        #expect(decode(#"{"jsonrpc":"2.0","id":1,"method":"ping"}"#)
            == .message(.request(RPCRequest(method: "ping", id: .int(1)))))
        #expect(decode(#"{"jsonrpc":"2.0","id":"a-1","method":"run","params":{"x":1}}"#)
            == .message(.request(RPCRequest(method: "run", params: ["x": 1], id: "a-1"))))
        #expect(decode(#"{"method":"run","params":[1,2],"id":-5,"jsonrpc":"2.0"}"#)
            == .message(.request(RPCRequest(method: "run", params: [1, 2], id: -5))))
        #expect(decode(#"{"jsonrpc":"2.0","method":"run","params":{},"extra":true,"id":0}"#)
            == .message(.request(RPCRequest(method: "run", params: [:], id: 0))))
    }

    @Test func notifications() {
        guard case .message(.request(let r)) = decode(#"{"jsonrpc":"2.0","method":"cancel","params":{"id":"e1"}}"#)
        else {
            Issue.record("not a request")
            return
        }
        #expect(r.isNotification)
        #expect(r.id == nil)
        #expect(r.params?["id"] == "e1")
    }

    @Test func responses() {
        #expect(decode(#"{"jsonrpc":"2.0","id":3,"result":{"ok":true}}"#)
            == .message(.response(RPCResponse(id: 3, result: ["ok": true]))))
        #expect(decode(#"{"jsonrpc":"2.0","id":"x","result":null}"#)
            == .message(.response(RPCResponse(id: "x", result: nil))))
        #expect(decode(#"{"jsonrpc":"2.0","id":4,"error":{"code":-32601,"message":"nope","data":{"m":"x"}}}"#)
            == .message(.response(RPCResponse(id: 4, error: RPCError(code: -32601, message: "nope", data: ["m": "x"])))))
        #expect(decode(#"{"jsonrpc":"2.0","id":null,"error":{"code":-32700,"message":"Parse error"}}"#)
            == .message(.response(RPCResponse(id: nil, error: .parseError))))
    }

    @Test func trailingCRLFIsFine() {
        #expect(RPCMessage.decode(bytes("{\"jsonrpc\":\"2.0\",\"method\":\"m\"}\r\n"))
            == .message(.request(.notification(method: "m"))))
    }

    @Test func invalidJSONIsParseError() {
        expectInvalid("", code: -32700, id: nil, fragment: "unexpected end of input")
        expectInvalid(#"{"jsonrpc":"2.0","id":1,"method":"x""#, code: -32700, id: nil, fragment: "unterminated object")
        expectInvalid(#"{"jsonrpc":"2.0","id":1,"method":"x"} {}"#, code: -32700, id: nil)
        expectInvalid("{\"jsonrpc\":\"2.0\",\"method\":\"a\nb\"}", code: -32700, id: nil, fragment: "control character")
        #expect(decode("nope").errorResponse?.error?.code == -32700)
    }

    @Test func batchesAreRefused() {
        expectInvalid(#"[{"jsonrpc":"2.0","id":1,"method":"x"}]"#, code: -32600, id: nil,
                      fragment: "batch requests are not supported")
        expectInvalid("[]", code: -32600, id: nil, fragment: "batch")
    }

    @Test func nonObjects() {
        for s in ["42", #""x""#, "null", "true", "1.5"] {
            expectInvalid(s, code: -32600, id: nil, fragment: "JSON object")
        }
    }

    @Test func jsonrpcVersion() {
        expectInvalid(#"{"id":7,"method":"x"}"#, code: -32600, id: 7, fragment: "jsonrpc")
        expectInvalid(#"{"jsonrpc":"1.0","id":"q","method":"x"}"#, code: -32600, id: "q", fragment: "jsonrpc")
        expectInvalid(#"{"jsonrpc":2.0,"id":7,"method":"x"}"#, code: -32600, id: 7, fragment: "jsonrpc")
        expectInvalid(#"{"jsonrpc":"2.0 ","id":7,"method":"x"}"#, code: -32600, id: 7)
    }

    @Test func methodMustBeString() {
        expectInvalid(#"{"jsonrpc":"2.0","id":8,"method":1}"#, code: -32600, id: 8, fragment: "method")
        expectInvalid(#"{"jsonrpc":"2.0","id":8,"method":null}"#, code: -32600, id: 8, fragment: "method")
        expectInvalid(#"{"jsonrpc":"2.0","id":8,"method":["x"]}"#, code: -32600, id: 8)
    }

    @Test func idOfWrongType() {
        for id in ["1.5", "1.0", "true", "{}", "[1]", "1e3", "9223372036854775808"] {
            expectInvalid(#"{"jsonrpc":"2.0","id":\#(id),"method":"x"}"#, code: -32600, id: nil, fragment: "\"id\"")
        }
        expectInvalid(#"{"jsonrpc":"2.0","id":1.5,"result":1}"#, code: -32600, id: nil, fragment: "\"id\"")
    }

    @Test func requestWithNullIdIsRefused() {
        expectInvalid(#"{"jsonrpc":"2.0","id":null,"method":"x"}"#, code: -32600, id: nil, fragment: "null")
    }

    @Test func paramsMustBeStructured() {
        for p in ["1", #""s""#, "null", "true"] {
            expectInvalid(#"{"jsonrpc":"2.0","id":9,"method":"x","params":\#(p)}"#, code: -32600, id: 9, fragment: "params")
        }
        expectInvalid(#"{"jsonrpc":"2.0","method":"x","params":3}"#, code: -32600, id: nil, fragment: "params")
    }

    @Test func malformedResponses() {
        expectInvalid(#"{"jsonrpc":"2.0","id":1,"result":1,"error":{"code":1,"message":"m"}}"#,
                      code: -32600, id: 1, fragment: "both")
        expectInvalid(#"{"jsonrpc":"2.0","id":"r"}"#, code: -32600, id: "r", fragment: "neither")
        expectInvalid(#"{"jsonrpc":"2.0"}"#, code: -32600, id: nil, fragment: "neither")
        expectInvalid(#"{"jsonrpc":"2.0","result":1}"#, code: -32600, id: nil, fragment: "\"id\"")
        expectInvalid(#"{"jsonrpc":"2.0","id":null,"result":1}"#, code: -32600, id: nil, fragment: "non-null")
        expectInvalid(#"{"jsonrpc":"2.0","id":2,"error":"bad"}"#, code: -32600, id: 2, fragment: "error")
        expectInvalid(#"{"jsonrpc":"2.0","id":2,"error":{"code":"1","message":"m"}}"#, code: -32600, id: 2)
        expectInvalid(#"{"jsonrpc":"2.0","id":2,"error":{"code":1.5,"message":"m"}}"#, code: -32600, id: 2)
        expectInvalid(#"{"jsonrpc":"2.0","id":2,"error":{"code":1}}"#, code: -32600, id: 2)
        expectInvalid(#"{"jsonrpc":"2.0","id":2,"method":"m","result":1}"#, code: -32600, id: 2, fragment: "request")
    }

    @Test func errorResponseCarriesRecoveredId() {
        let r = decode(#"{"jsonrpc":"2.0","id":"abc","method":"x","params":7}"#)
        let response = r.errorResponse
        #expect(response?.id == "abc")
        #expect(response?.error?.code == RPCError.Code.invalidRequest)
        #expect(decode(#"{"jsonrpc":"2.0","id":1,"method":"x"}"#).errorResponse == nil)
        let line = String(decoding: response?.encodedLine() ?? [], as: UTF8.self)
        #expect(line.hasPrefix(#"{"jsonrpc":"2.0","id":"abc","error":{"code":-32600,"message":"#))
    }

    @Test func classifyParsedValue() {
        #expect(RPCMessage.classify(["jsonrpc": "2.0", "method": "m", "id": 1])
            == .message(.request(RPCRequest(method: "m", id: 1))))
    }
}
