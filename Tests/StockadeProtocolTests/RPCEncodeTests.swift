import Testing
@testable import StockadeProtocol

@Suite struct RPCEncodeTests {
    func text(_ b: [UInt8]) -> String { String(decoding: b, as: UTF8.self) }

    @Test func requestLines() {
        let r = RPCRequest(method: "execute", params: ["language": "python", "code": "print(1)\n"], id: 12)
        #expect(text(r.encodedLine()) == #"{"jsonrpc":"2.0","id":12,"method":"execute","params":{"language":"python","code":"print(1)\n"}}"# + "\n")
        let n = RPCRequest.notification(method: "log", params: ["a", 1])
        #expect(text(n.encodedLine()) == #"{"jsonrpc":"2.0","method":"log","params":["a",1]}"# + "\n")
        let bare = RPCRequest(method: "ping", id: "p\"1")
        #expect(text(bare.encodedLine()) == #"{"jsonrpc":"2.0","id":"p\"1","method":"ping"}"# + "\n")
    }

    @Test func responseLines() {
        #expect(text(RPCResponse(id: 12, result: ["exit": 0]).encodedLine())
            == #"{"jsonrpc":"2.0","id":12,"result":{"exit":0}}"# + "\n")
        #expect(text(RPCResponse(id: "s", result: nil).encodedLine())
            == #"{"jsonrpc":"2.0","id":"s","result":null}"# + "\n")
        #expect(text(RPCResponse(id: nil, error: .parseError("Parse error: bad")).encodedLine())
            == #"{"jsonrpc":"2.0","id":null,"error":{"code":-32700,"message":"Parse error: bad"}}"# + "\n")
        let withData = RPCResponse(id: 1, error: .executionFailed("boom", data: ["signal": 9]))
        #expect(text(withData.encodedLine())
            == #"{"jsonrpc":"2.0","id":1,"error":{"code":-32010,"message":"boom","data":{"signal":9}}}"# + "\n")
    }

    @Test func encodeLineAppends() {
        var buffer: [UInt8] = []
        RPCMessage.request(.notification(method: "a")).encodeLine(into: &buffer)
        RPCMessage.response(RPCResponse(id: 1, result: true)).encodeLine(into: &buffer)
        #expect(buffer.filter { $0 == 0x0A }.count == 2)
        #expect(buffer.last == 0x0A)
        let lines = buffer.split(separator: 0x0A)
        #expect(lines.count == 2)
        #expect(RPCMessage.decode(Array(lines[1])) == .message(.response(RPCResponse(id: 1, result: true))))
    }

    @Test func randomMessagesRoundTrip() {
        var gen = RandomJSON(rng: SplitMix64(seed: 2024))
        for i in 0..<1500 {
            let id: RPCID? = gen.rng.chance(20) ? nil : (gen.rng.chance(50) ? .int(gen.int()) : .string(gen.string()))
            let message: RPCMessage
            switch gen.rng.below(3) {
            case 0:
                let params: JSONValue? = gen.rng.chance(20) ? nil
                    : (gen.rng.chance(50) ? .array([gen.value(depth: 1)]) : .object(["p": gen.value(depth: 1)]))
                message = .request(RPCRequest(method: gen.string(), params: params, id: id))
            case 1 where id != nil:
                message = .response(RPCResponse(id: id, result: gen.value()))
            default:
                let data: JSONValue? = gen.rng.chance(50) ? gen.value() : nil
                message = .response(RPCResponse(id: id, error: RPCError(code: Int(gen.int()), message: gen.string(), data: data)))
            }
            let line = message.encodedLine()
            #expect(line.last == 0x0A)
            #expect(line.dropLast().allSatisfy { $0 >= 0x20 }, "iteration \(i)")
            #expect(line.prefix(16) == ArraySlice(bytes(#"{"jsonrpc":"2.0""#)))
            #expect(RPCMessage.decode(line) == .message(message), "iteration \(i)")
        }
    }

    @Test func errorCodes() {
        #expect(RPCError.parseError.code == -32700)
        #expect(RPCError.invalidRequest.code == -32600)
        #expect(RPCError.methodNotFound.code == -32601)
        #expect(RPCError.invalidParams.code == -32602)
        #expect(RPCError.internalError.code == -32603)
        #expect(RPCError.executionNotFound.code == -32001)
        #expect(RPCError.overloaded.code == -32002)
        #expect(RPCError.shuttingDown.code == -32003)
        #expect(RPCError.messageTooLarge.code == -32004)
        #expect(RPCError.executionFailed.code == -32010)
        let e = RPCError.invalidParams("language must be one of python, javascript, shell")
        #expect(e.code == RPCError.Code.invalidParams)
        #expect(e.message == "language must be one of python, javascript, shell")
        #expect(e.data == nil)
        #expect(RPCError.methodNotFound("x").code == -32601)
        #expect(RPCError.internalError("x").code == -32603)
        #expect(RPCError.executionNotFound("x").code == -32001)
        #expect(RPCError.overloaded("x").code == -32002)
        #expect(RPCError.shuttingDown("x").code == -32003)
        #expect(RPCError.messageTooLarge("x").code == -32004)
        #expect(RPCError.invalidRequest("x").code == -32600)
        #expect(RPCError.parseError("x").code == -32700)
        #expect(e.description == "RPC error -32602: language must be one of python, javascript, shell")
    }

    @Test func errorJSONForms() {
        let e = RPCError(code: 5, message: "m", data: [1])
        #expect(e.jsonValue == ["code": 5, "message": "m", "data": [1]])
        #expect(RPCError(e.jsonValue) == e)
        #expect(RPCError(["code": 5]) == nil)
        #expect(RPCError(["code": 5.0, "message": "m"]) == nil)
    }

    @Test func ids() {
        #expect(RPCID.int(5).description == "5")
        #expect(RPCID.string("5").description == "\"5\"")
        #expect(RPCID(.int(3)) == .int(3))
        #expect(RPCID(.string("a")) == "a")
        #expect(RPCID(.null) == nil)
        #expect(RPCID(.double(1)) == nil)
        #expect(RPCID.string("x").jsonValue == "x")
        let r = RPCResponse(id: 1, outcome: .failure(.overloaded))
        #expect(r.error == .overloaded)
        #expect(r.result == nil)
        #expect(RPCResponse(id: 1, result: 2).result == 2)
    }
}
