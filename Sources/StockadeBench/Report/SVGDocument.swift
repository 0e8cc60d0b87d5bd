/// A tiny SVG writer: self-contained documents built as text, every string escaped.
struct SVGDocument {
    static let fontFamily = "-apple-system, BlinkMacSystemFont, 'Segoe UI', Helvetica, Arial, sans-serif"

    /// Colours that read well on GitHub's light background.
    enum Ink {
        static let text = "#1f2328"
        static let muted = "#59636e"
        static let grid = "#d1d9e0"
        static let faintGrid = "#eef1f4"
        static let axis = "#818b98"
        static let stripe = "#f6f8fa"
        static let border = "#d1d9e0"
    }

    enum Anchor: String { case start, middle, end }

    let width: Double
    let height: Double
    let title: String
    let description: String
    private var elements: [String] = []

    init(width: Double, height: Double, title: String, description: String) {
        self.width = width
        self.height = height
        self.title = title
        self.description = description
    }

    // MARK: Elements

    mutating func rect(x: Double, y: Double, width: Double, height: Double, fill: String,
                       opacity: Double? = nil, stroke: String? = nil, strokeWidth: Double = 1, radius: Double = 0) {
        var a = "x=\"\(n(x))\" y=\"\(n(y))\" width=\"\(n(Swift.max(width, 0)))\" height=\"\(n(Swift.max(height, 0)))\" fill=\"\(attr(fill))\""
        if let opacity { a += " fill-opacity=\"\(n(opacity, 2))\"" }
        if let stroke { a += " stroke=\"\(attr(stroke))\" stroke-width=\"\(n(strokeWidth))\"" }
        if radius > 0 { a += " rx=\"\(n(radius))\"" }
        elements.append("<rect \(a)/>")
    }

    mutating func line(_ x1: Double, _ y1: Double, _ x2: Double, _ y2: Double, stroke: String,
                       width: Double = 1, opacity: Double? = nil, dash: String? = nil) {
        var a = "x1=\"\(n(x1))\" y1=\"\(n(y1))\" x2=\"\(n(x2))\" y2=\"\(n(y2))\" stroke=\"\(attr(stroke))\" stroke-width=\"\(n(width))\""
        if let opacity { a += " stroke-opacity=\"\(n(opacity, 2))\"" }
        if let dash { a += " stroke-dasharray=\"\(attr(dash))\"" }
        elements.append("<line \(a)/>")
    }

    mutating func circle(cx: Double, cy: Double, r: Double, fill: String, opacity: Double? = nil,
                         stroke: String? = nil, strokeWidth: Double = 1) {
        var a = "cx=\"\(n(cx))\" cy=\"\(n(cy))\" r=\"\(n(r))\" fill=\"\(attr(fill))\""
        if let opacity { a += " fill-opacity=\"\(n(opacity, 2))\"" }
        if let stroke { a += " stroke=\"\(attr(stroke))\" stroke-width=\"\(n(strokeWidth))\"" }
        elements.append("<circle \(a)/>")
    }

    mutating func polyline(_ points: [(Double, Double)], stroke: String, width: Double = 2, opacity: Double? = nil) {
        guard points.count >= 2 else { return }
        let p = points.map { "\(n($0.0)),\(n($0.1))" }.joined(separator: " ")
        var a = "points=\"\(p)\" fill=\"none\" stroke=\"\(attr(stroke))\" stroke-width=\"\(n(width))\" stroke-linejoin=\"round\" stroke-linecap=\"round\""
        if let opacity { a += " stroke-opacity=\"\(n(opacity, 2))\"" }
        elements.append("<polyline \(a)/>")
    }

    /// A closed polygon.
    mutating func polygon(_ points: [(Double, Double)], fill: String, fillOpacity: Double,
                          stroke: String? = nil, strokeOpacity: Double = 1) {
        guard points.count >= 3 else { return }
        let p = points.map { "\(n($0.0)),\(n($0.1))" }.joined(separator: " ")
        var a = "points=\"\(p)\" fill=\"\(attr(fill))\" fill-opacity=\"\(n(fillOpacity, 2))\""
        if let stroke { a += " stroke=\"\(attr(stroke))\" stroke-opacity=\"\(n(strokeOpacity, 2))\" stroke-width=\"1\" stroke-linejoin=\"round\"" }
        elements.append("<polygon \(a)/>")
    }

