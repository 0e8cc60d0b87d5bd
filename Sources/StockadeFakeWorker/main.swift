import Glibc
import StockadeProtocol

// stockade-fake-worker: a deliberately hostile worker for the host's tests. It answers the first
// ping like a real worker (so startup succeeds, except in `silent` mode) and then misbehaves in the
// way `--mode` names: garbage, hugeline, wrongid, exitmid, flood, unknownevent, silent, stall,
// closein (closes its stdin after the ping and stays alive).

var mode = "garbage"
let args = CommandLine.arguments
if let i = args.firstIndex(of: "--mode"), i + 1 < args.count { mode = args[i + 1] }

func out(_ text: String) {
    var s = text
    s.withUTF8 { buf in
        var off = 0
        while off < buf.count {
            let n = write(1, buf.baseAddress.map { $0 + off }, buf.count - off)
            if n <= 0 { exit(0) }
            off += n
        }
    }
}

var buffer = LineBuffer(maxLineBytes: 1 << 24)
var pings = 0
var chunk = [UInt8](repeating: 0, count: 65536)
while true {
    let n = chunk.withUnsafeMutableBytes { read(0, $0.baseAddress, $0.count) }
    if n <= 0 { exit(0) }
    chunk.withUnsafeBytes { buffer.append(UnsafeRawBufferPointer(rebasing: $0[0..<n])) }
    while case let .line(line)? = buffer.nextLine() {
        guard case let .message(.request(req)) = RPCMessage.decode(line), let id = req.id else { continue }
        if req.method == "ping" && pings == 0 {
            pings += 1
            if mode == "silent" { continue }
            // closein: alive, but nothing reads the host's next request (closed before the pong, so
            // every later write of the host meets a pipe without a reader).
            if mode == "closein" { close(0) }
            out(String(decoding: RPCResponse(id: id, result: .object(["pong": true])).encodedLine(), as: UTF8.self))
            if mode == "closein" {
                while true { pause() }
            }
            continue
        }
        switch mode {
        case "garbage": out("this is not json at all\n")
        case "hugeline": out(String(repeating: "x", count: 4 << 20))
        case "wrongid": out(String(decoding: RPCResponse(id: .int(999_999), result: .object([:])).encodedLine(), as: UTF8.self))
        case "exitmid": exit(3)
        case "flood":
            // Many valid output events, then a valid result: the host must keep up without blocking.
            for i in 0..<20_000 {
                let e = OutputEvent(requestID: id, executionID: "flood", stream: .stdout, data: "line \(i)\n")
                out(String(decoding: RPCRequest(method: OutputEvent.method, params: e.jsonValue, id: nil).encodedLine(), as: UTF8.self))
            }
            let r = ExecutionResult(executionID: "flood", status: .ok, exitCode: 0)
            out(String(decoding: RPCResponse(id: id, result: r.jsonValue).encodedLine(), as: UTF8.self))
        case "unknownevent":
            let e = OutputEvent(requestID: .int(424_242), executionID: "x", stream: .stdout, data: "boo")
            out(String(decoding: RPCRequest(method: OutputEvent.method, params: e.jsonValue, id: nil).encodedLine(), as: UTF8.self))
        case "stall", "silent": continue
        default: exit(2)
        }
    }
}
