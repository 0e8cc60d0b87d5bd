/// Strict RFC 8259 JSON parser working directly on UTF-8 bytes.
///
/// Accepts exactly one value with optional surrounding whitespace. Rejects
/// trailing commas, comments, `NaN`/`Infinity`, leading zeros, raw control
/// characters in strings, invalid or overlong UTF-8, UTF-8-encoded
/// surrogates and lone `\u` surrogates.
///
/// Numbers: integers (no fraction/exponent) that fit `Int64` become `.int`;
/// everything else becomes `.double`. `-0` becomes `.double(-0.0)`. A number
/// whose magnitude overflows `Double` (e.g. `1e400`) is an error
/// ("number out of range"); one that underflows becomes `0.0`.
///
/// Objects: for a duplicate key the last value wins (see `JSONObject`).
public struct JSONParser: Sendable {
    public static func parse(
        _ bytes: UnsafeRawBufferPointer, limits: JSONLimits = .default
    ) throws(JSONError) -> JSONValue {
        let input = UnsafeBufferPointer<UInt8>(
            start: bytes.baseAddress?.assumingMemoryBound(to: UInt8.self), count: bytes.count)
        var state = JSONParseState(input: input, limits: limits)
        return try state.parseDocument()
    }

    public static func parse(
        _ bytes: [UInt8], limits: JSONLimits = .default
    ) throws(JSONError) -> JSONValue {
        let result = bytes.withUnsafeBytes { raw in
            Result { () throws(JSONError) in try parse(raw, limits: limits) }
        }
        return try result.get()
    }

    public static func parse(
        _ bytes: ArraySlice<UInt8>, limits: JSONLimits = .default
    ) throws(JSONError) -> JSONValue {
        let result = bytes.withUnsafeBytes { raw in
            Result { () throws(JSONError) in try parse(raw, limits: limits) }
        }
        return try result.get()
    }

    public static func parse(
        _ text: String, limits: JSONLimits = .default
    ) throws(JSONError) -> JSONValue {
        var text = text
        let result = text.withUTF8 { utf8 in
            Result { () throws(JSONError) in try parse(UnsafeRawBufferPointer(utf8), limits: limits) }
        }
        return try result.get()
    }
}

/// ASCII byte constants used by the parser and writer.
enum ASCII {
    static let tab: UInt8 = 0x09
    static let newline: UInt8 = 0x0A
    static let carriageReturn: UInt8 = 0x0D
    static let space: UInt8 = 0x20
    static let quote: UInt8 = 0x22
    static let plus: UInt8 = 0x2B
    static let comma: UInt8 = 0x2C
    static let minus: UInt8 = 0x2D
    static let dot: UInt8 = 0x2E
    static let slash: UInt8 = 0x2F
    static let zero: UInt8 = 0x30
    static let nine: UInt8 = 0x39
    static let colon: UInt8 = 0x3A
    static let upperE: UInt8 = 0x45
    static let openBracket: UInt8 = 0x5B
    static let backslash: UInt8 = 0x5C
    static let closeBracket: UInt8 = 0x5D
    static let lowerE: UInt8 = 0x65
    static let lowerU: UInt8 = 0x75
    static let openBrace: UInt8 = 0x7B
    static let closeBrace: UInt8 = 0x7D
}

/// Cursor state for one parse. Recursive descent; depth is bounded by
/// `JSONLimits.maxDepth`.
struct JSONParseState {
    let input: UnsafeBufferPointer<UInt8>
    let end: Int
    let limits: JSONLimits
    var pos = 0
    var valueCount = 0
    /// Reused buffer for strings that contain escapes.
    var scratch: [UInt8] = []
    /// Elements of the arrays being parsed, innermost last; each finished
    /// array is copied out once, at its exact size.
    var elementStack: [JSONValue] = []
    /// Members of the objects being parsed, innermost last.
    var memberStack: [JSONObject.Member] = []

    init(input: UnsafeBufferPointer<UInt8>, limits: JSONLimits) {
        self.input = input
        self.end = input.count
        self.limits = limits
    }

    func fail(_ offset: Int, _ message: String) -> JSONError {
        JSONError(offset: offset, message: message)
    }

    mutating func parseDocument() throws(JSONError) -> JSONValue {
        let value = try parseValue(depth: 0)
        skipWhitespace()
        if pos < end {
            throw fail(pos, "unexpected \(JSONError.describe(byte: input[pos])) after the JSON value")
        }
        return value
    }

    @inline(__always)
    mutating func skipWhitespace() {
        while pos < end {
            let b = input[pos]
            guard b == ASCII.space || b == ASCII.newline || b == ASCII.carriageReturn || b == ASCII.tab
            else { return }
            pos += 1
        }
    }

    mutating func parseValue(depth: Int) throws(JSONError) -> JSONValue {
        skipWhitespace()
        guard pos < end else { throw fail(pos, "unexpected end of input, expected a value") }
        valueCount += 1
        if valueCount > limits.maxElements {
            throw fail(pos, "more than \(limits.maxElements) values in document")
        }
        let b = input[pos]
        switch b {
        case ASCII.quote:
            return .string(try parseString())
        case ASCII.openBrace:
            return try parseObject(depth: depth)
        case ASCII.openBracket:
            return try parseArray(depth: depth)
        case ASCII.minus, ASCII.zero...ASCII.nine:
            return try parseNumber()
        case 0x74:  // t
            try expectLiteral("true")
            return .bool(true)
        case 0x66:  // f
            try expectLiteral("false")
            return .bool(false)
        case 0x6E:  // n
            try expectLiteral("null")
            return .null
        case 0x4E, 0x49:  // N, I
            throw fail(pos, "NaN and Infinity are not valid JSON")
        default:
            throw fail(pos, "unexpected \(JSONError.describe(byte: b)), expected a value")
        }
    }

