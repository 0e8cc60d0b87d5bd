/// Resource bounds enforced by `JSONParser`.
public struct JSONLimits: Sendable, Hashable {
    /// Maximum nesting of arrays/objects. The parser recurses once per level,
    /// so this also bounds stack use; keep it in the hundreds.
    public var maxDepth: Int
    /// Maximum decoded UTF-8 length of any single string (values and keys).
    public var maxStringBytes: Int
    /// Maximum total number of values in the document (every array element
    /// and object member counts, at every level, plus the root).
    public var maxElements: Int

    public init(maxDepth: Int = 256, maxStringBytes: Int = 64 << 20, maxElements: Int = 1 << 20) {
        self.maxDepth = maxDepth
        self.maxStringBytes = maxStringBytes
        self.maxElements = maxElements
    }

    /// Depth 256, strings up to 64 MiB, up to 1,048,576 values.
    public static let `default` = JSONLimits()
}
