/// One allow-list entry: an exact variable name, or a pattern where `*` matches any run of
/// characters (`LC_*`, `*_PROXY`, `*`). Names are case-sensitive, as the kernel's are.
public struct EnvironmentPattern: Sendable, Hashable, CustomStringConvertible {
    public let text: String

    public init(_ text: String) throws(UserDataError) {
        guard !text.isEmpty else { throw .invalidAllowList(entry: text, reason: "it is empty") }
        guard text.utf8.count <= 128 else { throw .invalidAllowList(entry: text, reason: "it is longer than 128 bytes") }
        let ok = text.utf8.allSatisfy { c in
            c == UInt8(ascii: "*") || c == UInt8(ascii: "_") || (c >= 0x30 && c <= 0x39) || (c >= 0x41 && c <= 0x5a) || (c >= 0x61 && c <= 0x7a)
        }
        guard ok else { throw .invalidAllowList(entry: text, reason: "use only letters, digits, '_' and '*'") }
        if let first = text.utf8.first, first >= 0x30 && first <= 0x39 {
            throw .invalidAllowList(entry: text, reason: "a variable name cannot start with a digit")
        }
        self.text = text
    }

    public var isExact: Bool { !text.contains("*") }
    public var description: String { text }

    public func matches(_ name: String) -> Bool {
        if isExact { return name == text }
        return Self.glob(Array(text.utf8)[...], Array(name.utf8)[...])
    }

    /// Comma-separated entries (spaces around them ignored, empty ones skipped), as in
    /// `STOCKADE_ALLOWED_ENV="LC_*, TZ"`.
    public static func parseList(_ list: String) throws(UserDataError) -> [EnvironmentPattern] {
        var out: [EnvironmentPattern] = []
        for part in list.split(separator: ",", omittingEmptySubsequences: true) {
            let entry = String(part.drop { $0 == " " || $0 == "\t" }.reversed().drop { $0 == " " || $0 == "\t" }.reversed())
            if entry.isEmpty { continue }
            out.append(try EnvironmentPattern(entry))
        }
        return out
    }

    /// Iterative glob with backtracking over the last `*`.
    private static func glob(_ pattern: ArraySlice<UInt8>, _ name: ArraySlice<UInt8>) -> Bool {
        var p = pattern.startIndex, n = name.startIndex
        var star: Int? = nil, mark = name.startIndex
        let asterisk = UInt8(ascii: "*")
        while n < name.endIndex {
            if p < pattern.endIndex && pattern[p] == asterisk {
                star = p; mark = n; p += 1
            } else if p < pattern.endIndex && pattern[p] == name[n] {
                p += 1; n += 1
            } else if let s = star {
                p = s + 1; mark += 1; n = mark
            } else {
                return false
            }
        }
        while p < pattern.endIndex && pattern[p] == asterisk { p += 1 }
        return p == pattern.endIndex
    }
}
