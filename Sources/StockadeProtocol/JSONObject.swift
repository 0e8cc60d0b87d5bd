/// An ordered collection of JSON object members.
///
/// - Members keep insertion order; the writer emits them in that order.
/// - Keys are unique. Assigning to an existing key replaces its value in
///   place (the member keeps its position); assigning `nil` removes it.
/// - Duplicate keys in parsed input: the **last value wins**, at the position
///   of the first occurrence (the same rule as repeated assignment).
/// - Equality and hashing ignore member order, as JSON object semantics do.
/// - Lookup is a linear scan for small objects; once an object holds more
///   than `indexThreshold` members a hash index is maintained alongside.
public struct JSONObject: Sendable {
    public typealias Element = (key: String, value: JSONValue)

    @usableFromInline
    struct Member: Sendable {
        @usableFromInline var key: String
        @usableFromInline var value: JSONValue

        @usableFromInline init(key: String, value: JSONValue) {
            self.key = key
            self.value = value
        }
    }

    /// Objects with more members than this get a key → position index.
    public static var indexThreshold: Int { 16 }

    @usableFromInline var members: [Member]
    @usableFromInline var index: [String: Int]?

    @inlinable
    public init() {
        members = []
        index = nil
    }

    /// Adopts members whose keys are already unique (used by the parser).
    /// `index`, when given, must map every key to its position.
    init(uniqueMembers: [Member], index: [String: Int]?) {
        self.members = uniqueMembers
        if uniqueMembers.count > Self.indexThreshold {
            if let index {
                self.index = index
            } else {
                var built = [String: Int](minimumCapacity: uniqueMembers.count)
                for i in uniqueMembers.indices { built[uniqueMembers[i].key] = i }
                self.index = built
            }
        } else {
            self.index = nil
        }
    }

    /// Builds an object from pairs in order; a repeated key keeps its first
    /// position and its last value.
    public init(_ pairs: [(String, JSONValue)]) {
        self.init()
        members.reserveCapacity(pairs.count)
        for (key, value) in pairs { self[key] = value }
    }

    public var count: Int { members.count }
    public var isEmpty: Bool { members.isEmpty }

    /// Keys in member order.
    public var keys: [String] { members.map(\.key) }

    /// Values in member order.
    public var values: [JSONValue] { members.map(\.value) }

    public mutating func reserveCapacity(_ n: Int) { members.reserveCapacity(n) }

    /// Position of `key` in member order, or `nil`.
    @usableFromInline
    func position(of key: String) -> Int? {
        if let index { return index[key] }
        for i in members.indices where members[i].key == key { return i }
        return nil
    }

    public func contains(key: String) -> Bool { position(of: key) != nil }

    public subscript(key: String) -> JSONValue? {
        get {
            guard let i = position(of: key) else { return nil }
            return members[i].value
        }
        set {
            if let newValue {
                setValue(newValue, forKey: key)
            } else {
                removeValue(forKey: key)
            }
        }
    }

    /// Replaces the value in place, or appends a new member.
    public mutating func setValue(_ value: JSONValue, forKey key: String) {
        if let i = position(of: key) {
            members[i].value = value
            return
        }
        members.append(Member(key: key, value: value))
        if index != nil {
            index?[key] = members.count - 1
        } else if members.count > Self.indexThreshold {
            rebuildIndex()
        }
    }

    /// Removes the member, returning its value.
    @discardableResult
    public mutating func removeValue(forKey key: String) -> JSONValue? {
        guard let i = position(of: key) else { return nil }
        let old = members.remove(at: i).value
        if members.count > Self.indexThreshold {
            rebuildIndex()
        } else {
            index = nil
        }
        return old
    }

    private mutating func rebuildIndex() {
        var built = [String: Int](minimumCapacity: members.count)
        for i in members.indices { built[members[i].key] = i }
        index = built
    }
}

extension JSONObject: Sequence {
    public struct Iterator: IteratorProtocol, Sendable {
        @usableFromInline var base: IndexingIterator<[Member]>

        @usableFromInline init(base: IndexingIterator<[Member]>) { self.base = base }

        @inlinable
        public mutating func next() -> Element? {
            guard let m = base.next() else { return nil }
            return (m.key, m.value)
        }
    }

    @inlinable
    public func makeIterator() -> Iterator { Iterator(base: members.makeIterator()) }

    @inlinable
    public var underestimatedCount: Int { members.count }
}

extension JSONObject: Hashable {
    public static func == (lhs: JSONObject, rhs: JSONObject) -> Bool {
        guard lhs.members.count == rhs.members.count else { return false }
        for i in lhs.members.indices {
            let l = lhs.members[i]
            let r = rhs.members[i]
            if l.key == r.key {
                if l.value != r.value { return false }
            } else {
                // Different order: fall back to keyed comparison.
                guard let rv = rhs[l.key], rv == l.value else { return false }
            }
        }
        return true
    }

    public func hash(into hasher: inout Hasher) {
        // Order-independent: combine per-member hashes commutatively.
        var sum = 0
        for m in members {
            var h = Hasher()
            h.combine(m.key)
            h.combine(m.value)
            sum = sum &+ h.finalize()
        }
        hasher.combine(members.count)
        hasher.combine(sum)
    }
}

extension JSONObject: ExpressibleByDictionaryLiteral {
    public init(dictionaryLiteral elements: (String, JSONValue)...) {
        self.init(elements)
    }
}

extension JSONObject: CustomStringConvertible {
    public var description: String { JSONWriter.string(.object(self)) }
}
