@testable import StockadeProtocol

/// Small deterministic PRNG (SplitMix64) so randomized tests are reproducible.
struct SplitMix64: RandomNumberGenerator {
    var state: UInt64

    init(seed: UInt64) { state = seed }

    mutating func next() -> UInt64 {
        state &+= 0x9E37_79B9_7F4A_7C15
        var z = state
        z = (z ^ (z >> 30)) &* 0xBF58_476D_1CE4_E5B9
        z = (z ^ (z >> 27)) &* 0x94D0_49BB_1331_11EB
        return z ^ (z >> 31)
    }

    mutating func below(_ n: Int) -> Int { Int(next() % UInt64(n)) }
    mutating func chance(_ percent: Int) -> Bool { below(100) < percent }
}

func bytes(_ s: String) -> [UInt8] { Array(s.utf8) }

/// Parses, returning the error instead of throwing.
func parseResult(_ input: [UInt8], limits: JSONLimits = .default) -> Result<JSONValue, JSONError> {
    Result { () throws(JSONError) in try JSONParser.parse(input, limits: limits) }
}

func parseError(_ input: [UInt8], limits: JSONLimits = .default) -> JSONError? {
    if case .failure(let e) = parseResult(input, limits: limits) { return e }
    return nil
}

func parseError(_ input: String, limits: JSONLimits = .default) -> JSONError? {
    parseError(bytes(input), limits: limits)
}

/// Stricter than `==`: doubles compare by bit pattern (so -0.0 ≠ 0.0) and
/// object members must be in the same order.
func identical(_ a: JSONValue, _ b: JSONValue) -> Bool {
    switch (a, b) {
    case (.null, .null): return true
    case (.bool(let x), .bool(let y)): return x == y
    case (.int(let x), .int(let y)): return x == y
    case (.double(let x), .double(let y)): return x.bitPattern == y.bitPattern
    case (.string(let x), .string(let y)): return Array(x.utf8) == Array(y.utf8)
    case (.array(let x), .array(let y)):
        return x.count == y.count && zip(x, y).allSatisfy { identical($0, $1) }
    case (.object(let x), .object(let y)):
        let xs = Array(x)
        let ys = Array(y)
        return xs.count == ys.count
            && zip(xs, ys).allSatisfy { $0.key == $1.key && identical($0.value, $1.value) }
    default: return false
    }
}

/// Random JSON values that exercise escaping, unicode and number edges.
struct RandomJSON {
    var rng: SplitMix64

    static let scalars: [Unicode.Scalar] = [
        "a", "z", "A", "0", " ", "\"", "\\", "/", "\n", "\r", "\t", "\u{8}", "\u{C}",
        "\u{0}", "\u{1}", "\u{1F}", "\u{7F}", "\u{80}", "é", "ß", "\u{7FF}", "\u{800}",
        "€", "\u{2028}", "\u{2029}", "\u{2027}", "\u{202A}", "\u{E2}", "\u{FEFF}", "\u{FFFD}", "\u{FFFF}", "中",
        "😀", "\u{10000}", "\u{10FFFF}", "\u{1F1E9}",
    ]

    static let doubles: [Double] = [
        0.0, -0.0, 0.1, 0.2, 0.3, 1.0, -1.0, 1.5, 100.0, 1e300, -1e300, 1e-300,
        .leastNonzeroMagnitude, .leastNormalMagnitude, .greatestFiniteMagnitude,
        -.greatestFiniteMagnitude, 9007199254740992.0, 9007199254740993.0,
        9223372036854775808.0, 123456789.123456789, 2.5e-8, 1e21, 1e22, 1e23,
    ]

    static let ints: [Int64] = [0, 1, -1, 9, 10, 99, 100, .max, .min, .max - 1, .min + 1, 1 << 53, -(1 << 53)]

    mutating func string() -> String {
        var s = ""
        let n = rng.below(12)
        for _ in 0..<n {
            if rng.chance(50) {
                s.unicodeScalars.append(Unicode.Scalar(UInt8(0x20 + rng.below(0x5F))))
            } else if rng.chance(80) {
                s.unicodeScalars.append(Self.scalars[rng.below(Self.scalars.count)])
            } else {
                // Any scalar value, skipping the surrogate range.
                var v = UInt32(truncatingIfNeeded: rng.next() % 0x110000)
                if v >= 0xD800 && v <= 0xDFFF { v = 0xE000 }
                if let u = Unicode.Scalar(v) { s.unicodeScalars.append(u) }
            }
        }
        return s
    }

    mutating func double() -> Double {
        switch rng.below(4) {
        case 0:
            return Self.doubles[rng.below(Self.doubles.count)]
        case 1:
            let d = Double(bitPattern: rng.next())
            return d.isFinite ? d : 0.5
        case 2:
            return Double(Int64(truncatingIfNeeded: rng.next()) % 100_000) / 100.0
        default:
            return Double(Int64(truncatingIfNeeded: rng.next()) % 1_000_000)  // integral
        }
    }

    mutating func int() -> Int64 {
        switch rng.below(3) {
        case 0: return Self.ints[rng.below(Self.ints.count)]
        case 1: return Int64(truncatingIfNeeded: rng.next())
        default: return Int64(rng.below(2000)) - 1000
        }
    }

    mutating func value(depth: Int = 0) -> JSONValue {
        let maxKind = depth >= 4 ? 5 : 7
        switch rng.below(maxKind) {
        case 0: return .null
        case 1: return .bool(rng.chance(50))
        case 2: return .int(int())
        case 3: return .double(double())
        case 4: return .string(string())
        case 5:
            var a: [JSONValue] = []
            for _ in 0..<rng.below(6) { a.append(value(depth: depth + 1)) }
            return .array(a)
        default:
            var o = JSONObject()
            let n = rng.chance(10) ? 20 + rng.below(10) : rng.below(6)
            for _ in 0..<n { o[string()] = value(depth: depth + 1) }
            return .object(o)
        }
    }
}
