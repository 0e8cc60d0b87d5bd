/// A JSON-RPC 2.0 request id: a string or an integer.
///
/// A JSON `null` id (allowed only in error responses to unidentifiable
/// requests) is modelled as `RPCID?` being `nil`.
public enum RPCID: Sendable, Hashable, CustomStringConvertible {
    case string(String)
    case int(Int64)

    /// The id for a JSON string or integer; `nil` for anything else
    /// (including `null` and non-integral or out-of-range numbers).
    public init?(_ json: JSONValue) {
        switch json {
        case .string(let s): self = .string(s)
        case .int(let i): self = .int(i)
        default: return nil
        }
    }

    public var jsonValue: JSONValue {
        switch self {
        case .string(let s): return .string(s)
        case .int(let i): return .int(i)
        }
    }

    /// JSON form: `42` or `"abc"` (quoted, so the two kinds stay distinct).
    public var description: String { JSONWriter.string(jsonValue) }

    public func write(into buffer: inout [UInt8]) {
        switch self {
        case .string(let s): JSONWriter.writeString(s, into: &buffer)
        case .int(let i): JSONWriter.writeInt(i, into: &buffer)
        }
    }
}

extension RPCID: ExpressibleByIntegerLiteral, ExpressibleByStringLiteral {
    public init(integerLiteral value: Int64) { self = .int(value) }
    public init(stringLiteral value: String) { self = .string(value) }
}
