import Testing
@testable import StockadeProtocol

@Suite struct JSONNumberTests {
    func parse(_ s: String) throws -> JSONValue { try JSONParser.parse(s) }

    @Test func integers() throws {
        #expect(try parse("0") == .int(0))
        #expect(try parse("7") == .int(7))
        #expect(try parse("-7") == .int(-7))
        #expect(try parse("1234567890123") == .int(1_234_567_890_123))
        #expect(try parse("9223372036854775807") == .int(.max))
        #expect(try parse("-9223372036854775808") == .int(.min))
        #expect(try parse("-9223372036854775807") == .int(.min + 1))
        #expect(try parse("1000000000000000000") == .int(1_000_000_000_000_000_000))
    }

    @Test func integerOverflowBecomesDouble() throws {
        #expect(try parse("9223372036854775808") == .double(9_223_372_036_854_775_808.0))
        #expect(try parse("-9223372036854775809") == .double(-9_223_372_036_854_775_809.0))
        #expect(try parse("18446744073709551616") == .double(18_446_744_073_709_551_616.0))
        #expect(try parse("99999999999999999999") == .double(1e20))
        #expect(try parse("123456789012345678901234567890") == .double(1.2345678901234568e29))
    }

    @Test func negativeZero() throws {
        let v = try parse("-0")
        #expect(v.doubleValue?.sign == .minus)
        #expect(v.doubleValue == 0)
        #expect(v.intValue == 0)
        guard case .double = v else {
            Issue.record("-0 should parse as a double to keep its sign")
            return
        }
        #expect(try parse("-0.0").doubleValue?.sign == .minus)
        #expect(try parse("0").doubleValue?.sign == .plus)
        #expect(try parse("-0e5").doubleValue?.sign == .minus)
        #expect(JSONWriter.string(.double(-0.0)) == "-0.0")
    }

    @Test func fractionsAndExponentsAreDoubles() throws {
        #expect(try parse("1.0") == .double(1.0))
        #expect(try parse("1e2") == .double(100))
        #expect(try parse("1E2") == .double(100))
        #expect(try parse("1e+2") == .double(100))
        #expect(try parse("1e-2") == .double(0.01))
        #expect(try parse("-2.5E-3") == .double(-0.0025))
        #expect(try parse("0.1") == .double(0.1))
        #expect(try parse("0e0") == .double(0))
        #expect(try parse("1e007") == .double(1e7))
    }

    @Test func correctlyRounded() throws {
        let samples = [
            "0.30000000000000004", "123.456e-5", "2.2250738585072014e-308", "2.2250738585072011e-308",
            "5e-324", "4.9406564584124654e-324", "1.7976931348623157e308", "9007199254740993",
            "9007199254740993.0", "0.1e1", "1234567890.0987654321", "3.141592653589793238462643383279",
            "1e22", "1e23", "8.98846567431158e307", "0.000000000000000000000000000001234",
            "12345678901234567890e-10", "7.2057594037927933e16", "1.00000000000000011102230246251565404236316680908203125",
            "100000000000000000000000000000000000000000000000000000000000000000000000000000e-50",
        ]
        for s in samples {
            let expected = try #require(Double(s))
            let got = try parse(s).doubleValue
            #expect(got?.bitPattern == expected.bitPattern, "\(s)")
        }
    }

    @Test func underflowIsZeroOverflowIsError() throws {
        #expect(try parse("1e-400") == .double(0))
        #expect(try parse("-1e-400").doubleValue?.sign == .minus)
        #expect(parseError("1e400")?.message == "number out of range")
        #expect(parseError("-1e400")?.message == "number out of range")
        #expect(parseError("1.7976931348623159e308")?.message == "number out of range")
        #expect(parseError("[1, 1" + String(repeating: "0", count: 400) + "]")?.offset == 4)
    }

    @Test func hugeExponentsDoNotOverflow() throws {
        #expect(parseError("1e99999999999999999999999999")?.message == "number out of range")
        #expect(try JSONParser.parse("1e-99999999999999999999999999") == .double(0))
        #expect(try JSONParser.parse("0e99999999999999999999999999") == .double(0))
    }

    @Test func writerNumbers() {
        #expect(JSONWriter.string(.int(0)) == "0")
        #expect(JSONWriter.string(.int(-5)) == "-5")
        #expect(JSONWriter.string(.int(10)) == "10")
        #expect(JSONWriter.string(.int(.max)) == "9223372036854775807")
        #expect(JSONWriter.string(.int(.min)) == "-9223372036854775808")
        #expect(JSONWriter.string(.double(1)) == "1.0")
        #expect(JSONWriter.string(.double(-3)) == "-3.0")
        #expect(JSONWriter.string(.double(0.1)) == "0.1")
        #expect(JSONWriter.string(.double(1e300)) == "1e+300")
        #expect(JSONWriter.string(.double(1e16)) == "1e+16")
        #expect(JSONWriter.string(.double(.leastNonzeroMagnitude)) == "5e-324")
        #expect(JSONWriter.string(.double(.nan)) == "null")
        #expect(JSONWriter.string(.double(.infinity)) == "null")
        #expect(JSONWriter.string(.double(-.infinity)) == "null")
        #expect(JSONWriter.string([.double(.nan), 1]) == "[null,1]")
    }

    @Test func integralDoublesStayDoubles() throws {
        for d in [1.0, -1.0, 0.0, 100.0, 1e15, 1e16, 9007199254740992.0, 1e300, -0.0, 123456789.0] {
            let back = try JSONParser.parse(JSONWriter.encode(.double(d)))
            #expect(identical(back, .double(d)), "\(d)")
        }
    }

    @Test func accessorsConvert() {
        #expect(JSONValue.double(3.0).intValue == 3)
        #expect(JSONValue.double(3.5).intValue == nil)
        #expect(JSONValue.double(1e30).intValue == nil)
        #expect(JSONValue.int(3).doubleValue == 3.0)
        #expect(JSONValue.string("3").intValue == nil)
    }
}
