import Glibc

/// A linear scale with "nice" round ticks.
struct LinearScale {
    private(set) var lower: Double
    private(set) var upper: Double
    let rangeStart: Double
    let rangeEnd: Double
    private(set) var step: Double

    /// Extends `lower...upper` to round ticks (about `tickCount` of them).
    init(lower: Double, upper: Double, rangeStart: Double, rangeEnd: Double, tickCount: Int = 5) {
        var lo = lower.isFinite ? lower : 0
        var hi = upper.isFinite ? upper : 1
        if hi < lo { swap(&lo, &hi) }
        if hi - lo < 1e-12 { hi = lo == 0 ? 1 : lo + abs(lo) * 0.5 }
        let s = LinearScale.niceStep((hi - lo) / Double(Swift.max(tickCount, 1)))
        self.lower = (lo / s).rounded(.down) * s
        self.upper = (hi / s).rounded(.up) * s
        self.step = s
        self.rangeStart = rangeStart
        self.rangeEnd = rangeEnd
    }

    func callAsFunction(_ v: Double) -> Double {
        rangeStart + (v - lower) / (upper - lower) * (rangeEnd - rangeStart)
    }

    var ticks: [Double] {
        var out: [Double] = []
        var i = 0.0
        while true {
            let t = lower + i * step
            if t > upper + step * 1e-6 || out.count > 50 { break }
            out.append(abs(t) < step * 1e-9 ? 0 : t)
            i += 1
        }
        return out
    }

    static func niceStep(_ raw: Double) -> Double {
        guard raw > 0, raw.isFinite else { return 1 }
        let magnitude = pow(10, (log10(raw)).rounded(.down))
        for m in [1.0, 2.0, 2.5, 5.0, 10.0] where m * magnitude >= raw { return m * magnitude }
        return 10 * magnitude
    }
}

/// A base-10 logarithmic scale whose ends sit on round ticks.
struct LogScale {
    private(set) var lower: Double
    private(set) var upper: Double
    let rangeStart: Double
    let rangeEnd: Double
    /// Mantissas that get a labelled tick (e.g. [1, 2, 5]).
    private(set) var mantissas: [Double]

    init(lower: Double, upper: Double, rangeStart: Double, rangeEnd: Double) {
        var lo = lower > 0 && lower.isFinite ? lower : 0.001
        var hi = upper > 0 && upper.isFinite ? upper : lo * 10
        if hi < lo { swap(&lo, &hi) }
        if hi / lo < 1.000001 { hi = lo * 1.5 }
        let decades = log10(hi / lo)
        let mantissas: [Double]
        if decades > 3.5 { mantissas = [1] } else if decades > 1.2 { mantissas = [1, 2, 5] } else if decades > 0.5 { mantissas = [1, 1.5, 2, 3, 5, 7] } else { mantissas = [1, 1.2, 1.5, 2, 2.5, 3, 4, 5, 6, 7, 8, 9] }
        self.mantissas = mantissas
        self.lower = LogScale.roundDown(lo, mantissas)
        self.upper = LogScale.roundUp(hi, mantissas)
        self.rangeStart = rangeStart
        self.rangeEnd = rangeEnd
    }

    func callAsFunction(_ v: Double) -> Double {
        let x = Swift.min(Swift.max(v, lower * 1e-3), upper * 1e3)
        return rangeStart + (log10(x) - log10(lower)) / (log10(upper) - log10(lower)) * (rangeEnd - rangeStart)
    }

    /// Labelled ticks.
    var ticks: [Double] { LogScale.candidates(lower, upper, mantissas) }

    /// Unlabelled minor gridlines, when the labelled ticks are only powers of ten.
    var minorTicks: [Double] {
        guard mantissas == [1] else { return [] }
        return LogScale.candidates(lower, upper, [2, 3, 4, 5, 6, 7, 8, 9])
    }

