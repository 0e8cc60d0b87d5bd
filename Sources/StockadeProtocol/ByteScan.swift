/// Word-at-a-time (SWAR) byte searches used on the hot paths: newline
/// splitting, string scanning while parsing, and escape detection while
/// writing. Each returns the first matching index, or `end` when none.
///
/// The subtraction tricks can flag false positives only *above* a true
/// match inside a word, so the lowest flagged byte is always exact.
enum ByteScan {
    static var ones: UInt64 { 0x0101_0101_0101_0101 }
    static var highBits: UInt64 { 0x8080_8080_8080_8080 }

    /// High bit set in each byte of `x` that is zero (exact for the lowest).
    @inline(__always)
    static func zeroBytes(_ x: UInt64) -> UInt64 { (x &- ones) & ~x & highBits }

    /// High bit set in each byte of `x` that is below `n` (n <= 128).
    @inline(__always)
    static func bytesBelow(_ x: UInt64, _ n: UInt8) -> UInt64 { (x &- ones &* UInt64(n)) & ~x & highBits }

    @inline(__always)
    static func splat(_ b: UInt8) -> UInt64 { ones &* UInt64(b) }

    @inline(__always)
    static func load(_ base: UnsafePointer<UInt8>, _ i: Int) -> UInt64 {
        UInt64(littleEndian: UnsafeRawPointer(base + i).loadUnaligned(as: UInt64.self))
    }

    /// First index in `start..<end` holding `byte`.
    static func firstIndex(of byte: UInt8, in base: UnsafePointer<UInt8>, from start: Int, to end: Int) -> Int {
        var i = start
        let pattern = splat(byte)
        while end - i >= 8 {
            let m = zeroBytes(load(base, i) ^ pattern)
            if m != 0 { return i + m.trailingZeroBitCount >> 3 }
            i += 8
        }
        while i < end && base[i] != byte { i += 1 }
        return i
    }

    /// First byte that ends a plain run inside a JSON string being parsed:
    /// `"`, `\`, a control character (< 0x20) or a non-ASCII byte.
    static func firstStringSpecial(in base: UnsafePointer<UInt8>, from start: Int, to end: Int) -> Int {
        var i = start
        let quotes = splat(0x22)
        let backslashes = splat(0x5C)
        while end - i >= 8 {
            let w = load(base, i)
            let m = zeroBytes(w ^ quotes) | zeroBytes(w ^ backslashes) | bytesBelow(w, 0x20) | (w & highBits)
            if m != 0 { return i + m.trailingZeroBitCount >> 3 }
            i += 8
        }
        while i < end {
            let b = base[i]
            if b == 0x22 || b == 0x5C || b < 0x20 || b >= 0x80 { return i }
            i += 1
        }
        return i
    }

    /// First byte the writer may need to escape: `"`, `\`, a control
    /// character, or 0xE2 (lead byte of U+2028/U+2029).
    static func firstEscapeCandidate(in base: UnsafePointer<UInt8>, from start: Int, to end: Int) -> Int {
        var i = start
        let quotes = splat(0x22)
        let backslashes = splat(0x5C)
        let e2 = splat(0xE2)
        while end - i >= 8 {
            let w = load(base, i)
            let m = zeroBytes(w ^ quotes) | zeroBytes(w ^ backslashes) | zeroBytes(w ^ e2) | bytesBelow(w, 0x20)
            if m != 0 { return i + m.trailingZeroBitCount >> 3 }
            i += 8
        }
        while i < end {
            let b = base[i]
            if b == 0x22 || b == 0x5C || b < 0x20 || b == 0xE2 { return i }
            i += 1
        }
        return i
    }
}
