import Testing
@testable import StockadeProtocol

/// The word-at-a-time scanners must agree with a naive byte loop.
@Suite struct ByteScanTests {
    static let interesting: [UInt8] = [0x00, 0x01, 0x0A, 0x0D, 0x1F, 0x20, 0x21, 0x22, 0x23, 0x5B, 0x5C, 0x5D,
                                       0x7E, 0x7F, 0x80, 0x81, 0xA8, 0xC3, 0xE1, 0xE2, 0xE3, 0xFE, 0xFF, 0x41]

    @Test func agreesWithNaiveScan() {
        var rng = SplitMix64(seed: 3)
        for _ in 0..<3000 {
            let n = rng.below(40)
            var buf: [UInt8] = []
            for _ in 0..<n {
                buf.append(rng.chance(85) ? UInt8(0x41 + rng.below(26)) : Self.interesting[rng.below(Self.interesting.count)])
            }
            let from = n == 0 ? 0 : rng.below(n + 1)
            buf.withUnsafeBufferPointer { p in
                guard let base = p.baseAddress else { return }
                let naiveNL = (from..<n).first { buf[$0] == 0x0A } ?? n
                #expect(ByteScan.firstIndex(of: 0x0A, in: base, from: from, to: n) == naiveNL)
                let naiveString = (from..<n).first { buf[$0] == 0x22 || buf[$0] == 0x5C || buf[$0] < 0x20 || buf[$0] >= 0x80 } ?? n
                #expect(ByteScan.firstStringSpecial(in: base, from: from, to: n) == naiveString)
                let naiveEscape = (from..<n).first { buf[$0] == 0x22 || buf[$0] == 0x5C || buf[$0] < 0x20 || buf[$0] == 0xE2 } ?? n
                #expect(ByteScan.firstEscapeCandidate(in: base, from: from, to: n) == naiveEscape)
            }
        }
    }

    @Test func everyBytePositionAndValue() {
        for value in 0...255 {
            for position in 0..<17 {
                var buf = [UInt8](repeating: 0x61, count: 17)
                buf[position] = UInt8(value)
                buf.withUnsafeBufferPointer { p in
                    guard let base = p.baseAddress else { return }
                    let v = UInt8(value)
                    let stringSpecial = v == 0x22 || v == 0x5C || v < 0x20 || v >= 0x80
                    #expect(ByteScan.firstStringSpecial(in: base, from: 0, to: 17) == (stringSpecial ? position : 17))
                    let escape = v == 0x22 || v == 0x5C || v < 0x20 || v == 0xE2
                    #expect(ByteScan.firstEscapeCandidate(in: base, from: 0, to: 17) == (escape ? position : 17))
                    #expect(ByteScan.firstIndex(of: 0x0A, in: base, from: 0, to: 17) == (v == 0x0A ? position : 17))
                }
            }
        }
    }
}
