import Testing
@testable import StockadeProtocol

@Suite struct JSONWriterTests {
    @Test func compactOutputInInsertionOrder() {
        let v: JSONValue = ["z": [1, 2.5, "x", nil, true, false], "a": [:], "m": []]
        #expect(JSONWriter.string(v) == #"{"z":[1,2.5,"x",null,true,false],"a":{},"m":[]}"#)
        #expect(v.description == JSONWriter.string(v))
    }

    @Test func stringEscapes() {
        let s = "\"\\/\n\r\t\u{8}\u{C}\u{0}\u{1}\u{1F}\u{7F}"
        #expect(JSONWriter.string(.string(s)) == #""\"\\/\n\r\t\b\f\u0000\u0001\u001f"# + "\u{7F}\"")
        #expect(JSONWriter.string("plain") == "\"plain\"")
        #expect(JSONWriter.string("") == "\"\"")
    }

    @Test func everyControlCharacterIsEscaped() throws {
        for c in UInt8(0)..<0x20 {
            let s = String(decoding: [c], as: UTF8.self)
            let out = JSONWriter.encode(.string(s))
            #expect(!out.dropFirst().dropLast().contains { $0 < 0x20 })
            #expect(try JSONParser.parse(out) == .string(s))
        }
    }

    @Test func writeStringForHandComposedMessages() {
        var buffer = bytes("{\"k\":")
        JSONWriter.writeString("a\nb", into: &buffer)
        buffer.append(0x7D)
        #expect(String(decoding: buffer, as: UTF8.self) == #"{"k":"a\nb"}"#)
    }

    @Test func writeAppendsToExistingBuffer() {
        var buffer = bytes("prefix ")
        JSONWriter.write([1, "two"], into: &buffer)
        JSONWriter.write(nil, into: &buffer)
        #expect(String(decoding: buffer, as: UTF8.self) == #"prefix [1,"two"]null"#)
    }

    @Test func nonSmallAndNonContiguousStrings() throws {
        let long = String(repeating: "abc\u{2028}é\n", count: 1000)
        let out = JSONWriter.encode(.string(long))
        #expect(!out.contains(0x0A))
        #expect(try JSONParser.parse(out) == .string(long))
        // A bridged-like substring turned into String.
        let sub = String(long.dropFirst(3).prefix(50))
        #expect(try JSONParser.parse(JSONWriter.encode(.string(sub))) == .string(sub))
    }

    @Test func noRawNewlinesEverRandomized() {
        var gen = RandomJSON(rng: SplitMix64(seed: 0xC0FFEE))
        for _ in 0..<2000 {
            let out = JSONWriter.encode(gen.value())
            #expect(!out.contains { $0 < 0x20 })
            // No raw U+2028 / U+2029 either.
            var i = 0
            while i + 2 < out.count {
                if out[i] == 0xE2 && out[i + 1] == 0x80 { #expect(out[i + 2] != 0xA8 && out[i + 2] != 0xA9) }
                i += 1
            }
        }
    }
}
