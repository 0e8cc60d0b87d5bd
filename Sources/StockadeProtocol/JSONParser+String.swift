// String scanning: escapes, UTF-8 validation, surrogate pairs.

extension JSONParseState {
    /// Parses a string starting at the opening quote at `pos`.
    ///
    /// Runs of plain bytes are copied as slices; a string without escapes is
    /// built straight from the input bytes, one with escapes via `scratch`.
    mutating func parseString() throws(JSONError) -> String {
        let open = pos
        pos += 1
        var segmentStart = pos
        var escaped = false
        while true {
            // Fast path over printable ASCII, a word at a time.
            if let base = input.baseAddress {
                pos = ByteScan.firstStringSpecial(in: base, from: pos, to: end)
            }
            guard pos < end else { throw fail(pos, "unterminated string starting at byte \(open)") }
            let b = input[pos]
            if b == ASCII.quote {
                let segment = UnsafeBufferPointer(rebasing: input[segmentStart..<pos])
                let string: String
                if escaped {
                    scratch.append(contentsOf: segment)
                    try checkStringLength(scratch.count, open: open)
                    string = String(decoding: scratch, as: UTF8.self)
                } else {
                    try checkStringLength(segment.count, open: open)
                    string = Self.wellKnownString(segment) ?? String(decoding: segment, as: UTF8.self)
                }
                pos += 1
                return string
            } else if b == ASCII.backslash {
                if !escaped {
                    escaped = true
                    scratch.removeAll(keepingCapacity: true)
                }
                scratch.append(contentsOf: UnsafeBufferPointer(rebasing: input[segmentStart..<pos]))
                try parseEscape(open: open)
                try checkStringLength(scratch.count, open: open)
                segmentStart = pos
            } else if b < 0x20 {
                throw fail(pos, "unescaped control character \(JSONError.hex(b)) in string")
            } else {
                try skipUTF8Sequence(open: open)
            }
        }
    }

    /// The JSON-RPC envelope's keys and version string, returned as
    /// literals to skip UTF-8 validation and String construction.
    @inline(__always)
    static func wellKnownString(_ bytes: UnsafeBufferPointer<UInt8>) -> String? {
        switch bytes.count {
        case 2: return matches(bytes, "id") ? "id" : nil
        case 3: return matches(bytes, "2.0") ? "2.0" : nil
        case 4:
            if matches(bytes, "code") { return "code" }
            return matches(bytes, "data") ? "data" : nil
        case 5: return matches(bytes, "error") ? "error" : nil
        case 6:
            if matches(bytes, "method") { return "method" }
            if matches(bytes, "params") { return "params" }
            return matches(bytes, "result") ? "result" : nil
        case 7:
            if matches(bytes, "jsonrpc") { return "jsonrpc" }
            return matches(bytes, "message") ? "message" : nil
        default: return nil
        }
    }

    @inline(__always)
    static func matches(_ bytes: UnsafeBufferPointer<UInt8>, _ literal: StaticString) -> Bool {
        let p = literal.utf8Start
        for i in 0..<bytes.count where bytes[i] != p[i] { return false }
        return true
    }

    @inline(__always)
    func checkStringLength(_ n: Int, open: Int) throws(JSONError) {
        if n > limits.maxStringBytes {
            throw fail(open, "string longer than \(limits.maxStringBytes) bytes")
        }
    }

    /// Validates one multi-byte UTF-8 sequence at `pos` (lead byte >= 0x80)
    /// per Unicode Table 3-7 and advances past it.
    mutating func skipUTF8Sequence(open: Int) throws(JSONError) {
        let lead = input[pos]
        let need: Int
        var low: UInt8 = 0x80
        var high: UInt8 = 0xBF
        switch lead {
        case 0xC2...0xDF: need = 1
        case 0xE0: need = 2; low = 0xA0  // no overlongs
        case 0xE1...0xEC, 0xEE, 0xEF: need = 2
        case 0xED: need = 2; high = 0x9F  // no UTF-16 surrogates
        case 0xF0: need = 3; low = 0x90  // no overlongs
        case 0xF1...0xF3: need = 3
        case 0xF4: need = 3; high = 0x8F  // nothing above U+10FFFF
        case 0xC0, 0xC1: throw fail(pos, "invalid UTF-8 in string: overlong lead byte \(JSONError.hex(lead))")
        default: throw fail(pos, "invalid UTF-8 in string: unexpected byte \(JSONError.hex(lead))")
        }
        guard end - pos > need else {
            if end - pos > 1 {
                throw fail(pos, "invalid UTF-8 in string: truncated sequence")
            }
            throw fail(end, "unterminated string starting at byte \(open)")
        }
        let first = input[pos + 1]
        guard first >= low && first <= high else {
            if lead == 0xED && first >= 0xA0 && first <= 0xBF {
                throw fail(pos, "invalid UTF-8 in string: encoded surrogate")
            }
            throw fail(pos + 1, "invalid UTF-8 in string: bad continuation byte \(JSONError.hex(first))")
        }
        var i = 2
        while i <= need {
            let c = input[pos + i]
            guard c & 0xC0 == 0x80 else {
                throw fail(pos + i, "invalid UTF-8 in string: bad continuation byte \(JSONError.hex(c))")
            }
            i += 1
        }
        pos += need + 1
    }

