import Testing
@testable import StockadeProtocol

@Suite struct JSONParserTests {
    @Test func parsesEveryKind() throws {
        let v = try JSONParser.parse(#" { "n": null, "t": true, "f": false, "i": -42, "d": 2.5, "s": "hi", "a": [1, [], {}], "o": {"k": "v"} } "#)
        #expect(v["n"] == .null)
        #expect(v["t"] == .bool(true))
        #expect(v["f"] == .bool(false))
        #expect(v["i"] == .int(-42))
        #expect(v["d"] == .double(2.5))
        #expect(v["s"] == .string("hi"))
        #expect(v["a"] == .array([.int(1), .array([]), .object(JSONObject())]))
        #expect(v["o"]?["k"] == "v")
        #expect(v.objectValue?.keys == ["n", "t", "f", "i", "d", "s", "a", "o"])
    }

    @Test func scalarDocumentsAndWhitespace() throws {
        #expect(try JSONParser.parse("null") == .null)
        #expect(try JSONParser.parse(" \t\r\n true \n") == .bool(true))
        #expect(try JSONParser.parse("\"\"") == .string(""))
        #expect(try JSONParser.parse("[]") == .array([]))
        #expect(try JSONParser.parse("{}") == .object(JSONObject()))
        #expect(try JSONParser.parse("[ 1 , 2 ]") == [1, 2])
        #expect(try JSONParser.parse("{ \"a\" : 1 }") == ["a": 1])
    }

    @Test func overloadsAgree() throws {
        let text = #"{"a":[1,"x"]}"#
        let array = bytes(text)
        let fromString = try JSONParser.parse(text)
        let fromArray = try JSONParser.parse(array)
        let fromSlice = try JSONParser.parse(array[...])
        let fromRaw = try array.withUnsafeBytes { raw in try JSONParser.parse(raw) }
        #expect(fromString == fromArray)
        #expect(fromSlice == fromArray)
        #expect(fromRaw == fromArray)
        // A slice not starting at index 0.
        let padded = bytes("xx[true]yy")
        #expect(try JSONParser.parse(padded[2..<8]) == [true])
    }

    @Test func emptyBufferIsAnError() {
        let e = UnsafeRawBufferPointer(start: nil, count: 0)
        #expect(throws: JSONError.self) { try JSONParser.parse(e) }
    }

    @Test func duplicateKeysLastWinsAtFirstPosition() throws {
        let v = try JSONParser.parse(#"{"a":1,"b":2,"a":3}"#)
        #expect(v.objectValue?.keys == ["a", "b"])
        #expect(v["a"] == 3)
        #expect(v.objectValue?.count == 2)
    }

    @Test func largeObjectWithDuplicates() throws {
        var text = "{"
        for i in 0..<100 { text += "\"k\(i)\":\(i)," }
        text += "\"k5\":\"again\"}"
        let v = try JSONParser.parse(text)
        #expect(v.objectValue?.count == 100)
        #expect(v["k5"] == "again")
        #expect(v["k99"] == 99)
        #expect(v.objectValue?.keys.first == "k0")
    }

    struct ErrorCase: CustomStringConvertible, Sendable {
        let input: String
        let offset: Int
        let fragment: String
        var description: String { input.debugDescription }
    }

    static let errorCases: [ErrorCase] = [
        .init(input: "", offset: 0, fragment: "unexpected end of input"),
        .init(input: "   ", offset: 3, fragment: "unexpected end of input"),
        .init(input: "nul", offset: 0, fragment: "invalid literal, expected 'null'"),
        .init(input: "tru", offset: 0, fragment: "invalid literal, expected 'true'"),
        .init(input: "falsy", offset: 0, fragment: "invalid literal, expected 'false'"),
        .init(input: "True", offset: 0, fragment: "unexpected 'T'"),
        .init(input: "[1,]", offset: 3, fragment: "trailing comma in array"),
        .init(input: "[1, ]", offset: 4, fragment: "trailing comma in array"),
        .init(input: #"{"a":1,}"#, offset: 7, fragment: "trailing comma in object"),
        .init(input: "[,1]", offset: 1, fragment: "unexpected ','"),
        .init(input: "[1 2]", offset: 3, fragment: "expected ',' or ']'"),
        .init(input: #"{"a" 1}"#, offset: 5, fragment: "expected ':' after object key"),
        .init(input: #"{"a":1 "b":2}"#, offset: 7, fragment: "expected ',' or '}'"),
        .init(input: "{1:2}", offset: 1, fragment: "expected a string key"),
        .init(input: "{'a':1}", offset: 1, fragment: "expected a string key"),
        .init(input: "[", offset: 1, fragment: "unterminated array starting at byte 0"),
        .init(input: "[1,2", offset: 4, fragment: "unterminated array starting at byte 0"),
        .init(input: "[1,", offset: 3, fragment: "unterminated array starting at byte 0"),
        .init(input: "{", offset: 1, fragment: "unterminated object starting at byte 0"),
        .init(input: #" {"a":1"#, offset: 7, fragment: "unterminated object starting at byte 1"),
        .init(input: #"{"a""#, offset: 4, fragment: "unterminated object"),
        .init(input: #"{"a":"#, offset: 5, fragment: "unexpected end of input"),
        .init(input: "1 2", offset: 2, fragment: "unexpected '2' after the JSON value"),
        .init(input: "{} x", offset: 3, fragment: "after the JSON value"),
        .init(input: "[]]", offset: 2, fragment: "after the JSON value"),
        .init(input: "// c\n1", offset: 0, fragment: "unexpected '/'"),
        .init(input: "[1,/*x*/2]", offset: 3, fragment: "unexpected '/'"),
        .init(input: "01", offset: 0, fragment: "leading zeros"),
        .init(input: "-01", offset: 0, fragment: "leading zeros"),
        .init(input: "[00]", offset: 1, fragment: "leading zeros"),
        .init(input: "1.", offset: 2, fragment: "expected digit after decimal point"),
        .init(input: "1.e5", offset: 2, fragment: "expected digit after decimal point"),
        .init(input: ".5", offset: 0, fragment: "unexpected '.'"),
        .init(input: "1e", offset: 2, fragment: "expected digit in exponent"),
        .init(input: "1e+", offset: 3, fragment: "expected digit in exponent"),
        .init(input: "1E-x", offset: 3, fragment: "expected digit in exponent"),
        .init(input: "-", offset: 1, fragment: "unexpected end of input in number"),
        .init(input: "-a", offset: 1, fragment: "expected digit after '-'"),
        .init(input: "+1", offset: 0, fragment: "unexpected '+'"),
        .init(input: "0x10", offset: 1, fragment: "after the JSON value"),
        .init(input: "NaN", offset: 0, fragment: "NaN and Infinity are not valid JSON"),
        .init(input: "Infinity", offset: 0, fragment: "NaN and Infinity"),
        .init(input: "-Infinity", offset: 1, fragment: "expected digit after '-'"),
        .init(input: "1e400", offset: 0, fragment: "number out of range"),
        .init(input: "[-1e400]", offset: 1, fragment: "number out of range"),
        .init(input: "\"abc", offset: 4, fragment: "unterminated string starting at byte 0"),
        .init(input: "[\"abc", offset: 5, fragment: "unterminated string starting at byte 1"),
        .init(input: "\"abc\\", offset: 5, fragment: "unterminated string starting at byte 0"),
        .init(input: #""a\x""#, offset: 2, fragment: "invalid escape sequence '\\x'"),
        .init(input: #""\'""#, offset: 1, fragment: "invalid escape sequence"),
        .init(input: #""\u12""#, offset: 1, fragment: "invalid \\u escape"),
        .init(input: #""\u12G4""#, offset: 1, fragment: "invalid \\u escape"),
        .init(input: #""\u""#, offset: 1, fragment: "invalid \\u escape"),
        .init(input: #""\uD800""#, offset: 1, fragment: "lone surrogate \\uD800"),
        .init(input: #""\udc00""#, offset: 1, fragment: "lone surrogate \\uDC00"),
        .init(input: #""x\uD800\u0041""#, offset: 2, fragment: "lone surrogate"),
        .init(input: #""\uD800\uD800""#, offset: 1, fragment: "lone surrogate"),
        .init(input: #""\uD800\n""#, offset: 1, fragment: "lone surrogate"),
        .init(input: #""\uD800\uDC0""#, offset: 7, fragment: "invalid \\u escape"),
        .init(input: "\"a\nb\"", offset: 2, fragment: "unescaped control character 0x0A"),
        .init(input: "\"\t\"", offset: 1, fragment: "unescaped control character 0x09"),
        .init(input: "\"\u{0}\"", offset: 1, fragment: "unescaped control character 0x00"),
        .init(input: "\"\u{1F}\"", offset: 1, fragment: "unescaped control character 0x1F"),
    ]

    @Test(arguments: errorCases)
    func reportsErrorWithOffset(_ c: ErrorCase) {
        guard let e = parseError(c.input) else {
            Issue.record("expected an error for \(c.input.debugDescription)")
            return
        }
        #expect(e.offset == c.offset, "\(e)")
        #expect(e.message.contains(c.fragment), "\(e)")
        #expect(e.description.contains("at byte \(c.offset)"))
    }

    @Test func depthLimit() throws {
        let ok = String(repeating: "[", count: 256) + String(repeating: "]", count: 256)
        #expect(try JSONParser.parse(ok).arrayValue != nil)

        let deep = String(repeating: "[", count: 257) + String(repeating: "]", count: 257)
        let e = parseError(deep)
        #expect(e?.offset == 256)
        #expect(e?.message == "nesting deeper than 256")

        let objects = String(repeating: #"{"a":"#, count: 300) + "1" + String(repeating: "}", count: 300)
        #expect(parseError(objects)?.message == "nesting deeper than 256")

        let tight = JSONLimits(maxDepth: 2)
        #expect(parseError("[[1]]", limits: tight) == nil)
        #expect(parseError("[[[1]]]", limits: tight)?.message == "nesting deeper than 2")
        #expect(parseError("[{}]", limits: tight) == nil)
        #expect(parseError("[{\"a\":[]}]", limits: tight)?.offset == 6)
    }

    @Test func hugeNestingDoesNotOverflowStack() {
        let text = String(repeating: "[", count: 100_000)
        #expect(parseError(text)?.message == "nesting deeper than 256")
    }

    @Test func elementLimit() {
        let limits = JSONLimits(maxElements: 4)
        #expect(parseError("[1,2,3]", limits: limits) == nil)  // 4 values incl. the array
        let e = parseError("[1,2,3,4]", limits: limits)
        #expect(e?.offset == 7)
        #expect(e?.message.contains("more than 4 values") == true)
        #expect(parseError(#"{"a":{"b":[1]}}"#, limits: limits) == nil)
        #expect(parseError(#"{"a":{"b":[1,2]}}"#, limits: limits) != nil)
    }

    @Test func stringLimit() {
        let limits = JSONLimits(maxStringBytes: 4)
        #expect(parseError(#"["abcd"]"#, limits: limits) == nil)
        #expect(parseError(#"["abcde"]"#, limits: limits)?.offset == 1)
        #expect(parseError(#"["ab\ncd"]"#, limits: limits)?.message.contains("longer than 4 bytes") == true)
        #expect(parseError(#"{"abcde":1}"#, limits: limits)?.offset == 1)
        #expect(parseError("[\"é€\"]", limits: limits)?.offset == 1)  // 5 UTF-8 bytes
        #expect(parseError(#"["\u00e9\u00e9"]"#, limits: limits) == nil)  // 4 UTF-8 bytes
    }

    @Test func errorIsValueTyped() {
        let a = JSONError(offset: 3, message: "x")
        #expect(a == JSONError(offset: 3, message: "x"))
        #expect(a != JSONError(offset: 4, message: "x"))
        #expect(a.description == "x (at byte 3)")
    }
}
