/// Compact JSON encoder into a reusable byte buffer.
///
/// Output never contains a raw newline (or any raw control character):
/// `"`, `\` and control characters are escaped (`\n \r \t \b \f` in short
/// form, others as `\u00XX`), as are U+2028 and U+2029, so one encoded value
/// is always exactly one line.
///
/// Doubles use the shortest representation that round-trips (Swift's
/// `description`); integral doubles keep a `.0` or an exponent so they parse
/// back as doubles. Non-finite doubles (NaN, ±infinity) have no JSON form and
/// are written as `null`.
public struct JSONWriter: Sendable {
    /// Appends the encoding of `value` to `buffer`.
    public static func write(_ value: JSONValue, into buffer: inout [UInt8]) {
        switch value {
        case .null:
            appendLiteral("null", into: &buffer)
        case .bool(let b):
            appendLiteral(b ? "true" : "false", into: &buffer)
        case .int(let i):
            writeInt(i, into: &buffer)
        case .double(let d):
            writeDouble(d, into: &buffer)
        case .string(let s):
            writeString(s, into: &buffer)
        case .array(let elements):
            buffer.append(ASCII.openBracket)
            var first = true
            for element in elements {
                if !first { buffer.append(ASCII.comma) }
                first = false
                write(element, into: &buffer)
            }
            buffer.append(ASCII.closeBracket)
        case .object(let object):
            writeObject(object, into: &buffer)
        }
    }

    public static func writeObject(_ object: JSONObject, into buffer: inout [UInt8]) {
        buffer.append(ASCII.openBrace)
        var first = true
        for member in object.members {
            if !first { buffer.append(ASCII.comma) }
            first = false
            writeString(member.key, into: &buffer)
            buffer.append(ASCII.colon)
            write(member.value, into: &buffer)
        }
        buffer.append(ASCII.closeBrace)
    }

    /// The encoding of `value` as a new byte array.
    public static func encode(_ value: JSONValue) -> [UInt8] {
        var buffer: [UInt8] = []
        buffer.reserveCapacity(128)
        write(value, into: &buffer)
        return buffer
    }

    /// The encoding of `value` as a string.
    public static func string(_ value: JSONValue) -> String {
        String(decoding: encode(value), as: UTF8.self)
    }

    @inline(__always)
    static func appendLiteral(_ literal: StaticString, into buffer: inout [UInt8]) {
        buffer.append(contentsOf: UnsafeBufferPointer(start: literal.utf8Start, count: literal.utf8CodeUnitCount))
    }

    /// Appends the decimal digits of `value`.
    public static func writeInt(_ value: Int64, into buffer: inout [UInt8]) {
        var magnitude = value.magnitude
        if value < 0 { buffer.append(ASCII.minus) }
        if magnitude < 10 {
            buffer.append(ASCII.zero &+ UInt8(truncatingIfNeeded: magnitude))
            return
        }
        let start = buffer.count
        while magnitude > 0 {
            let (q, r) = magnitude.quotientAndRemainder(dividingBy: 10)
            buffer.append(ASCII.zero &+ UInt8(truncatingIfNeeded: r))
            magnitude = q
        }
        var lo = start
        var hi = buffer.count - 1
        while lo < hi {
            buffer.swapAt(lo, hi)
            lo += 1
            hi -= 1
        }
    }

    /// Appends the shortest round-trip form of `value`; `null` if not finite.
    public static func writeDouble(_ value: Double, into buffer: inout [UInt8]) {
        guard value.isFinite else {
            appendLiteral("null", into: &buffer)
            return
        }
        let start = buffer.count
        buffer.append(contentsOf: value.description.utf8)
        // Make sure the text reads back as a double, not an integer.
        for i in start..<buffer.count {
            let b = buffer[i]
            if b == ASCII.dot || b == ASCII.lowerE || b == ASCII.upperE { return }
        }
        buffer.append(ASCII.dot)
        buffer.append(ASCII.zero)
    }
}
