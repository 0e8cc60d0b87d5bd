import Testing
@testable import StockadeProtocol

@Suite struct JSONObjectTests {
    @Test func orderedInsertReplaceRemove() {
        var o = JSONObject()
        #expect(o.isEmpty)
        o["b"] = 1
        o["a"] = 2
        o["c"] = 3
        #expect(o.keys == ["b", "a", "c"])
        o["a"] = "replaced"
        #expect(o.keys == ["b", "a", "c"])
        #expect(o["a"] == "replaced")
        o["b"] = nil
        #expect(o.keys == ["a", "c"])
        #expect(o.count == 2)
        #expect(o["b"] == nil)
        #expect(o.removeValue(forKey: "c") == 3)
        #expect(o.removeValue(forKey: "c") == nil)
        #expect(o.values == ["replaced"])
        #expect(o.contains(key: "a"))
        #expect(!o.contains(key: "zz"))
    }

    @Test func nullValueIsNotRemoval() {
        var o = JSONObject()
        o["x"] = .null
        #expect(o.count == 1)
        #expect(o["x"] == .null)
        #expect(JSONWriter.string(.object(o)) == #"{"x":null}"#)
    }

    @Test func pairsInitializer() {
        let o = JSONObject([("a", 1), ("b", 2), ("a", 3)])
        #expect(o.keys == ["a", "b"])
        #expect(o["a"] == 3)
        let lit: JSONObject = ["x": 1, "y": [true]]
        #expect(lit.keys == ["x", "y"])
    }

    @Test func sequenceIteration() {
        let o: JSONObject = ["a": 1, "b": 2, "c": 3]
        var seen: [String] = []
        var sum: Int64 = 0
        for (key, value) in o {
            seen.append(key)
            sum += value.intValue ?? 0
        }
        #expect(seen == ["a", "b", "c"])
        #expect(sum == 6)
        #expect(o.map(\.key) == ["a", "b", "c"])
    }

    @Test func largeObjectsStayConsistent() {
        var o = JSONObject()
        var model: [String: Int64] = [:]
        var order: [String] = []
        var rng = SplitMix64(seed: 42)
        for step in 0..<5000 {
            let key = "k\(rng.below(60))"
            if rng.chance(30) {
                o[key] = nil
                model[key] = nil
                order.removeAll { $0 == key }
            } else {
                o[key] = .int(Int64(step))
                if model[key] == nil { order.append(key) }
                model[key] = Int64(step)
            }
            if step % 97 == 0 {
                #expect(o.keys == order)
                for k in 0..<60 {
                    let key = "k\(k)"
                    #expect(o[key]?.intValue == model[key])
                }
            }
        }
        #expect(o.count == model.count)
    }

    @Test func equalityIgnoresOrderHashMatches() {
        let a: JSONObject = ["x": 1, "y": [1, 2], "z": ["n": nil]]
        let b: JSONObject = ["z": ["n": nil], "x": 1, "y": [1, 2]]
        let c: JSONObject = ["x": 1, "y": [2, 1], "z": ["n": nil]]
        let d: JSONObject = ["x": 1, "y": [1, 2]]
        #expect(a == b)
        #expect(a.hashValue == b.hashValue)
        #expect(a != c)
        #expect(a != d)
        #expect(Set<JSONValue>([.object(a), .object(b), .object(c)]).count == 2)
        #expect(JSONValue.object(a) == .object(b))
    }

    @Test func equalityLargeObjectsDifferentOrder() {
        var a = JSONObject()
        var b = JSONObject()
        for i in 0..<40 { a["k\(i)"] = .int(Int64(i)) }
        for i in (0..<40).reversed() { b["k\(i)"] = .int(Int64(i)) }
        #expect(a == b)
        #expect(a.hashValue == b.hashValue)
        b["k7"] = "other"
        #expect(a != b)
    }

    @Test func valueAccessors() {
        let v: JSONValue = ["s": "str", "i": 5, "d": 2.5, "b": true, "a": [1, 2], "o": ["k": nil], "n": nil]
        #expect(v["s"]?.stringValue == "str")
        #expect(v["i"]?.intValue == 5)
        #expect(v["d"]?.doubleValue == 2.5)
        #expect(v["b"]?.boolValue == true)
        #expect(v["a"]?.arrayValue?.count == 2)
        #expect(v["a"]?[1] == 2)
        #expect(v["a"]?[2] == nil)
        #expect(v["a"]?[-1] == nil)
        #expect(v["o"]?.objectValue?.keys == ["k"])
        #expect(v["o"]?["k"]?.isNull == true)
        #expect(v["n"]?.isNull == true)
        #expect(v["missing"] == nil)
        #expect(v["s"]?["x"] == nil)
        #expect(v[0] == nil)
        #expect(v["s"]?.intValue == nil)
        #expect(v["i"]?.stringValue == nil)
        #expect(v["b"]?.isNull == false)
        #expect(JSONValue.int(1) != JSONValue.double(1))
    }
}
