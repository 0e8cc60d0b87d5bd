/// A JSON document node.
///
/// Numbers written without a fraction or exponent that fit in `Int64` are
/// `.int`; every other number is `.double`. The single exception is `-0`,
/// which parses as `.double(-0.0)` so the sign survives a round trip.
///
/// Equality is structural with one deliberate choice: `.int(1)` and
/// `.double(1.0)` are *different* values (the kind is part of the value).
/// Object equality ignores member order (see `JSONObject`).
public enum JSONValue: Sendable, Hashable {
    case null
    case bool(Bool)
    case int(Int64)
    case double(Double)
    case string(String)
    case array([JSONValue])
    case object(JSONObject)
}

extension JSONValue {
    /// Member lookup when `self` is an object; `nil` otherwise or when absent.
    @inlinable
    public subscript(key: String) -> JSONValue? {
        if case .object(let object) = self { return object[key] }
        return nil
    }

    /// Element lookup when `self` is an array and `index` is in range.
    @inlinable
    public subscript(index: Int) -> JSONValue? {
        if case .array(let elements) = self, elements.indices.contains(index) {
            return elements[index]
        }
        return nil
    }

    @inlinable
    public var stringValue: String? {
        if case .string(let s) = self { return s }
        return nil
    }

    /// The integer, also from a `.double` that is integral and in `Int64` range.
    @inlinable
    public var intValue: Int64? {
        switch self {
        case .int(let i): return i
        case .double(let d):
            // Range check then truncating conversion (avoids libm's `trunc`,
            // which a static worker need not link).
            guard d >= -0x1p63 && d < 0x1p63 else { return nil }
            let i = Int64(d)
            return Double(i) == d ? i : nil
        default: return nil
        }
    }

    /// The number as a `Double`, also from an `.int` (possibly rounded).
    @inlinable
    public var doubleValue: Double? {
        switch self {
        case .double(let d): return d
        case .int(let i): return Double(i)
        default: return nil
        }
    }

    @inlinable
    public var boolValue: Bool? {
        if case .bool(let b) = self { return b }
        return nil
    }

    @inlinable
    public var arrayValue: [JSONValue]? {
        if case .array(let a) = self { return a }
        return nil
    }

    @inlinable
    public var objectValue: JSONObject? {
        if case .object(let o) = self { return o }
        return nil
    }

    @inlinable
    public var isNull: Bool {
        if case .null = self { return true }
        return false
    }
}

extension JSONValue: CustomStringConvertible {
    /// The compact JSON encoding of the value.
    public var description: String { JSONWriter.string(self) }
}
