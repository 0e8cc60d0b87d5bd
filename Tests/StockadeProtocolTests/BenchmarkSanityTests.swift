import Testing
@testable import StockadeProtocol

/// Exercises the hot path the way the worker does (decode a request line,
/// encode a response into a reused buffer). No timing assertions: speed is
/// measured elsewhere; this only reports a rough number.
@Suite struct BenchmarkSanityTests {
    static let request = Array(
        #"{"jsonrpc":"2.0","id":1234,"method":"execute","params":{"language":"python","code":"print('hello, world')\n","timeout_ms":5000,"env":{"LANG":"C.UTF-8"},"stdin":"","args":["-u","-B"]}}"#
            .utf8)

    @Test func decodeEncodeLoop() {
        #expect(Self.request.count > 150 && Self.request.count < 260)
        var out: [UInt8] = []
        out.reserveCapacity(512)
        let iterations = 5_000
        let clock = ContinuousClock()
        var checksum = 0
        let elapsed = clock.measure {
            for _ in 0..<iterations {
                guard case .message(.request(let r)) = RPCMessage.decode(Self.request) else { return }
                out.removeAll(keepingCapacity: true)
                RPCResponse(id: r.id, result: r.params ?? .null).encodeLine(into: &out)
                checksum &+= out.count
            }
        }
        #expect(checksum == iterations * out.count)
        let perOp = elapsed / iterations
        print("StockadeProtocol: decode+encode of a \(Self.request.count)-byte request: \(perOp) per iteration (debug builds are much slower)")
    }
}
