import Testing
@testable import StockadeProtocol

@Suite struct JSONUnicodeTests {
    @Test func rawMultiByteText() throws {
        let samples = ["héllo", "ß€中", "😀", "a\u{10FFFF}b", "\u{FEFF}", "\u{7FF}\u{800}\u{FFFF}\u{10000}"]
        for s in samples {
            let input = [0x22] + Array(s.utf8) + [0x22]
            #expect(try JSONParser.parse(input) == .string(s))
        }
    }

    @Test func escapes() throws {
        #expect(try JSONParser.parse(#""\"\\\/\b\f\n\r\t""#) == .string("\"\\/\u{8}\u{C}\n\r\t"))
        #expect(try JSONParser.parse(#""\u00e9\u00E9""#) == .string("éé"))
        #expect(try JSONParser.parse(#""\u0000""#) == .string("\u{0}"))
        #expect(try JSONParser.parse(#""\u20AC\u4e2d""#) == .string("€中"))
        #expect(try JSONParser.parse(#""\uFFFF""#) == .string("\u{FFFF}"))
        #expect(try JSONParser.parse(#""a\u0041b""#) == .string("aAb"))
    }

    @Test func surrogatePairs() throws {
        #expect(try JSONParser.parse(#""\uD83D\uDE00""#) == .string("😀"))
        #expect(try JSONParser.parse(#""\ud83d\ude00!""#) == .string("😀!"))
        #expect(try JSONParser.parse(#""\uD800\uDC00""#) == .string("\u{10000}"))
        #expect(try JSONParser.parse(#""\uDBFF\uDFFF""#) == .string("\u{10FFFF}"))
        // Mixed raw and escaped.
        let mixed = [0x22] + Array("😀".utf8) + Array(#"\uD83D\uDE00"#.utf8) + [0x22]
        #expect(try JSONParser.parse(mixed) == .string("😀😀"))
    }

    @Test func loneSurrogatesRejected() {
        for text in [#""\uD83D""#, #""\uDE00""#, #""\uDE00\uD83D""#, #""\uD83Dx""#, #""\uD83D\u0020""#] {
            #expect(parseError(text)?.message.contains("lone surrogate") == true, "\(text)")
        }
    }

    struct BadUTF8: CustomStringConvertible, Sendable {
        let body: [UInt8]
        let offset: Int  // offset of the problem in the full input (body starts at 1)
        var description: String { body.map { String($0, radix: 16) }.joined(separator: " ") }
    }

    static let badUTF8: [BadUTF8] = [
        .init(body: [0xFF], offset: 1),
        .init(body: [0xFE], offset: 1),
        .init(body: [0x80], offset: 1),  // lone continuation
        .init(body: [0xBF], offset: 1),
        .init(body: [0xC0, 0xAF], offset: 1),  // overlong '/'
        .init(body: [0xC1, 0xBF], offset: 1),  // overlong
        .init(body: [0xE0, 0x80, 0xAF], offset: 2),  // overlong 3-byte
        .init(body: [0xE0, 0x9F, 0xBF], offset: 2),  // overlong 3-byte
        .init(body: [0xF0, 0x80, 0x80, 0xAF], offset: 2),  // overlong 4-byte
        .init(body: [0xF0, 0x8F, 0xBF, 0xBF], offset: 2),  // overlong 4-byte
        .init(body: [0xED, 0xA0, 0x80], offset: 1),  // encoded U+D800
        .init(body: [0xED, 0xBF, 0xBF], offset: 1),  // encoded U+DFFF
        .init(body: [0xF4, 0x90, 0x80, 0x80], offset: 2),  // U+110000
        .init(body: [0xF5, 0x80, 0x80, 0x80], offset: 1),
        .init(body: [0xC3], offset: 2),  // truncated by the closing quote
        .init(body: [0xE2, 0x82], offset: 3),  // truncated
        .init(body: [0xF0, 0x9F, 0x98], offset: 4),  // truncated
        .init(body: [0xC3, 0x41], offset: 2),  // bad continuation
        .init(body: [0xE2, 0x28, 0xA1], offset: 2),
        .init(body: [0xE2, 0x82, 0x28], offset: 3),
        .init(body: [0x61, 0xF0, 0x9F, 0x98, 0xC0], offset: 5),
    ]

    @Test(arguments: badUTF8)
    func invalidUTF8Rejected(_ c: BadUTF8) {
        let input = [0x22] + c.body + [0x22]
        let e = parseError(input)
        #expect(e?.offset == c.offset, "\(String(describing: e))")
        #expect(e?.message.contains("UTF-8") == true, "\(String(describing: e))")
    }

    @Test func invalidUTF8AfterEscapeRejected() {
        let input = bytes(#""\n"#) + [0xFF, 0x22]
        #expect(parseError(input)?.offset == 3)
    }

    @Test func truncatedSequenceAtEndOfInput() {
        #expect(parseError([0x22, 0xE2])?.message.contains("unterminated string") == true)
        #expect(parseError([0x22, 0xE2, 0x82])?.message.contains("UTF-8") == true)
    }

    @Test func nonASCIIOutsideStringsRejected() {
        #expect(parseError([0xEF, 0xBB, 0xBF, 0x31])?.offset == 0)  // BOM is not accepted
        #expect(parseError([0x5B, 0xC3, 0xA9, 0x5D])?.offset == 1)
    }

    @Test func writerKeepsUnicodeRawButEscapesLineSeparators() {
        #expect(JSONWriter.string("é😀中") == "\"é😀中\"")
        #expect(JSONWriter.string("a\u{2028}b\u{2029}c") == #""a\u2028b\u2029c""#)
        #expect(JSONWriter.string("\u{2027}\u{202A}€") == "\"\u{2027}\u{202A}€\"")
    }

    @Test func unicodeRoundTrips() throws {
        let s = "ÀÉ \u{0} \u{1F} \u{7F} \u{2028} \u{D7FF} \u{E000} \u{FFFD} 😀🇩🇪 \u{10FFFF}"
        let encoded = JSONWriter.encode(.string(s))
        #expect(try JSONParser.parse(encoded) == .string(s))
    }
}
