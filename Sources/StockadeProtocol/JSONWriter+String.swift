// String escaping for JSONWriter.

extension JSONWriter {
    /// Appends `s` as a quoted, escaped JSON string (no raw control
    /// characters, U+2028/U+2029 escaped).
    public static func writeString(_ s: String, into buffer: inout [UInt8]) {
        let done: Void? = s.utf8.withContiguousStorageIfAvailable { utf8 in
            writeString(utf8: utf8, into: &buffer)
        }
        if done == nil {
            var s = s
            s.withUTF8 { utf8 in writeString(utf8: utf8, into: &buffer) }
        }
    }

    /// Appends already-valid UTF-8 as a quoted, escaped JSON string.
    public static func writeString(utf8: UnsafeBufferPointer<UInt8>, into buffer: inout [UInt8]) {
        buffer.append(ASCII.quote)
        guard let base = utf8.baseAddress else {
            buffer.append(ASCII.quote)
            return
        }
        let n = utf8.count
        var runStart = 0
        var i = 0
        while true {
            i = ByteScan.firstEscapeCandidate(in: base, from: i, to: n)
            if i >= n { break }
            let b = utf8[i]
            if b == 0xE2 {
                // U+2028 / U+2029 are E2 80 A8 / E2 80 A9.
                guard i + 2 < n, utf8[i + 1] == 0x80, utf8[i + 2] == 0xA8 || utf8[i + 2] == 0xA9 else {
                    i += 1
                    continue
                }
                flush(utf8, runStart, i, into: &buffer)
                appendLiteral(utf8[i + 2] == 0xA8 ? "\\u2028" : "\\u2029", into: &buffer)
                i += 3
                runStart = i
                continue
            }
            flush(utf8, runStart, i, into: &buffer)
            switch b {
            case ASCII.quote: appendLiteral("\\\"", into: &buffer)
            case ASCII.backslash: appendLiteral("\\\\", into: &buffer)
            case 0x0A: appendLiteral("\\n", into: &buffer)
            case 0x0D: appendLiteral("\\r", into: &buffer)
            case 0x09: appendLiteral("\\t", into: &buffer)
            case 0x08: appendLiteral("\\b", into: &buffer)
            case 0x0C: appendLiteral("\\f", into: &buffer)
            default:
                appendLiteral("\\u00", into: &buffer)
                buffer.append(hexDigit(b >> 4))
                buffer.append(hexDigit(b & 0xF))
            }
            i += 1
            runStart = i
        }
        flush(utf8, runStart, n, into: &buffer)
        buffer.append(ASCII.quote)
    }

    @inline(__always)
    static func flush(_ utf8: UnsafeBufferPointer<UInt8>, _ from: Int, _ to: Int, into buffer: inout [UInt8]) {
        if from < to {
            buffer.append(contentsOf: UnsafeBufferPointer(rebasing: utf8[from..<to]))
        }
    }

    @inline(__always)
    static func hexDigit(_ nibble: UInt8) -> UInt8 {
        nibble < 10 ? ASCII.zero &+ nibble : 0x61 &+ (nibble &- 10)
    }
}
