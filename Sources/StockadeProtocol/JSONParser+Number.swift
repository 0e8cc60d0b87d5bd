// Number scanning: strict RFC 8259 grammar, Int64 when exact, else Double.

extension JSONParseState {
    /// Exact powers of ten representable as Double (Clinger's fast path).
    static let exactPowersOfTen: [Double] = [
        1e0, 1e1, 1e2, 1e3, 1e4, 1e5, 1e6, 1e7, 1e8, 1e9, 1e10, 1e11,
        1e12, 1e13, 1e14, 1e15, 1e16, 1e17, 1e18, 1e19, 1e20, 1e21, 1e22,
    ]

    @inline(__always)
    func digit(at i: Int) -> UInt8? {
        guard i < end else { return nil }
        let d = input[i] &- ASCII.zero
        return d <= 9 ? d : nil
    }

    mutating func parseNumber() throws(JSONError) -> JSONValue {
        let start = pos
        var negative = false
        if input[pos] == ASCII.minus {
            negative = true
            pos += 1
        }
        guard digit(at: pos) != nil else {
            if pos >= end { throw fail(pos, "unexpected end of input in number") }
            throw fail(pos, "expected digit after '-', found \(JSONError.describe(byte: input[pos]))")
        }

        // Up to 19 significant decimal digits are kept exactly in `mantissa`;
        // the value is mantissa * 10^exponent (+ dropped digits if `inexact`).
        var mantissa: UInt64 = 0
        var significant = 0
        var inexact = false
        var exponent = 0
        var isInteger = true

        if input[pos] == ASCII.zero {
            pos += 1
            if digit(at: pos) != nil { throw fail(start, "leading zeros are not allowed in numbers") }
        } else {
            while let d = digit(at: pos) {
                if significant < 19 {
                    mantissa = mantissa &* 10 &+ UInt64(d)
                    significant += 1
                } else {
                    if d != 0 { inexact = true }
                    exponent += 1
                }
                pos += 1
            }
        }

        if pos < end && input[pos] == ASCII.dot {
            isInteger = false
            pos += 1
            guard digit(at: pos) != nil else {
                throw fail(pos, "expected digit after decimal point")
            }
            while let d = digit(at: pos) {
                if significant < 19 {
                    mantissa = mantissa &* 10 &+ UInt64(d)
                    if mantissa != 0 { significant += 1 }
                    exponent -= 1
                } else if d != 0 {
                    inexact = true
                }
                pos += 1
            }
        }

        if pos < end && (input[pos] == ASCII.lowerE || input[pos] == ASCII.upperE) {
            isInteger = false
            pos += 1
            var exponentNegative = false
            if pos < end && (input[pos] == ASCII.plus || input[pos] == ASCII.minus) {
                exponentNegative = input[pos] == ASCII.minus
                pos += 1
            }
            guard digit(at: pos) != nil else { throw fail(pos, "expected digit in exponent") }
            var e = 0
            while let d = digit(at: pos) {
                if e < 1_000_000 { e = e * 10 + Int(d) }
                pos += 1
            }
            exponent += exponentNegative ? -e : e
        }

        if isInteger && !inexact && exponent == 0 {
            if negative {
                if mantissa == 0 { return .double(-0.0) }
                if mantissa <= UInt64(Int64.max) { return .int(-Int64(mantissa)) }
                if mantissa == UInt64(Int64.max) + 1 { return .int(.min) }
            } else if mantissa <= UInt64(Int64.max) {
                return .int(Int64(mantissa))
            }
        }

        if !inexact {
            if mantissa == 0 { return .double(negative ? -0.0 : 0.0) }
            if mantissa <= 1 << 53 && exponent >= -22 && exponent <= 22 {
                var d = Double(mantissa)
                if exponent < 0 {
                    d /= Self.exactPowersOfTen[-exponent]
                } else {
                    d *= Self.exactPowersOfTen[exponent]
                }
                return .double(negative ? -d : d)
            }
        }

        // Slow path: correctly rounded conversion of the validated text.
        let text = String(decoding: UnsafeBufferPointer(rebasing: input[start..<pos]), as: UTF8.self)
        guard let d = Double(text), d.isFinite else {
            throw fail(start, "number out of range")
        }
        return .double(d)
    }
}
