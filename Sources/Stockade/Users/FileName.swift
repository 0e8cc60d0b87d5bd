/// A validated file name for `UserFiles`: one path component that cannot escape its directory or
/// hide. At most 255 bytes; no `/`, NUL or control characters; not `.`/`..` and no leading `.`
/// (names starting with `.` are reserved for Stockade's own temporary files).
public struct FileName: Sendable, Hashable, Comparable, CustomStringConvertible {
    public static let maxBytes = 255

    public let rawValue: String

    public init(_ raw: String) throws(UserDataError) {
        if let reason = FileName.problem(with: raw) { throw .invalidFileName(raw, reason: reason) }
        rawValue = raw
    }

    public var description: String { rawValue }

    public static func < (lhs: FileName, rhs: FileName) -> Bool { lhs.rawValue < rhs.rawValue }

    /// Why `raw` is not an acceptable file name, or nil when it is.
    static func problem(with raw: String) -> String? {
        let bytes = Array(raw.utf8)
        guard let first = bytes.first else { return "it is empty" }
        guard bytes.count <= maxBytes else { return "it is \(bytes.count) bytes long (at most \(maxBytes))" }
        if raw == "." || raw == ".." { return "'.' and '..' are not file names" }
        if bytes.contains(0) { return "it contains a NUL byte" }
        if bytes.contains(UInt8(ascii: "/")) { return "it contains '/' (only a single name is allowed, no directories or absolute paths)" }
        if first == UInt8(ascii: ".") { return "it starts with '.'" }
        // C0 controls and DEL as bytes; C1 controls (U+0080-U+009F) as scalars.
        if bytes.contains(where: { $0 < 0x20 || $0 == 0x7f }) || raw.unicodeScalars.contains(where: { $0.value >= 0x80 && $0.value < 0xa0 }) {
            return "it contains a control character"
        }
        if raw.unicodeScalars.contains("\u{FFFD}") { return "it is not valid UTF-8" }
        return nil
    }
}
