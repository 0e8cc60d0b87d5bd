/// A validated Stockade user id: 1-64 characters matching `[A-Za-z0-9][A-Za-z0-9_.-]{0,63}`,
/// never `.` or `..`. Safe to use as a single path component and in file lines.
public struct UserID: Sendable, Hashable, Comparable, CustomStringConvertible {
    public static let pattern = "[A-Za-z0-9][A-Za-z0-9_.-]{0,63}"
    public static let maxLength = 64

    public let rawValue: String

    public init(_ raw: String) throws(UserDataError) {
        if let reason = UserID.problem(with: raw) { throw .invalidUserID(raw, reason: reason) }
        rawValue = raw
    }

    public var description: String { rawValue }

    public static func < (lhs: UserID, rhs: UserID) -> Bool { lhs.rawValue < rhs.rawValue }

    /// Why `raw` is not a valid user id, or nil when it is.
    static func problem(with raw: String) -> String? {
        let bytes = Array(raw.utf8)
        guard let first = bytes.first else { return "it is empty" }
        guard bytes.count <= maxLength else { return "it is \(bytes.count) bytes long (at most \(maxLength))" }
        guard raw != ".", raw != ".." else { return "'.' and '..' are not user ids" }
        guard isAlphanumeric(first) else { return "it must start with a letter or digit" }
        if let bad = bytes.first(where: { !isAlphanumeric($0) && $0 != UInt8(ascii: "_") && $0 != UInt8(ascii: ".") && $0 != UInt8(ascii: "-") }) {
            return bad < 0x20 || bad == 0x7f ? "it contains a control character" :
                bad >= 0x80 ? "it contains a non-ASCII character" :
                "it contains '\(Character(Unicode.Scalar(bad)))'"
        }
        return nil
    }

    private static func isAlphanumeric(_ c: UInt8) -> Bool {
        (c >= 0x30 && c <= 0x39) || (c >= 0x41 && c <= 0x5a) || (c >= 0x61 && c <= 0x7a)
    }
}
