import Testing
@testable import StockadeProtocol

@Suite struct JSONFuzzTests {
    @Test func randomValuesRoundTripExactly() throws {
        var gen = RandomJSON(rng: SplitMix64(seed: 1))
        var buffer: [UInt8] = []
        for i in 0..<3000 {
            let value = gen.value()
            buffer.removeAll(keepingCapacity: true)
            JSONWriter.write(value, into: &buffer)
            let parsed: JSONValue
            do {
                parsed = try JSONParser.parse(buffer)
            } catch {
                Issue.record("iteration \(i): \(error) in \(String(decoding: buffer, as: UTF8.self))")
                continue
            }
            #expect(identical(parsed, value), "iteration \(i)")
            #expect(parsed == value)
            #expect(JSONWriter.encode(parsed) == buffer)
        }
    }

    @Test func randomDoublesRoundTripBitExact() throws {
        var rng = SplitMix64(seed: 7)
        for _ in 0..<5000 {
            let d = Double(bitPattern: rng.next())
            guard d.isFinite else { continue }
            let back = try JSONParser.parse(JSONWriter.encode(.double(d)))
            #expect(back.doubleValue?.bitPattern == d.bitPattern, "\(d)")
        }
    }

    @Test func randomIntsRoundTrip() throws {
        var rng = SplitMix64(seed: 8)
        for _ in 0..<5000 {
            let i = Int64(truncatingIfNeeded: rng.next()) >> rng.below(63)
            #expect(try JSONParser.parse(JSONWriter.encode(.int(i))) == .int(i))
        }
    }

    static let seeds: [String] = [
        #"{"jsonrpc":"2.0","id":17,"method":"execute","params":{"language":"python","code":"print('hi')\n","timeout_ms":5000,"env":{"A":"1"},"args":["-u"]}}"#,
        #"{"jsonrpc":"2.0","id":"abc","result":{"stdout":"h\u00e9llo \ud83d\ude00","exit":0,"time":1.25e-3}}"#,
        #"{"jsonrpc":"2.0","id":null,"error":{"code":-32700,"message":"Parse error","data":[1,2.5,true,false,null]}}"#,
        #"[1,-0,0.5,1e10,-9223372036854775808,"\"\\\/\b\f\n\r\t",{},[],{"a":{"b":{"c":[]}}}]"#,
    ]

    static let tokens: [[UInt8]] = [
        "{", "}", "[", "]", ",", ":", "\"", "\\", "\\u", "\\uD800", "\\uDC00", "0", "-", "e", ".",
        "1e400", "null", "true", " ", "\n",
    ].map { Array($0.utf8) } + [[0xFF], [0xC3], [0xED, 0xA0, 0x80], [0xF0, 0x9F], [0x00]]

    /// Random byte mutations must only ever produce a value or an error, and
    /// anything accepted must survive a write/parse round trip.
    @Test func mutationsNeverCrash() throws {
        var rng = SplitMix64(seed: 99)
        var gen = RandomJSON(rng: SplitMix64(seed: 100))
        var corpus = Self.seeds.map { Array($0.utf8) }
        for _ in 0..<20 { corpus.append(JSONWriter.encode(gen.value())) }
        var accepted = 0
        var rejected = 0
        for _ in 0..<20000 {
            var input = corpus[rng.below(corpus.count)]
            for _ in 0..<(1 + rng.below(4)) { mutate(&input, &rng) }
            switch parseResult(input) {
            case .success(let value):
                accepted += 1
                let again = try JSONParser.parse(JSONWriter.encode(value))
                #expect(identical(again, value))
            case .failure(let error):
                rejected += 1
                #expect(error.offset >= 0 && error.offset <= input.count)
                #expect(!error.message.isEmpty)
            }
            // The RPC layer must classify anything without trapping.
            switch RPCMessage.decode(input) {
            case .message(let m):
                #expect(RPCMessage.decode(m.encodedLine()) == .message(m))
            case .invalid(let error, _):
                #expect(error.code == -32700 || error.code == -32600)
            }
        }
        #expect(accepted > 100)
        #expect(rejected > 100)
    }

    func mutate(_ input: inout [UInt8], _ rng: inout SplitMix64) {
        let n = input.count
        switch rng.below(7) {
        case 0 where n > 0:
            input[rng.below(n)] = UInt8(truncatingIfNeeded: rng.next())
        case 1 where n > 0:
            input[rng.below(n)] ^= UInt8(1) << UInt8(rng.below(8))
        case 2:
            input.insert(UInt8(truncatingIfNeeded: rng.next()), at: rng.below(n + 1))
        case 3 where n > 0:
            input.remove(at: rng.below(n))
        case 4 where n > 0:
            input.removeSubrange(rng.below(n)...)
        case 5 where n > 1:
            let a = rng.below(n)
            let b = min(n, a + 1 + rng.below(16))
            input.insert(contentsOf: input[a..<b], at: rng.below(n + 1))
        default:
            input.insert(contentsOf: Self.tokens[rng.below(Self.tokens.count)], at: rng.below(n + 1))
        }
    }

    @Test func randomGarbageNeverCrashes() {
        var rng = SplitMix64(seed: 5)
        let alphabet = Array(#"{}[],:"\ 0123456789-+.eEtrufalsn"#.utf8) + [0x80, 0xC3, 0xE2, 0xF0, 0xFF, 0x0A]
        for _ in 0..<10000 {
            var input: [UInt8] = []
            for _ in 0..<rng.below(40) { input.append(alphabet[rng.below(alphabet.count)]) }
            if case .success(let v) = parseResult(input) {
                #expect(parseResult(JSONWriter.encode(v)) == .success(v))
            }
        }
    }
}