    /// Decodes the escape at `pos` (a backslash) into `scratch`.
    mutating func parseEscape(open: Int) throws(JSONError) {
        let start = pos
        guard pos + 1 < end else { throw fail(end, "unterminated string starting at byte \(open)") }
        let c = input[pos + 1]
        let decoded: UInt8
        switch c {
        case ASCII.quote: decoded = ASCII.quote
        case ASCII.backslash: decoded = ASCII.backslash
        case ASCII.slash: decoded = ASCII.slash
        case 0x62: decoded = 0x08  // b
        case 0x66: decoded = 0x0C  // f
        case 0x6E: decoded = 0x0A  // n
        case 0x72: decoded = 0x0D  // r
        case 0x74: decoded = 0x09  // t
        case ASCII.lowerU:
            try parseUnicodeEscape(start: start)
            return
        default:
            if c < 0x20 || c >= 0x80 {
                throw fail(start, "invalid escape sequence: backslash followed by byte \(JSONError.hex(c))")
            }
            throw fail(start, "invalid escape sequence '\\\(Character(Unicode.Scalar(c)))'")
        }
        scratch.append(decoded)
        pos += 2
    }

    /// Decodes `\uXXXX` (and a following low surrogate when needed).
    mutating func parseUnicodeEscape(start: Int) throws(JSONError) {
        let unit = try readHex4(at: start + 2, escapeStart: start)
        pos = start + 6
        let scalar: UInt32
        switch unit {
        case 0xD800...0xDBFF:
            guard end - pos >= 6, input[pos] == ASCII.backslash, input[pos + 1] == ASCII.lowerU else {
                throw fail(start, "lone surrogate \\u\(hex4(unit)) in string")
            }
            let low = try readHex4(at: pos + 2, escapeStart: pos)
            guard low >= 0xDC00 && low <= 0xDFFF else {
                throw fail(start, "lone surrogate \\u\(hex4(unit)) in string")
            }
            pos += 6
            scalar = 0x10000 + ((unit - 0xD800) << 10) + (low - 0xDC00)
        case 0xDC00...0xDFFF:
            throw fail(start, "lone surrogate \\u\(hex4(unit)) in string")
        default:
            scalar = unit
        }
        appendUTF8(scalar)
    }

    func readHex4(at offset: Int, escapeStart: Int) throws(JSONError) -> UInt32 {
        guard end - offset >= 4 else {
            throw fail(escapeStart, "invalid \\u escape: expected 4 hex digits")
        }
        var value: UInt32 = 0
        for i in offset..<(offset + 4) {
            let c = input[i]
            let digit: UInt8
            switch c {
            case 0x30...0x39: digit = c &- 0x30
            case 0x41...0x46: digit = c &- 0x41 &+ 10
            case 0x61...0x66: digit = c &- 0x61 &+ 10
            default: throw fail(escapeStart, "invalid \\u escape: expected 4 hex digits")
            }
            value = value << 4 | UInt32(digit)
        }
        return value
    }

    func hex4(_ unit: UInt32) -> String {
        let digits: [Character] = ["0", "1", "2", "3", "4", "5", "6", "7", "8", "9", "A", "B", "C", "D", "E", "F"]
        var s = ""
        for shift in stride(from: 12, through: 0, by: -4) {
            s.append(digits[Int((unit >> UInt32(shift)) & 0xF)])
        }
        return s
    }

    mutating func appendUTF8(_ scalar: UInt32) {
        switch scalar {
        case 0..<0x80:
            scratch.append(UInt8(truncatingIfNeeded: scalar))
        case 0x80..<0x800:
            scratch.append(UInt8(truncatingIfNeeded: 0xC0 | (scalar >> 6)))
            scratch.append(UInt8(truncatingIfNeeded: 0x80 | (scalar & 0x3F)))
        case 0x800..<0x10000:
            scratch.append(UInt8(truncatingIfNeeded: 0xE0 | (scalar >> 12)))
            scratch.append(UInt8(truncatingIfNeeded: 0x80 | ((scalar >> 6) & 0x3F)))
            scratch.append(UInt8(truncatingIfNeeded: 0x80 | (scalar & 0x3F)))
        default:
            scratch.append(UInt8(truncatingIfNeeded: 0xF0 | (scalar >> 18)))
            scratch.append(UInt8(truncatingIfNeeded: 0x80 | ((scalar >> 12) & 0x3F)))
            scratch.append(UInt8(truncatingIfNeeded: 0x80 | ((scalar >> 6) & 0x3F)))
            scratch.append(UInt8(truncatingIfNeeded: 0x80 | (scalar & 0x3F)))
        }
    }
}