    mutating func expectLiteral(_ literal: StaticString) throws(JSONError) {
        let n = literal.utf8CodeUnitCount
        let p = literal.utf8Start
        guard end - pos >= n else {
            throw fail(pos, "invalid literal, expected '\(literal)'")
        }
        for i in 0..<n where input[pos + i] != p[i] {
            throw fail(pos, "invalid literal, expected '\(literal)'")
        }
        pos += n
    }

    mutating func parseArray(depth: Int) throws(JSONError) -> JSONValue {
        let open = pos
        if depth >= limits.maxDepth { throw fail(open, "nesting deeper than \(limits.maxDepth)") }
        pos += 1
        skipWhitespace()
        guard pos < end else { throw fail(pos, "unterminated array starting at byte \(open)") }
        if input[pos] == ASCII.closeBracket {
            pos += 1
            return .array([])
        }
        if elementStack.capacity == 0 { elementStack.reserveCapacity(16) }
        let base = elementStack.count
        while true {
            let element = try parseValue(depth: depth + 1)
            elementStack.append(element)
            skipWhitespace()
            guard pos < end else { throw fail(pos, "unterminated array starting at byte \(open)") }
            let b = input[pos]
            if b == ASCII.comma {
                pos += 1
                skipWhitespace()
                guard pos < end else { throw fail(pos, "unterminated array starting at byte \(open)") }
                if input[pos] == ASCII.closeBracket { throw fail(pos, "trailing comma in array") }
            } else if b == ASCII.closeBracket {
                pos += 1
                let elements = Array(elementStack[base...])
                elementStack.removeSubrange(base...)
                return .array(elements)
            } else {
                throw fail(pos, "expected ',' or ']' after array element, found \(JSONError.describe(byte: b))")
            }
        }
    }

    mutating func parseObject(depth: Int) throws(JSONError) -> JSONValue {
        let open = pos
        if depth >= limits.maxDepth { throw fail(open, "nesting deeper than \(limits.maxDepth)") }
        pos += 1
        skipWhitespace()
        guard pos < end else { throw fail(pos, "unterminated object starting at byte \(open)") }
        if input[pos] == ASCII.closeBrace {
            pos += 1
            return .object(JSONObject())
        }
        if memberStack.capacity == 0 { memberStack.reserveCapacity(16) }
        let base = memberStack.count
        // Key → position (relative to `base`), built once the object is large.
        var index: [String: Int]?
        while true {
            // At a key (whitespace already skipped).
            let k = input[pos]
            guard k == ASCII.quote else {
                throw fail(pos, "expected a string key in object, found \(JSONError.describe(byte: k))")
            }
            let key = try parseString()
            skipWhitespace()
            guard pos < end else { throw fail(pos, "unterminated object starting at byte \(open)") }
            guard input[pos] == ASCII.colon else {
                throw fail(pos, "expected ':' after object key, found \(JSONError.describe(byte: input[pos]))")
            }
            pos += 1
            let value = try parseValue(depth: depth + 1)
            // Duplicate key: the last value wins, at the first position.
            if let existing = duplicatePosition(of: key, base: base, index: &index) {
                memberStack[base + existing].value = value
            } else {
                memberStack.append(JSONObject.Member(key: key, value: value))
            }
            skipWhitespace()
            guard pos < end else { throw fail(pos, "unterminated object starting at byte \(open)") }
            let b = input[pos]
            if b == ASCII.comma {
                pos += 1
                skipWhitespace()
                guard pos < end else { throw fail(pos, "unterminated object starting at byte \(open)") }
                if input[pos] == ASCII.closeBrace { throw fail(pos, "trailing comma in object") }
            } else if b == ASCII.closeBrace {
                pos += 1
                let members = Array(memberStack[base...])
                memberStack.removeSubrange(base...)
                return .object(JSONObject(uniqueMembers: members, index: index))
            } else {
                throw fail(pos, "expected ',' or '}' after object member, found \(JSONError.describe(byte: b))")
            }
        }
    }

    /// Position of `key` among the members parsed so far for the object
    /// starting at `base`, keeping `index` in step once the object is large.
    /// Records `key` as the next member when it is new.
    @inline(__always)
    mutating func duplicatePosition(of key: String, base: Int, index: inout [String: Int]?) -> Int? {
        let count = memberStack.count - base
        if index == nil {
            var i = base
            while i < memberStack.count {
                if memberStack[i].key == key { return i - base }
                i += 1
            }
            if count < JSONObject.indexThreshold { return nil }
            var built = [String: Int](minimumCapacity: count * 2)
            for j in base..<memberStack.count { built[memberStack[j].key] = j - base }
            built[key] = count
            index = built
            return nil
        }
        if let existing = index?[key] { return existing }
        index?[key] = count
        return nil
    }
}
