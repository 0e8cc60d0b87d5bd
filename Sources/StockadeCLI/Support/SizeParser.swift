/// "64M", "1G", "512k", "1048576" → bytes (binary units). Used by --memory, --fsize, --tmpfs.
enum SizeParser {
    static func bytes(_ text: String) -> UInt64? {
        var digits = text.lowercased()
        var multiplier: UInt64 = 1
        let units: [(String, UInt64)] = [("kib", 1 << 10), ("mib", 1 << 20), ("gib", 1 << 30),
                                         ("kb", 1 << 10), ("mb", 1 << 20), ("gb", 1 << 30),
                                         ("k", 1 << 10), ("m", 1 << 20), ("g", 1 << 30), ("b", 1)]
        for (suffix, mult) in units {
            if digits.hasSuffix(suffix) {
                digits.removeLast(suffix.count)
                multiplier = mult
                break
            }
        }
        guard let n = UInt64(digits), n > 0 else { return nil }
        let (v, overflow) = n.multipliedReportingOverflow(by: multiplier)
        return overflow ? nil : v
    }
}