    static func candidates(_ lo: Double, _ hi: Double, _ mantissas: [Double]) -> [Double] {
        var out: [Double] = []
        var e = (log10(lo)).rounded(.down) - 1
        while e <= (log10(hi)).rounded(.up) + 1 {
            for m in mantissas {
                let v = clean(m * pow(10, e))
                if v >= lo * 0.999999 && v <= hi * 1.000001 { out.append(v) }
            }
            e += 1
        }
        return out
    }

    static func roundDown(_ v: Double, _ mantissas: [Double]) -> Double {
        var e = (log10(v)).rounded(.down)
        while true {
            for m in mantissas.reversed() where clean(m * pow(10, e)) <= v * 1.000001 { return clean(m * pow(10, e)) }
            e -= 1
        }
    }

    static func roundUp(_ v: Double, _ mantissas: [Double]) -> Double {
        var e = (log10(v)).rounded(.down)
        while true {
            for m in mantissas where clean(m * pow(10, e)) >= v * 0.999999 { return clean(m * pow(10, e)) }
            e += 1
        }
    }

    /// 0.30000000000000004 -> 0.3 (to 12 significant digits).
    static func clean(_ v: Double) -> Double {
        guard v > 0 else { return v }
        let e = (log10(v)).rounded(.down)
        let scale = pow(10, 11 - e)
        return (v * scale).rounded() / scale
    }
}

/// Number formatting for the report (no Foundation).
enum ReportFormat {
    /// Three significant digits: 123, 12.3, 1.23, 0.123, 0.0123.
    static func sig(_ v: Double) -> String {
        guard v.isFinite else { return "-" }
        let a = abs(v)
        if a >= 100 { return fmt(v, 0) }
        if a >= 10 { return fmt(v, 1) }
        if a >= 1 || a == 0 { return fmt(v, 2) }
        let digits = Swift.min(8, Int(-(log10(a)).rounded(.down)) + 2)
        return fmt(v, digits)
    }

    static func ms(_ v: Double) -> String { sig(v) + " ms" }

    /// A tick label: as few decimals as the value needs.
    static func tick(_ v: Double) -> String {
        guard v.isFinite else { return "-" }
        if v == 0 { return "0" }
        for digits in 0...8 {
            let s = fmt(v, digits)
            var scale = 1.0
            for _ in 0..<digits { scale *= 10 }
            if abs((v * scale).rounded() / scale - v) <= abs(v) * 1e-9 { return s }
        }
        return fmt(v, 8)
    }

    /// Compact label for big numbers, three significant digits: 1500 -> 1.5k, 12345 -> 12.3k, 578.1 -> 578.
    static func compact(_ v: Double) -> String {
        let a = abs(v)
        if a >= 1_000_000 { return trimZeros(sig(v / 1_000_000)) + "M" }
        if a >= 1000 { return trimZeros(sig(v / 1000)) + "k" }
        return trimZeros(sig(v))
    }

    /// "2.50" -> "2.5", "3.00" -> "3".
    static func trimZeros(_ s: String) -> String {
        guard s.contains(".") else { return s }
        var t = Substring(s)
        while t.hasSuffix("0") { t = t.dropLast() }
        if t.hasSuffix(".") { t = t.dropLast() }
        return String(t)
    }

    /// 12345.6 -> "12,346".
    static func thousands(_ v: Double) -> String {
        guard v.isFinite else { return "-" }
        let whole = Int(v.rounded())
        let digits = String(abs(whole))
        var out = ""
        for (i, ch) in digits.enumerated() {
            if i > 0 && (digits.count - i) % 3 == 0 { out.append(",") }
            out.append(ch)
        }
        return whole < 0 ? "-" + out : out
    }

    /// A ratio as "2.6x", "0.4x", "0.13x", "12x".
    static func ratio(_ r: Double) -> String {
        guard r.isFinite else { return "-" }
        if r >= 9.95 { return fmt(r, 0) + "x" }
        if r >= 0.995 { return fmt(r, 1) + "x" }
        if r >= 0.01 { return trimZeros(fmt(r, 2)) + "x" }
        return trimZeros(fmt(r, 3)) + "x"
    }

    static func mib(_ bytes: UInt64) -> Double { Double(bytes) / 1_048_576 }
}
