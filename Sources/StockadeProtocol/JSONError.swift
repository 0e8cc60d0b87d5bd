/// A JSON parse failure: what was wrong and the byte offset where it was found.
public struct JSONError: Error, Sendable, Hashable, CustomStringConvertible {
    /// Byte offset into the input at which the problem was detected.
    public var offset: Int
    /// Human-readable reason, e.g. `unterminated string starting at byte 12`.
    public var message: String

    public init(offset: Int, message: String) {
        self.offset = offset
        self.message = message
    }

    public var description: String { "\(message) (at byte \(offset))" }
}

extension JSONError {
    /// Renders a byte for error messages: `'x'` when printable ASCII, else `0xNN`.
    static func describe(byte: UInt8) -> String {
        if byte >= 0x21 && byte < 0x7F {
            return "'\(Character(Unicode.Scalar(byte)))'"
        }
        return hex(byte)
    }

    static func hex(_ byte: UInt8) -> String {
        let digits: StaticString = "0123456789ABCDEF"
        let p = digits.utf8Start
        let hi = Character(Unicode.Scalar(p[Int(byte >> 4)]))
        let lo = Character(Unicode.Scalar(p[Int(byte & 0xF)]))
        return "0x\(hi)\(lo)"
    }
}