    mutating func text(_ content: String, x: Double, y: Double, size: Double = 12, anchor: Anchor = .start,
                       weight: String? = nil, fill: String = Ink.text, rotate: Double? = nil, italic: Bool = false,
                       halo: Bool = false) {
        var a = "x=\"\(n(x))\" y=\"\(n(y))\" font-size=\"\(n(size))\" fill=\"\(attr(fill))\""
        if anchor != .start { a += " text-anchor=\"\(anchor.rawValue)\"" }
        if let weight { a += " font-weight=\"\(attr(weight))\"" }
        if italic { a += " font-style=\"italic\"" }
        // A white outline under the glyphs keeps labels readable where they cross lines.
        if halo { a += " stroke=\"#ffffff\" stroke-width=\"3\" stroke-linejoin=\"round\" paint-order=\"stroke\"" }
        if let rotate { a += " transform=\"rotate(\(n(rotate)) \(n(x)) \(n(y)))\"" }
        elements.append("<text \(a)>\(SVGDocument.escape(SVGDocument.oneLine(content)))</text>")
    }

    /// A hover tooltip for the next group of elements (shown by browsers that open the SVG directly).
    mutating func group(tooltip: String, _ body: (inout SVGDocument) -> Void) {
        elements.append("<g><title>\(SVGDocument.escape(SVGDocument.oneLine(tooltip)))</title>")
        body(&self)
        elements.append("</g>")
    }

    /// The standard header: title and a muted subtitle.
    mutating func heading(_ title: String, subtitle: String?, x: Double = 20) {
        text(title, x: x, y: 28, size: 16, weight: "600")
        if let subtitle { text(subtitle, x: x, y: 47, size: 12, fill: Ink.muted) }
    }

    func render() -> String {
        var out = "<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n"
        out += "<svg xmlns=\"http://www.w3.org/2000/svg\" width=\"\(n(width))\" height=\"\(n(height))\" "
        out += "viewBox=\"0 0 \(n(width)) \(n(height))\" role=\"img\" font-family=\"\(attr(SVGDocument.fontFamily))\">\n"
        out += "<title>\(SVGDocument.escape(SVGDocument.oneLine(title)))</title>\n"
        out += "<desc>\(SVGDocument.escape(SVGDocument.oneLine(description)))</desc>\n"
        out += "<rect x=\"0.5\" y=\"0.5\" width=\"\(n(width - 1))\" height=\"\(n(height - 1))\" rx=\"6\" fill=\"#ffffff\" stroke=\"\(Ink.border)\"/>\n"
        for e in elements { out += e + "\n" }
        out += "</svg>\n"
        return out
    }

    // MARK: Escaping and numbers

    /// XML-escapes text and attribute values; drops characters XML 1.0 does not allow.
    static func escape(_ s: String) -> String {
        var out = ""
        out.reserveCapacity(s.utf8.count)
        for scalar in s.unicodeScalars {
            switch scalar {
            case "&": out += "&amp;"
            case "<": out += "&lt;"
            case ">": out += "&gt;"
            case "\"": out += "&quot;"
            case "'": out += "&apos;"
            case "\t", "\n", "\r": out.unicodeScalars.append(scalar)
            default:
                let v = scalar.value
                if v < 0x20 || (v >= 0xFFFE && v <= 0xFFFF) { continue }
                out.unicodeScalars.append(scalar)
            }
        }
        return out
    }

    static func oneLine(_ s: String) -> String {
        String(s.map { $0.isNewline || $0 == "\t" ? " " : $0 })
    }

    private func attr(_ s: String) -> String { SVGDocument.escape(s) }

    private func n(_ v: Double, _ digits: Int = 1) -> String {
        let r = fmt(v.isFinite ? v : 0, digits)
        // Trim trailing zeros: "12.0" -> "12".
        guard r.contains(".") else { return r }
        var t = Substring(r)
        while t.hasSuffix("0") { t = t.dropLast() }
        if t.hasSuffix(".") { t = t.dropLast() }
        return t == "-0" ? "0" : String(t)
    }

    /// Rough width of `text` in pixels at `size` (for layout; sans-serif averages ~0.58em).
    static func textWidth(_ text: String, size: Double) -> Double {
        var w = 0.0
        for ch in text {
            switch ch {
            case "i", "l", "j", "t", "f", ".", ",", ":", ";", "'", "|", "!", "(", ")", " ", "-", "/": w += 0.32
            case "m", "w", "M", "W", "@", "%": w += 0.85
            case "A"..."Z": w += 0.68
            default: w += 0.56
            }
        }
        return w * size
    }
}
